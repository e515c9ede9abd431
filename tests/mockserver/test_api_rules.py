"""Each rule of the guide and each decision of the spec, through the real mock
on a real port. Responses are also checked against the spec by openapi-core
(see tests/spec_check.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dentare_spec import load_spec
from tests.support import SPEC_PATH

SPEC = load_spec(SPEC_PATH)
EXPANSION = tuple(SPEC.schema("ExpansionField")["enum"])
JSON = {"Content-Type": "application/json"}
AB = {"first_name": "A", "last_name": "B"}


def create(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Test", "last_name": "Patient", **fields}
    response = client.post("/patients", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["data"]]


# -- authentication ---------------------------------------------------------------------------

OPERATIONS = [(op.method, op.path.replace("{id}", "4821")) for op in SPEC.operations]
BAD_AUTHORIZATION = {
    "missing": None,
    "lower-case scheme": "bearer {token}",
    "other scheme": "Token {token}",
    "no space": "Bearer{token}",
    "two spaces": "Bearer  {token}",
    "just Bearer": "Bearer",
    "unknown token": "Bearer dnt_unknownunknownunknownunknown",
}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("case", BAD_AUTHORIZATION)
def test_bad_authorization_is_401_without_data(api: Any, tokens: Any, method: str, path: str, case: str) -> None:
    template = BAD_AUTHORIZATION[case]
    client = api(account=None)
    headers = {} if template is None else {"Authorization": template.format(token=tokens[1].token)}
    response = client.request(method, path, headers=headers, json={"first_name": "X", "last_name": "Y"})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_revoked_token_is_401(api: Any, tokens: Any, method: str, path: str) -> None:
    response = api(token=tokens[1].revoked[0]).request(method, path, json={"first_name": "X", "last_name": "Y"})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}


# What else is wrong with a request whose token is refused: the token answers first (the
# PostgreSQL store checks a token inside the statement that reads or writes, so each of
# these stops before that statement).
REFUSED_FIRST = {
    "bad path id": ("GET", "/patients/abc", {}),
    "bad query": ("GET", "/patients?per_page=abc", {}),
    "page past the end": ("GET", "/patients?page=999", {}),
    "no match": ("GET", "/patients?q=zzzzqqqqxxxx", {}),
    "bad JSON": ("POST", "/patients", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
    "not JSON": ("POST", "/patients", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
    "invalid body": ("POST", "/patients", {"json": {"first_name": 7}}),
    "patch, invalid body": ("PATCH", "/patients/{id}", {"json": {"is_active": "no"}}),
}


@pytest.mark.parametrize("refused", ["unknown", "revoked"])
@pytest.mark.parametrize("case", REFUSED_FIRST)
def test_a_refused_token_answers_401_before_anything_else(api: Any, tokens: Any, refused: str, case: str) -> None:
    method, path, extra = REFUSED_FIRST[case]
    patient_id = api().get("/patients?per_page=1").json()["data"][0]["id"]
    token = tokens[1].revoked[0] if refused == "revoked" else "dnt_unknownunknownunknownunknown"
    response = api(token=token).request(method, path.format(id=patient_id), **extra)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "Unauthorized"}


def test_me_is_the_token_owner(api: Any) -> None:
    for account in (1, 2):
        me = api(account=account).get("/me.json").json()
        assert set(me) == {"id", "name", "avatar_url", "sgid"}
    assert api(account=1).get("/me.json").json()["id"] == 1
    assert api(account=1).get("/me.json").json()["id"] != api(account=2).get("/me.json").json()["id"]


# -- pagination -------------------------------------------------------------------------------


def test_default_page_is_20_in_ascending_id_order(api: Any) -> None:
    body = api(account=1).get("/patients").json()
    assert body["meta"]["page"] == 1 and body["meta"]["per_page"] == 20
    found = [p["id"] for p in body["data"]]
    assert len(found) == min(20, body["meta"]["total"]) and found == sorted(found)


def test_walking_pages_yields_each_patient_once(api: Any) -> None:
    client = api(account=1)
    total = client.get("/patients").json()["meta"]["total"]
    seen: list[int] = []
    for page in range(1, total // 7 + 3):
        seen += ids(client.get(f"/patients?page={page}&per_page=7"))
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)
    past_end = client.get(f"/patients?page={total // 7 + 5}&per_page=7").json()
    assert past_end["data"] == [] and past_end["meta"]["total"] == total


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "must be greater than or equal to 1"),
        ("page=-1", "page", "must be greater than or equal to 1"),
        ("per_page=0", "per_page", "must be greater than or equal to 1"),
        ("per_page=101", "per_page", "must be less than or equal to 100"),
        ("per_page=abc", "per_page", "is not a number"),
        ("page=1.5", "page", "must be an integer"),
        ("per_page=1.0e400", "per_page", "is not a number"),  # beyond a float: it was "can't be blank"
        ("page=", "page", "can't be blank"),
        ("page=1&page=2", "page", "must be given only once"),
        ("is_active=maybe", "is_active", "is not included in the list"),
        ("fields=allergies,shoe_size", "fields", "is not included in the list"),
        ("lang=de", "lang", "is not included in the list"),
        ("q=" + "x" * 256, "q", "is too long (maximum is 255 characters)"),
    ],
)
def test_invalid_query_is_422_with_the_field(api: Any, query: str, field: str, message: str) -> None:
    response = api(account=1).get(f"/patients?{query}")
    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed", "errors": {field: [message]}}


def test_per_page_100_is_allowed_and_unknown_parameters_ignored(api: Any) -> None:
    response = api(account=1).get("/patients?per_page=100&utm_source=x")
    assert response.status_code == 200 and response.json()["meta"]["per_page"] == 100


# -- search, filters, archive --------------------------------------------------------------------


def test_q_matches_name_email_phone_and_personal_number(api: Any) -> None:
    client = api(account=1)
    target = create(
        client,
        first_name="Dëshira",
        last_name="Çelaj",
        email="d.celaj@example.al",
        phone="069 887 6543",
        phone_country="AL",
        personal_no="J95123456K",
    )
    for q in (
        "DËSHIRA",
        "deshira",
        "celaj",
        "ÇELAJ",
        "Дешира",
        "d.celaj@example",
        "8876543",
        "069 887",
        "355698876",
        "j95123456k",
    ):
        assert target["id"] in ids(client.get("/patients", params={"q": q})), q
    assert target["id"] not in ids(client.get("/patients", params={"q": "zzzqqqxxx"}))


def test_q_finds_cyrillic_names_from_latin_and_back(api: Any) -> None:
    client = api(account=2)
    cyrillic = create(client, first_name="Горан", last_name="Трајковски")
    latin = create(client, first_name="Arben", last_name="Xhaferi")
    assert cyrillic["id"] in ids(client.get("/patients", params={"q": "trajkovski"}))
    assert latin["id"] in ids(client.get("/patients", params={"q": "Џафери"}))


def test_filters_combine_with_and(api: Any) -> None:
    client = api(account=1)
    a = create(client, email="same@example.com", personal_no="P-1", external_id="ext-and-a", phone="+38344123456")
    b = create(client, email="same@example.com", personal_no="P-2", external_id="ext-and-b")
    assert set(ids(client.get("/patients?email=same@example.com"))) == {a["id"], b["id"]}
    assert ids(client.get("/patients?email=SAME@example.com&personal_no=P-1")) == [a["id"]]
    assert ids(client.get("/patients?email=same@example.com&external_id=ext-and-b")) == [b["id"]]
    assert ids(client.get("/patients?email=same@example.com&phone=44123")) == [a["id"]]
    assert ids(client.get("/patients?email=same@example.com&q=nobody-at-all")) == []


def test_archived_are_out_by_default_and_alone_with_is_active_false(api: Any) -> None:
    client = api(account=1)
    patient = create(client, external_id="ext-archive")
    patched = client.patch(f"/patients/{patient['id']}", json={"is_active": False})
    assert patched.status_code == 200 and patched.json()["data"]["is_active"] is False
    assert ids(client.get("/patients?external_id=ext-archive")) == []
    assert ids(client.get("/patients?external_id=ext-archive&is_active=false")) == [patient["id"]]
    archived = client.get("/patients?is_active=false&per_page=100").json()["data"]
    assert archived and all(p["is_active"] is False for p in archived)
    assert client.get(f"/patients/{patient['id']}").status_code == 200  # still readable by id


# -- expansion and localization -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/patients/4821", "/patients?external_id=&q=hoxha"])
def test_fields_given_twice_means_a_comma_separated_list(api: Any, path: str) -> None:
    """Generated clients send a list exploded (`fields=a&fields=b`); it means `fields=a,b`."""
    client = api(account=1)
    sep = "&" if "?" in path else "?"
    exploded = client.get(f"{path}{sep}fields=allergies&fields=vip")
    joined = client.get(f"{path}{sep}fields=allergies,vip")
    assert exploded.status_code == joined.status_code == 200
    assert exploded.json() == joined.json()
    record = exploded.json()["data"]
    record = record if isinstance(record, dict) else record[0]
    assert {"allergies", "vip"} <= record.keys() and "blood_type" not in record
    refused = client.get(f"{path}{sep}fields=allergies&fields=shoe_size")
    assert refused.status_code == 422 and refused.json()["errors"] == {"fields": ["is not included in the list"]}


def test_expansion_fields_only_when_asked(api: Any) -> None:
    client = api(account=1)
    plain = client.get("/patients/4821").json()["data"]
    assert not set(EXPANSION) & plain.keys()
    listed = client.get("/patients").json()["data"]
    assert all(not set(EXPANSION) & p.keys() for p in listed)
    every = client.get("/patients/4821", params={"fields": ",".join(EXPANSION)}).json()["data"]
    assert set(EXPANSION) <= every.keys()
    some = client.get("/patients?fields=allergies").json()["data"]
    assert all("allergies" in p and "insurance_id" not in p for p in some)


def test_lang_localizes_display_fields_by_script(api: Any) -> None:
    client = api(account=1)
    patient = create(client, first_name="Maria", last_name="Hoxha", locale="sq")
    path = f"/patients/{patient['id']}"
    mk = client.get(path + "?lang=mk").json()["data"]
    assert (mk["display_first_name"], mk["display_last_name"], mk["display_name"]) == ("Марија", "Хоџа", "Марија Хоџа")
    assert (mk["first_name"], mk["last_name"]) == ("Maria", "Hoxha")  # as stored
    assert client.get(path + "?lang=en").json()["data"]["display_name"] == "Maria Hoxha"
    cyrillic = create(client, first_name="Ѓорѓи", last_name="Џафери", locale="mk")
    default = client.get(f"/patients/{cyrillic['id']}").json()["data"]
    assert default["display_name"] == "Ѓорѓи Џафери"  # the patient's locale
    assert client.get(f"/patients/{cyrillic['id']}?lang=sq").json()["data"]["display_name"] == "Gjorgji Xhaferi"
    assert client.get(f"/patients/{cyrillic['id']}?lang=en").json()["data"]["display_name"] == "Gjorgji Dzhaferi"
    listed = client.get("/patients", params={"external_id": "", "q": "Џафери", "lang": "en"}).json()["data"]
    assert [p["display_name"] for p in listed if p["id"] == cyrillic["id"]] == ["Gjorgji Dzhaferi"]


# -- scoping ----------------------------------------------------------------------------------------


def test_other_accounts_patient_is_exactly_not_found(api: Any) -> None:
    owner, other = api(account=1), api(account=2)
    patient = create(owner, email="scoped@example.com", external_id="ext-scoped", personal_no="SCOPE-1")
    path = f"/patients/{patient['id']}"
    assert other.get(path).json() == {"error": "Not Found"} and other.get(path).status_code == 404
    response = other.patch(path, json={"first_name": "Stolen"})
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    assert owner.get(path).json()["data"]["first_name"] == "Test"
    for query in ("q=scoped", "email=scoped@example.com", "external_id=ext-scoped", "personal_no=SCOPE-1"):
        assert patient["id"] not in ids(other.get(f"/patients?{query}")), query
    missing = other.get("/patients/999999999")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}


@pytest.mark.parametrize("raw_id", ["abc", "-1", "0", "1.5", "99999999999999999999", "4821x"])
def test_ids_that_cannot_exist_are_404(api: Any, raw_id: str) -> None:
    response = api(account=1).get(f"/patients/{raw_id}")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


# -- writes: 422, PATCH semantics, phones -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"first_name": ["can't be blank"], "last_name": ["can't be blank"]}),
        ({"first_name": " ", "last_name": "X"}, {"first_name": ["can't be blank"]}),
        ({"first_name": None, "last_name": "X"}, {"first_name": ["can't be blank"]}),
        ({**AB, "email": "not-an-email"}, {"email": ["is invalid"]}),
        ({**AB, "gender": "robot"}, {"gender": ["is not included in the list"]}),
        ({**AB, "birthdate": "1990-02-30"}, {"birthdate": ["is invalid"]}),
        ({**AB, "locale": "de"}, {"locale": ["is not included in the list"]}),
        ({**AB, "phone": "12"}, {"phone": ["needs a country code or phone_country"]}),
        ({**AB, "phone": "+355 12"}, {"phone": ["is invalid"]}),
        ({**AB, "phone_country": "ZZ"}, {"phone_country": ["is not included in the list"]}),
        ({"first_name": "A" * 256, "last_name": "B"}, {"first_name": ["is too long (maximum is 255 characters)"]}),
        ({**AB, "is_active": "yes"}, {"is_active": ["is not included in the list"]}),
        ({**AB, "preferred_doctor_id": "x"}, {"preferred_doctor_id": ["is not a number"]}),
        ({**AB, "id": 5}, {"id": ["is not a permitted field"]}),
        ({**AB, "nickname": "x"}, {"nickname": ["is not a permitted field"]}),
        # The message comes from the expected type, not from text that happens to be in the value.
        ({**AB, "first_name": ["integer"]}, {"first_name": ["is invalid"]}),
        ({"first_name": "A\u0000", "last_name": "B"}, {"first_name": ["is invalid"]}),
        ([], {"base": ["must be a JSON object"]}),
    ],
)
def test_invalid_create_is_422_and_creates_nothing(api: Any, body: Any, errors: dict[str, list[str]]) -> None:
    client = api(account=1)
    before = client.get("/patients?per_page=1").json()["meta"]["total"]
    response = client.post("/patients", json=body)
    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed", "errors": errors}
    assert client.get("/patients?per_page=1").json()["meta"]["total"] == before


def test_patch_is_partial_null_clears_and_timestamps_behave(api: Any) -> None:
    client = api(account=1)
    patient = create(client, email="before@example.com", phone="+38970123456", gender="female")
    path = f"/patients/{patient['id']}"
    updated = client.patch(path, json={"email": None, "gender": "other"}).json()["data"]
    assert updated["email"] is None and updated["gender"] == "other"
    assert updated["phone_e164"] == "+38970123456" and updated["first_name"] == "Test"  # untouched
    assert updated["created_at"] == patient["created_at"]
    assert updated["updated_at"] > patient["updated_at"]
    again = client.patch(path, json={}).json()["data"]
    assert again == updated  # a no-op moves nothing
    cleared = client.patch(path, json={"phone": None}).json()["data"]
    assert cleared["phone"] is None and cleared["phone_e164"] is None


def test_rejected_patch_changes_nothing(api: Any) -> None:
    client = api(account=1)
    before = client.get("/patients/4821").json()["data"]
    for body in (
        {"email": "bad", "first_name": "Changed"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"last_name": None},
        {"phone": "123"},
    ):
        assert client.patch("/patients/4821", json=body).status_code == 422, body
    assert client.get("/patients/4821").json()["data"] == before


def test_external_id_is_unique_per_account(api: Any) -> None:
    create(api(account=1), external_id="ext-unique")
    response = api(account=1).post("/patients", json={"first_name": "A", "last_name": "B", "external_id": "ext-unique"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"external_id": ["has already been taken"]}
    create(api(account=2), external_id="ext-unique")  # another clinic may use it


@pytest.mark.parametrize(
    ("phone", "country", "e164", "region"),
    [
        ("070 123 456", "MK", "+38970123456", "MK"),
        ("044 123 456", "XK", "+38344123456", "XK"),
        ("069 123 4567", "al", "+355691234567", "AL"),
        ("00355 69 123 4567", None, "+355691234567", "AL"),
        ("+389 70 123 456", "AL", "+38970123456", "MK"),  # the number wins over the hint
        # Decided: a number of no country (non-geographic codes) has no phone_country, never
        # phonenumbers' "001" (the spec's Patient.phone_country is two capital letters).
        ("+800 1234 5678", None, "+80012345678", None),
        ("+882 342 1234", "AL", "+8823421234", None),
        ("00883 510 012 345", None, "+883510012345", None),
    ],
)
def test_phones_are_normalized_to_e164(
    api: Any, phone: str, country: str | None, e164: str, region: str | None
) -> None:
    fields = {"phone": phone} | ({"phone_country": country} if country else {})
    patient = create(api(account=1), **fields)
    assert (patient["phone"], patient["phone_e164"], patient["phone_country"]) == (phone, e164, region)


def test_patch_phone_uses_the_stored_country_as_hint(api: Any) -> None:
    client = api(account=1)
    patient = create(client, phone="070 123 456", phone_country="MK")
    updated = client.patch(f"/patients/{patient['id']}", json={"phone": "071 222 333"}).json()["data"]
    assert updated["phone_e164"] == "+38971222333"


def test_text_round_trips_exactly(api: Any) -> None:
    client = api(account=1)
    names = {"first_name": "Ëndrit 😀", "last_name": "Çollaku-Стојановски", "allergies": "Пеницилин; ë ç"}
    patient = create(client, **names)
    got = client.get(f"/patients/{patient['id']}?fields=allergies").json()["data"]
    assert {k: got[k] for k in names} == names


# -- HTTP plumbing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/patients/4821", "GET, PATCH"),
        ("DELETE", "/patients/4821", "GET, PATCH"),
        ("DELETE", "/patients", "GET, POST"),
        ("PUT", "/me.json", "GET"),
    ],
)
def test_put_and_delete_are_405_with_allow(api: Any, method: str, path: str, allow: str) -> None:
    response = api(account=1).request(method, path)
    assert response.status_code == 405
    assert response.json() == {"error": "Method Not Allowed"}
    assert response.headers["allow"] == allow


def test_unknown_path_is_404_json(api: Any) -> None:
    response = api(account=1).get("/appointments")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


@pytest.mark.parametrize(
    ("headers", "content", "status"),
    [
        (JSON, b"{not json", 400),
        (JSON, b"", 400),
        (JSON, b"\xff\xfe{}", 400),
        ({"Content-Type": "text/plain"}, b'{"first_name":"A","last_name":"B"}', 415),
        ({}, b'{"first_name":"A","last_name":"B"}', 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"first_name=A&last_name=B", 415),
        ({"Content-Type": "application/json; charset=latin-1"}, b'{"first_name":"A","last_name":"B"}', 415),
    ],
)
def test_bad_bodies_get_the_error_shape(api: Any, headers: dict[str, str], content: bytes, status: int) -> None:
    client = api(account=1)
    before = client.get("/patients?per_page=1").json()["meta"]["total"]
    response = client.post("/patients", headers=headers, content=content)
    assert response.status_code == status
    assert isinstance(response.json()["error"], str) and set(response.json()) == {"error"}
    assert client.get("/patients?per_page=1").json()["meta"]["total"] == before


def test_charset_utf8_is_accepted(api: Any) -> None:
    response = api(account=1).post(
        "/patients",
        headers={"Content-Type": "application/json; charset=utf-8"},
        content='{"first_name":"Ëndrit","last_name":"Çela"}'.encode(),
    )
    assert response.status_code == 201


def test_oversized_body_is_413(api: Any) -> None:
    body = b'{"first_name":"' + b"a" * (1_100_000) + b'","last_name":"B"}'
    response = api(account=1).post("/patients", headers=JSON, content=body)
    assert response.status_code == 413 and "limit" in response.json()["error"]


@pytest.mark.parametrize("q", ["\x1f", "0\x1fA", "a\x00"])
def test_control_characters_in_q_are_422(api: Any, q: str) -> None:
    # The store joins searchable parts with a control character; a query must
    # never be able to match across them (or everything).
    response = api(account=1).get("/patients", params={"q": q})
    assert response.status_code == 422
    assert response.json()["errors"] == {"q": ["is invalid"]}
