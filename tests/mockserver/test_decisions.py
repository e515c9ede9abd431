"""Every alternative of every decision point, through the in-process mock.

For each alternative of each point of the spec's catalogue (`x-decisions`), a
check below drives a mock whose profile takes just that alternative, and
shows it answering as the alternative's description says. The same check run
against each other alternative of the point must fail, so each check pins what
makes its alternative differ. The parametrization walks the catalogue: a point
or alternative added to the spec without a check here fails.

Every app runs with the self-check (`--check-responses`): each answer is
validated by openapi-core against the document as that profile decides it,
and a violation fails the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dentare_spec import ApiSpec, SpecError, load_spec, object_shape
from mockserver import MockSettings, create_app
from mockserver.decisions import ApiRules, StoreRules, read_decisions
from mockserver.domain.timestamps import format_timestamp
from mockserver.web.selfcheck import ResponseSelfCheck
from tests.support import FIXTURES_DIR, ROOT, SPEC_PATH, load_tokens

CATALOGUE = load_spec(SPEC_PATH).catalogue
ALTERNATIVES = [(point.name, name) for point in CATALOGUE for name in point.alternatives]
MARIA = 4821  # fixtures: account 1, maria@example.com, +355691234567 (AL), locale sq
OTHER_ACCOUNT = 2
T0 = 1_777_111_111_250  # an epoch in ms, 250 ms into its second


# -- the mocks ----------------------------------------------------------------------------


class Clock:
    """The mock's clock (`now_ms` where writes are stamped), set by a check."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


@dataclass
class Mock:
    """One app under one profile, and a client of account 1."""

    app: Starlette
    client: TestClient
    clock: Clock

    @property
    def spec(self) -> ApiSpec:
        spec: ApiSpec = self.app.state.spec
        return spec

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(url, **kwargs)

    def read(self, url: str) -> Any:
        """The body of a GET that must succeed."""
        response = self.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    def change(self, url: str, **kwargs: Any) -> Any:
        """The body of a PATCH that must succeed."""
        response = self.patch(url, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/patients", json={"first_name": "Test", "last_name": "Patient", **fields})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def ids(self, url: str) -> list[int]:
        response = self.get(url)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["data"]]

    def total(self, url: str) -> int:
        response = self.get(url)
        assert response.status_code == 200, response.text
        return int(response.json()["meta"]["total"])

    def as_account(self, account: int) -> TestClient:
        return _client(self.app, load_tokens()[account].token)


def _client(app: Starlette, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, base_url="http://127.0.0.1/api/v1", headers=headers)


@cache
def _app(choices: tuple[tuple[str, str], ...]) -> Starlette:
    spec = load_spec(SPEC_PATH, dict(choices))
    return create_app(MockSettings(fixtures_dir=FIXTURES_DIR, check_responses=True), spec=spec)


def _violations(app: Starlette) -> int:
    checker = app.middleware_stack
    assert isinstance(checker, ResponseSelfCheck)
    return checker.violations


@contextlib.contextmanager
def mock_for(choices: dict[str, str]) -> Iterator[Mock]:
    """A mock answering by `choices`, with the fixtures' state and a set clock;
    the self-check must flag none of its answers."""
    app = _app(tuple(sorted(choices.items())))
    asyncio.run(app.state.backend.reset())
    before = _violations(app)
    clock = Clock()
    # Writes are stamped by the profile's StoreRules; tokens by the store itself.
    with mock.patch("mockserver.decisions.now_ms", clock), mock.patch("mockserver.store.memory.now_ms", clock):
        yield Mock(app, _client(app, load_tokens()[1].token), clock)
    assert _violations(app) == before, "an answer broke the document as this profile decides it (see the log)"


Check = Callable[[Mock], None]
CHECKS: dict[tuple[str, str], Check] = {}


def check(point: str, alternative: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        assert (point, alternative) not in CHECKS, f"two checks for {point}={alternative}"
        CHECKS[(point, alternative)] = function
        return function

    return register


def errors_of(response: httpx.Response) -> Any:
    assert response.status_code == 422, response.text
    return response.json()["errors"]


# -- the checks, in the catalogue's order ------------------------------------------------


@check("list_order", "id_ascending")
def _(m: Mock) -> None:
    for url in ("/patients?per_page=100", "/patients?q=a&per_page=100", "/patients?is_active=false"):
        found = m.ids(url)
        assert len(found) > 1 and found == sorted(found), url


@check("list_order", "newest_first")
def _(m: Mock) -> None:
    for url in ("/patients?per_page=100", "/patients?q=a&per_page=100", "/patients?is_active=false"):
        found = m.ids(url)
        assert len(found) > 1 and found == sorted(found, reverse=True), url
    walked = m.ids("/patients?per_page=7") + m.ids("/patients?per_page=7&page=2")
    assert walked == m.ids("/patients?per_page=14")
    newest = m.create()
    assert m.ids("/patients?per_page=1") == [newest["id"]]


@check("per_page_over_max", "reject")
def _(m: Mock) -> None:
    assert errors_of(m.get("/patients?per_page=101")) == {"per_page": ["must be less than or equal to 100"]}


@check("per_page_over_max", "clamp")
def _(m: Mock) -> None:
    total = m.total("/patients")
    assert total > 100
    for per_page in (101, 5000):
        body = m.read(f"/patients?per_page={per_page}")
        assert body["meta"]["per_page"] == 100 and len(body["data"]) == 100
    assert "maximum" not in m.spec.operation("listPatients").parameter("per_page").schema


@check("invalid_paging", "reject")
def _(m: Mock) -> None:
    assert errors_of(m.get("/patients?page=0")) == {"page": ["must be greater than or equal to 1"]}
    assert errors_of(m.get("/patients?per_page=abc")) == {"per_page": ["is not a number"]}
    assert errors_of(m.get("/patients?page=1.5")) == {"page": ["must be an integer"]}


@check("invalid_paging", "fallback")
def _(m: Mock) -> None:
    for query in ("page=0&per_page=abc", "page=1.5&per_page=-3", "page=abc&per_page=1.0", "page=&per_page="):
        response = m.get(f"/patients?{query}")
        assert response.status_code == 200, query
        assert response.json()["meta"] | {"total": 0} == {"page": 1, "per_page": 20, "total": 0}, query
    assert m.read("/patients?page=2&per_page=5")["meta"]["page"] == 2  # valid values still count
    assert errors_of(m.get("/patients?per_page=101")) == {"per_page": ["must be less than or equal to 100"]}


@check("page_past_end", "empty")
def _(m: Mock) -> None:
    total = m.total("/patients")
    body = m.read("/patients?page=999")
    assert body["data"] == [] and body["meta"]["total"] == total


@check("page_past_end", "not_found")
def _(m: Mock) -> None:
    total = m.total("/patients?per_page=10")
    last = (total + 9) // 10
    response = m.get(f"/patients?per_page=10&page={last + 1}")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    assert len(m.ids(f"/patients?per_page=10&page={last}")) == total - (last - 1) * 10
    assert m.read("/patients?q=no-such-patient-anywhere")["data"] == []  # page 1 of nothing: 200


@check("inactive_filter", "archived_only")
def _(m: Mock) -> None:
    assert m.patch(f"/patients/{MARIA}", json={"is_active": False}).status_code == 200
    listed = m.read("/patients?is_active=false&per_page=100")["data"]
    assert MARIA in [p["id"] for p in listed]
    assert listed and all(p["is_active"] is False for p in listed)


@check("inactive_filter", "all")
def _(m: Mock) -> None:
    active = m.total("/patients")
    assert m.patch(f"/patients/{MARIA}", json={"is_active": False}).status_code == 200
    assert m.total("/patients") == active - 1
    body = m.read("/patients?is_active=false&per_page=100")
    assert body["meta"]["total"] > active
    statuses = {p["is_active"] for p in body["data"]}
    assert statuses == {True, False}
    assert MARIA in m.ids("/patients?is_active=false&q=hoxha")
    assert m.ids("/patients?is_active=false&q=hoxha") != m.ids("/patients?q=hoxha")


@check("boolean_values", "strict")
def _(m: Mock) -> None:
    for value in ("maybe", "TRUE", "1"):
        assert errors_of(m.get(f"/patients?is_active={value}")) == {"is_active": ["is not included in the list"]}
    assert errors_of(m.get("/patients?is_active=")) == {"is_active": ["can't be blank"]}


@check("boolean_values", "lenient")
def _(m: Mock) -> None:
    active = m.ids("/patients?per_page=100")
    for value in ("maybe", "TRUE", "1", ""):
        assert m.ids(f"/patients?is_active={value}&per_page=100") == active, value
    assert m.ids("/patients?is_active=false&per_page=100") != active


@check("unknown_query_params", "ignore")
def _(m: Mock) -> None:
    assert m.get("/patients?utm_source=x").status_code == 200
    assert m.get("/me.json?verbose=1").status_code == 200
    assert m.get(f"/patients/{MARIA}?page=1").status_code == 200


@check("unknown_query_params", "reject")
def _(m: Mock) -> None:
    assert errors_of(m.get("/patients?utm_source=x&page=1")) == {"utm_source": ["is not a permitted parameter"]}
    assert errors_of(m.get("/me.json?verbose=1")) == {"verbose": ["is not a permitted parameter"]}
    assert errors_of(m.get(f"/patients/{MARIA}?page=1")) == {"page": ["is not a permitted parameter"]}
    assert m.get("/patients?page=1&q=a&fields=vip&lang=mk").status_code == 200
    assert m.get("/me.json?lang=en").status_code == 200


@check("repeated_params", "reject")
def _(m: Mock) -> None:
    assert errors_of(m.get("/patients?page=1&page=2")) == {"page": ["must be given only once"]}
    data = m.read(f"/patients/{MARIA}?fields=vip&fields=allergies")["data"]
    assert "vip" in data and "allergies" in data  # a list given twice is joined


@check("repeated_params", "last_wins")
def _(m: Mock) -> None:
    assert m.read("/patients?page=2&page=1&per_page=5")["meta"] == m.read("/patients?per_page=5")["meta"]
    assert m.ids("/patients?q=zzz&q=hoxha") == m.ids("/patients?q=hoxha") != []
    data = m.read(f"/patients/{MARIA}?fields=vip&fields=allergies")["data"]
    assert "vip" in data and "allergies" in data


@check("unknown_fields_entry", "reject")
def _(m: Mock) -> None:
    expected = {"fields": ["is not included in the list"]}
    assert errors_of(m.get(f"/patients/{MARIA}?fields=allergies,shoe_size")) == expected


@check("unknown_fields_entry", "ignore")
def _(m: Mock) -> None:
    data = m.read(f"/patients/{MARIA}?fields=allergies,shoe_size,,ALLERGIES")["data"]
    assert data.get("allergies") == "Penicillin" and "shoe_size" not in data and "ALLERGIES" not in data
    assert "blood_type" not in data  # the other expansion fields still come only when named
    assert m.spec.operation("getPatient").parameter("fields").schema["items"] == {"type": "string"}  # any name


@check("fields_on_list", "honoured")
def _(m: Mock) -> None:
    listed = m.read("/patients?fields=allergies")["data"]
    assert listed and all("allergies" in p for p in listed)


@check("fields_on_list", "ignored")
def _(m: Mock) -> None:
    listed = m.read("/patients?fields=allergies")["data"]
    assert listed and not any("allergies" in p for p in listed)
    assert errors_of(m.get("/patients?fields=shoe_size")) == {"fields": ["is not included in the list"]}
    assert m.read(f"/patients/{MARIA}?fields=allergies")["data"].get("allergies") == "Penicillin"


UNSET = ("allergies", "vip", "preferences", "medical_issues")


@check("unset_expansions", "null")
def _(m: Mock) -> None:
    created = m.create()
    data = m.read(f"/patients/{created['id']}?fields={','.join(UNSET)}")["data"]
    assert {name: data.get(name, "absent") for name in UNSET} == {
        "allergies": None,
        "vip": False,
        "preferences": {},
        "medical_issues": [],
    }


@check("unset_expansions", "omitted")
def _(m: Mock) -> None:
    created = m.create()
    data = m.read(f"/patients/{created['id']}?fields={','.join(UNSET)}")["data"]
    assert not set(UNSET) & set(data)
    maria = m.read(f"/patients/{MARIA}?fields={','.join(UNSET)}")["data"]  # vip false, the rest set
    assert set(UNSET) & set(maria) == {"allergies", "preferences", "medical_issues"}


@check("unknown_lang", "reject")
def _(m: Mock) -> None:
    for value in ("de", "EN", ""):
        assert errors_of(m.get(f"/patients/{MARIA}?lang={value}")) == {"lang": ["is not included in the list"]}
    assert errors_of(m.get("/me.json?lang=de")) == {"lang": ["is not included in the list"]}


@check("unknown_lang", "fallback")
def _(m: Mock) -> None:
    created = m.create(first_name="Џафер", last_name="Чолаку")  # en: Dzhafer Cholaku, sq: Xhafer Çolaku
    default = m.read(f"/patients/{created['id']}")["data"]["display_name"]
    assert default == "Dzhafer Cholaku"
    for value in ("de", "EN", ""):
        assert m.read(f"/patients/{created['id']}?lang={value}")["data"]["display_name"] == default, value
    assert m.read(f"/patients/{created['id']}?lang=sq")["data"]["display_name"] != default
    assert m.get("/me.json?lang=de").status_code == 200


@check("lang_on_me", "validated")
def _(m: Mock) -> None:
    assert m.get("/me.json?lang=mk").status_code == 200
    assert errors_of(m.get("/me.json?lang=de")) == {"lang": ["is not included in the list"]}
    assert [p.name for p in m.spec.operation("getMe").parameters] == ["lang"]


@check("lang_on_me", "ignored")
def _(m: Mock) -> None:
    for value in ("de", "mk", "", "x" * 300):
        assert m.get(f"/me.json?lang={value}").status_code == 200, value
    assert m.spec.operation("getMe").parameters == ()
    assert errors_of(m.get(f"/patients/{MARIA}?lang=de")) == {"lang": ["is not included in the list"]}


@check("transliteration", "scripts")
def _(m: Mock) -> None:
    maria = m.read(f"/patients/{MARIA}?lang=mk")["data"]
    assert maria["display_name"] == "Марија Хоџа" and maria["first_name"] == "Maria"
    created = m.create(first_name="Ѓорѓи", last_name="Стојановски")
    assert m.read(f"/patients/{created['id']}?lang=en")["data"]["display_last_name"] == "Stojanovski"


@check("transliteration", "as_stored")
def _(m: Mock) -> None:
    maria = m.read(f"/patients/{MARIA}?lang=mk")["data"]
    assert maria["display_name"] == "Maria Hoxha"
    created = m.create(first_name="Ѓорѓи", last_name="Стојановски")
    shown = m.read(f"/patients/{created['id']}?lang=en")["data"]
    assert (shown["display_first_name"], shown["display_last_name"]) == ("Ѓорѓи", "Стојановски")


@check("malformed_id", "not_found")
def _(m: Mock) -> None:
    for value in ("abc", "0", "-1", "1.5", "99999999999999999999"):
        for response in (m.get(f"/patients/{value}"), m.patch(f"/patients/{value}", json={})):
            assert response.status_code == 404 and response.json() == {"error": "Not Found"}, value


@check("malformed_id", "invalid")
def _(m: Mock) -> None:
    reasons = {
        "abc": "is not a number", "0": "must be greater than or equal to 1", "-1": "must be greater than or equal to 1",
        "1.5": "must be an integer", "1.0": "must be an integer",
        "99999999999999999999": "must be less than or equal to 9223372036854775807",
    }  # fmt: skip
    for value, reason in reasons.items():
        assert errors_of(m.get(f"/patients/{value}")) == {"id": [reason]}, value
        assert errors_of(m.patch(f"/patients/{value}", json={})) == {"id": [reason]}, value
    assert m.get("/patients/999999").status_code == 404  # an id that could be a patient's, but is not


@check("archived_by_id", "readable")
def _(m: Mock) -> None:
    assert m.patch(f"/patients/{MARIA}", json={"is_active": False}).status_code == 200
    response = m.get(f"/patients/{MARIA}")
    assert response.status_code == 200 and response.json()["data"]["is_active"] is False


@check("archived_by_id", "not_found")
def _(m: Mock) -> None:
    archived = m.patch(f"/patients/{MARIA}", json={"is_active": False})
    assert archived.status_code == 200 and archived.json()["data"]["is_active"] is False
    response = m.get(f"/patients/{MARIA}")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}
    assert m.patch(f"/patients/{MARIA}", json={"email": "back@example.com"}).status_code == 200
    assert m.patch(f"/patients/{MARIA}", json={"is_active": True}).status_code == 200
    assert m.read(f"/patients/{MARIA}")["data"]["email"] == "back@example.com"


@check("unsupported_methods", "method_not_allowed")
def _(m: Mock) -> None:
    before = m.read(f"/patients/{MARIA}")
    for method in ("PUT", "DELETE"):
        response = m.client.request(method, f"/patients/{MARIA}", json={"first_name": "X", "last_name": "Y"})
        assert response.status_code == 405 and response.json() == {"error": "Method Not Allowed"}
        assert response.headers.get("allow") == "GET, PATCH"
    assert m.read(f"/patients/{MARIA}") == before


@check("unsupported_methods", "not_found")
def _(m: Mock) -> None:
    before = m.read(f"/patients/{MARIA}")
    for method, path in (("PUT", f"/patients/{MARIA}"), ("DELETE", f"/patients/{MARIA}"), ("PUT", "/patients")):
        response = m.client.request(method, path, json={"first_name": "X", "last_name": "Y"})
        assert response.status_code == 404 and response.json() == {"error": "Not Found"}
        assert "allow" not in response.headers
    assert m.read(f"/patients/{MARIA}") == before


def _keys(m: Mock) -> tuple[set[str], set[str], set[str]]:
    """The keys of a create's, an update's and a read's `data`."""
    created = m.create(email="a@example.com")
    updated = m.change(f"/patients/{created['id']}", json={"email": "b@example.com"})["data"]
    read = m.read(f"/patients/{created['id']}")["data"]
    return set(created), set(updated), set(read)


def _example_keys(m: Mock, operation_id: str, example: str) -> set[str]:
    operation = m.spec.operation(operation_id)
    return set(operation.responses[operation.success_status].examples[example]["data"])


@check("answer_fields", "full")
def _(m: Mock) -> None:
    record = set(object_shape(m.spec.schema("PatientRecord")).properties)
    assert _keys(m) == (record, record, record)
    assert "preferred_doctor_id" in record


@check("answer_fields", "as_guide_examples")
def _(m: Mock) -> None:
    created, updated, read = _keys(m)
    assert created == _example_keys(m, "createPatient", "minimal")
    assert updated == _example_keys(m, "updatePatient", "contact")
    assert read == _example_keys(m, "getPatient", "patient") and "preferred_doctor_id" not in read
    assert set(m.read(f"/patients/{MARIA}?fields=vip")["data"]) == read | {"vip"}


@check("extra_fields", "none")
def _(m: Mock) -> None:
    allowed = object_shape(m.spec.schema("Patient")).allowed
    assert allowed is not None
    assert set(m.read(f"/patients/{MARIA}?fields=vip")["data"]) <= allowed
    assert "account_id" not in m.read(f"/patients/{MARIA}")["data"]


@check("extra_fields", "allowed")
def _(m: Mock) -> None:
    assert object_shape(m.spec.schema("Patient")).allowed is None
    assert object_shape(m.spec.schema("PatientList")).allowed is None
    # A field beyond the guide's, for a client to see (and the self-check to find valid).
    assert m.read(f"/patients/{MARIA}?fields=vip")["data"]["account_id"] == 1


@check("unknown_body_fields", "reject")
def _(m: Mock) -> None:
    total = m.total("/patients")
    response = m.post("/patients", json={"first_name": "A", "last_name": "B", "nickname": "Ace", "vip": True})
    assert errors_of(response) == {"nickname": ["is not a permitted field"], "vip": ["is not a permitted field"]}
    assert m.total("/patients") == total


@check("unknown_body_fields", "ignore")
def _(m: Mock) -> None:
    created = m.create(first_name="A", id=1, vip=True, nickname="Ace", legacy_id="L1")
    assert created["id"] != 1 and created["first_name"] == "A" and "nickname" not in created
    read = m.read(f"/patients/{created['id']}?fields=vip")["data"]
    assert read["vip"] is False and read["legacy_id"] is None
    updated = m.patch(f"/patients/{created['id']}", json={"first_name": "Z", "nickname": "Zed"})
    assert updated.status_code == 200 and updated.json()["data"]["first_name"] == "Z"


@check("external_id_unique", "per_account")
def _(m: Mock) -> None:
    m.create(external_id="ext-1")
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B", "external_id": "ext-1"})) == {
        "external_id": ["has already been taken"]
    }
    other = m.as_account(OTHER_ACCOUNT).post(
        "/patients", json={"first_name": "A", "last_name": "B", "external_id": "ext-1"}
    )
    assert other.status_code == 201


@check("external_id_unique", "not_unique")
def _(m: Mock) -> None:
    first, second = m.create(external_id="ext-1"), m.create(external_id="ext-1")
    assert sorted(m.ids("/patients?external_id=ext-1")) == [first["id"], second["id"]]
    third = m.create(external_id="ext-3")
    assert m.patch(f"/patients/{third['id']}", json={"external_id": "ext-1"}).status_code == 200
    assert m.patch(f"/patients/{first['id']}", json={"external_id": None}).status_code == 200
    assert sorted(m.ids("/patients?external_id=ext-1")) == [second["id"], third["id"]]
    imported = asyncio.run(
        m.app.state.importer.import_into(
            m.app.state.backend, 1, b"first_name,last_name,external_id\nA,B,ext-1\nC,D,ext-1\n"
        )
    )
    assert len(imported) == 2 and m.total("/patients?external_id=ext-1") == 4


@check("type_coercion", "reject")
def _(m: Mock) -> None:
    for field, value, message in (
        ("first_name", 12345, "is invalid"),
        ("preferred_doctor_id", "7", "is not a number"),
        ("is_active", "true", "is not included in the list"),
    ):
        body = {"first_name": "A", "last_name": "B", field: value}
        assert errors_of(m.post("/patients", json=body)) == {field: [message]}


@check("type_coercion", "coerce")
def _(m: Mock) -> None:
    created = m.create(first_name=12345, allergies=True)
    read = m.get(f"/patients/{created['id']}", params={"fields": "allergies"}).json()["data"]
    assert (created["first_name"], read["allergies"]) == ("12345", "true")
    patched = m.patch(f"/patients/{created['id']}", json={"last_name": 3.5}).json()["data"]
    assert patched["last_name"] == "3.5"
    # Only text fields cast: an integer or boolean field still takes its own type only.
    for field, value, message in (
        ("preferred_doctor_id", "7", "is not a number"),
        ("is_active", "true", "is not included in the list"),
    ):
        body = {"first_name": "A", "last_name": "B", field: value}
        assert errors_of(m.post("/patients", json=body)) == {field: [message]}


@check("content_type", "reject")
def _(m: Mock) -> None:
    body = b'{"first_name": "A", "last_name": "B"}'
    for headers in ({"Content-Type": "text/plain"}, {}):
        response = m.post("/patients", content=body, headers=headers)
        assert response.status_code == 415 and response.json()["error"].startswith("Unsupported Media Type")
    assert m.post("/patients", content=body, headers={"Content-Type": "application/json; charset=utf-8"}).is_success


@check("content_type", "lenient")
def _(m: Mock) -> None:
    body = b'{"first_name": "A", "last_name": "B"}'
    for headers in ({"Content-Type": "text/plain"}, {}, {"Content-Type": "application/json; charset=latin-1"}):
        assert m.post("/patients", content=body, headers=headers).status_code == 201, headers


@check("malformed_body", "bad_request")
def _(m: Mock) -> None:
    for body in (b"{nope", b"", b"\xff"):
        response = m.post("/patients", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"].startswith("Malformed JSON"), body


@check("malformed_body", "unprocessable")
def _(m: Mock) -> None:
    for body in (b"{nope", b"", b"\xff"):
        response = m.post("/patients", content=body, headers={"Content-Type": "application/json"})
        errors = errors_of(response)
        assert list(errors) == ["base"] and errors["base"][0].startswith("Malformed JSON"), body
    response = m.patch(f"/patients/{MARIA}", content=b"[1,", headers={"Content-Type": "application/json"})
    assert list(errors_of(response)) == ["base"]


@check("text_limits", "kit")
def _(m: Mock) -> None:
    too_long = m.post("/patients", json={"first_name": "x" * 256, "last_name": "B"})
    assert errors_of(too_long) == {"first_name": ["is too long (maximum is 255 characters)"]}
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B\x00"})) == {
        "last_name": ["is invalid"]
    }
    assert errors_of(m.get("/patients?q=" + "x" * 256)) == {"q": ["is too long (maximum is 255 characters)"]}


@check("text_limits", "none")
def _(m: Mock) -> None:
    created = m.create(first_name="x" * 300, last_name="B\x00", allergies="y" * 6000)
    read = m.read(f"/patients/{created['id']}?fields=allergies")["data"]
    assert (read["first_name"], read["last_name"], read["allergies"]) == ("x" * 300, "B\x00", "y" * 6000)
    assert m.read("/patients?q=" + "x" * 300)["meta"]["total"] == 1
    assert "maxLength" not in m.spec.schema("PatientName")


@check("value_ranges", "kit")
def _(m: Mock) -> None:
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B", "blood_type": "XYZ"})) == {
        "blood_type": ["is not included in the list"]
    }
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B", "preferred_doctor_id": 0})) == {
        "preferred_doctor_id": ["must be greater than or equal to 1"]
    }
    assert errors_of(m.get("/patients?page=2147483648")) == {"page": ["must be less than or equal to 2147483647"]}


@check("value_ranges", "open")
def _(m: Mock) -> None:
    created = m.create(blood_type="XYZ", preferred_doctor_id=0)
    read = m.read(f"/patients/{created['id']}?fields=blood_type")["data"]
    assert (read["blood_type"], read["preferred_doctor_id"]) == ("XYZ", 0)
    assert m.read("/patients?page=2147483648")["data"] == []
    # Beyond 64 bits too: answered as sent, never a 500.
    assert m.read(f"/patients?page={10**30}")["meta"]["page"] == 10**30


@check("whitespace", "as_sent")
def _(m: Mock) -> None:
    created = m.create(first_name="  Ana ", last_name="Hoxha\t", personal_no=" P1 ")
    assert (created["first_name"], created["last_name"], created["personal_no"]) == ("  Ana ", "Hoxha\t", " P1 ")
    assert errors_of(m.post("/patients", json={"first_name": " ", "last_name": "B"})) == {
        "first_name": ["can't be blank"]
    }


@check("whitespace", "trimmed")
def _(m: Mock) -> None:
    created = m.create(first_name="  Ana ", last_name="Hoxha\t", personal_no=" P1 ", email=" ana@example.com\n")
    assert (created["first_name"], created["last_name"], created["personal_no"]) == ("Ana", "Hoxha", "P1")
    assert created["email"] == "ana@example.com"
    updated = m.change(f"/patients/{created['id']}", json={"last_name": "\u00a0Çela "})
    assert updated["data"]["last_name"] == "Çela"
    assert errors_of(m.post("/patients", json={"first_name": " \u3000", "last_name": "B"})) == {
        "first_name": ["can't be blank"]
    }


MILLIS = re.compile(r"\.[0-9]{3}Z$")


@check("timestamps", "milliseconds")
def _(m: Mock) -> None:
    created = m.create()
    assert created["created_at"] == created["updated_at"] == format_timestamp(T0)
    m.clock.now = T0 + 100  # the same second
    moved = m.change(f"/patients/{created['id']}", json={"first_name": "Moved"})["data"]
    assert moved["updated_at"] == format_timestamp(T0 + 100) and MILLIS.search(moved["updated_at"])
    assert MILLIS.search(m.read(f"/patients/{MARIA}")["data"]["created_at"])


@check("timestamps", "seconds")
def _(m: Mock) -> None:
    whole = format_timestamp(T0 - 250).replace(".000Z", "Z")
    created = m.create()
    assert created["created_at"] == created["updated_at"] == whole
    m.clock.now = T0 + 100  # the same second: updated_at stays
    assert m.change(f"/patients/{created['id']}", json={"first_name": "Moved"})["data"]["updated_at"] == whole
    m.clock.now = T0 + 800  # the next second
    later = m.change(f"/patients/{created['id']}", json={"first_name": "Again"})["data"]["updated_at"]
    assert later == format_timestamp(T0 + 750).replace(".000Z", "Z")
    assert m.read(f"/patients/{MARIA}")["data"]["created_at"] == "2026-04-25T14:32:00Z"


@check("noop_patch", "keeps_updated_at")
def _(m: Mock) -> None:
    created = m.create(email="a@example.com")
    m.clock.now = T0 + 5000
    for body in ({}, {"email": "a@example.com"}, {"first_name": "Test"}):
        assert m.change(f"/patients/{created['id']}", json=body)["data"]["updated_at"] == created["updated_at"]
    changed = m.change(f"/patients/{created['id']}", json={"email": "b@example.com"})["data"]
    assert changed["updated_at"] == format_timestamp(T0 + 5000)


@check("noop_patch", "touches")
def _(m: Mock) -> None:
    created = m.create(email="a@example.com")
    for step, body in enumerate(({}, {"email": "a@example.com"}), start=1):
        m.clock.now = T0 + 5000 * step
        touched = m.change(f"/patients/{created['id']}", json=body)["data"]
        assert touched["updated_at"] == format_timestamp(T0 + 5000 * step)
    assert m.read(f"/patients/{created['id']}")["data"]["email"] == "a@example.com"


@check("phone_format", "as_sent")
def _(m: Mock) -> None:
    created = m.create(phone="069 123 4567", phone_country="AL", emergency_contact_phone="069 765 4321")
    assert (created["phone"], created["phone_e164"]) == ("069 123 4567", "+355691234567")


@check("phone_format", "normalized")
def _(m: Mock) -> None:
    created = m.create(phone="069 123 4567", phone_country="AL", emergency_contact_phone="069 765 4321")
    assert (created["phone"], created["phone_e164"]) == ("+355691234567", "+355691234567")
    updated = m.change(f"/patients/{created['id']}", json={"phone": "00389 70 123 456"})["data"]
    assert updated["phone"] == updated["phone_e164"] == "+38970123456"
    read = m.read(f"/patients/{created['id']}?fields=emergency_contact_phone")["data"]
    assert read["emergency_contact_phone"] == "069 765 4321"  # only `phone` is normalized


@check("national_without_country", "reject")
def _(m: Mock) -> None:
    total = m.total("/patients")
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B", "phone": "069 123 4567"})) == {
        "phone": ["needs a country code or phone_country"]
    }
    assert m.total("/patients") == total


@check("national_without_country", "keep")
def _(m: Mock) -> None:
    created = m.create(phone="069 123 4567")
    assert (created["phone"], created["phone_e164"]) == ("069 123 4567", None)
    assert m.read(f"/patients/{created['id']}")["data"]["phone_country"] is None
    assert errors_of(
        m.post("/patients", json={"first_name": "A", "last_name": "B", "phone": "123", "phone_country": "AL"})
    ) == {"phone": ["is invalid"]}


@check("phone_country_stored", "derived")
def _(m: Mock) -> None:
    assert m.create(phone="+38970123456", phone_country="al")["phone_country"] == "MK"
    assert m.create(phone_country="xk")["phone_country"] == "XK"


@check("phone_country_stored", "as_sent")
def _(m: Mock) -> None:
    created = m.create(phone="+38970123456", phone_country="al")
    assert (created["phone_country"], created["phone_e164"]) == ("al", "+38970123456")
    assert m.create(phone_country="xk")["phone_country"] == "xk"
    assert m.create(phone="+38970123456")["phone_country"] is None
    assert errors_of(m.post("/patients", json={"first_name": "A", "last_name": "B", "phone_country": "ZZ"})) == {
        "phone_country": ["is not included in the list"]
    }


def _search_patients(m: Mock) -> tuple[int, int]:
    cela = m.create(first_name="Arbër", last_name="Çela")["id"]
    stojanovski = m.create(first_name="Ѓорѓи", last_name="Стојановски", phone="070 123 456", phone_country="MK")["id"]
    return cela, stojanovski


@check("search_matching", "folded")
def _(m: Mock) -> None:
    cela, stojanovski = _search_patients(m)
    assert cela in m.ids("/patients?q=cela") and cela in m.ids("/patients?q=arber cela")
    assert stojanovski in m.ids("/patients?q=stojanovski")
    assert MARIA in m.ids("/patients?q=хоџа")
    assert stojanovski in m.ids("/patients?q=38970123")


@check("search_matching", "plain")
def _(m: Mock) -> None:
    cela, stojanovski = _search_patients(m)
    assert cela not in m.ids("/patients?q=cela")
    assert cela in m.ids("/patients?q=ÇELA") and cela in m.ids("/patients?q=arbër ç")
    assert stojanovski not in m.ids("/patients?q=stojanovski")
    assert stojanovski in m.ids("/patients?q=стојан")
    assert MARIA not in m.ids("/patients?q=хоџа") and MARIA in m.ids("/patients?q=HOXHA")
    assert stojanovski in m.ids("/patients?q=070 123") and stojanovski in m.ids("/patients?q=38970123")
    assert MARIA in m.ids("/patients?q=maria@EXAMPLE")


@check("filter_case", "insensitive")
def _(m: Mock) -> None:
    m.create(personal_no="AB123c")
    assert MARIA in m.ids("/patients?email=MARIA@Example.com")
    assert m.total("/patients?personal_no=ab123C") == 1


@check("filter_case", "sensitive")
def _(m: Mock) -> None:
    m.create(personal_no="AB123c")
    assert m.ids("/patients?email=MARIA@Example.com") == []
    assert m.ids("/patients?email=maria@example.com") == [MARIA]
    assert m.total("/patients?personal_no=ab123C") == 0 and m.total("/patients?personal_no=AB123c") == 1


@check("phone_filter", "e164_or_national")
def _(m: Mock) -> None:
    assert MARIA in m.ids("/patients?phone=069123") and MARIA in m.ids("/patients?phone=%2B355 69 123")


@check("phone_filter", "e164_only")
def _(m: Mock) -> None:
    assert MARIA not in m.ids("/patients?phone=069123")
    assert MARIA in m.ids("/patients?phone=%2B355 69 123") and MARIA in m.ids("/patients?phone=691234567")


@check("error_wording", "as_documented")
def _(m: Mock) -> None:
    unauthorized = _client(m.app, None).get("/me.json")
    assert unauthorized.json() == {"error": "Unauthorized"} and unauthorized.headers["www-authenticate"] == "Bearer"
    assert m.get("/patients/999999").json() == {"error": "Not Found"}
    assert m.get("/patients?page=0").json() == {
        "error": "Validation failed",
        "errors": {"page": ["must be greater than or equal to 1"]},
    }


@check("error_wording", "own_words")
def _(m: Mock) -> None:
    for client in (_client(m.app, None), _client(m.app, "dnt_unknown_token_unknown_token")):
        unauthorized = client.get("/me.json")
        assert unauthorized.status_code == 401 and unauthorized.json() == {"error": "Invalid or revoked token"}
        assert unauthorized.headers["www-authenticate"] == 'Bearer realm="Dentare"'
    for url in ("/patients/999999", "/patients/abc", f"/patients/{MARIA + 100_000}"):
        assert m.get(url).json() == {"error": "Patient not found"}, url
    other = m.as_account(OTHER_ACCOUNT).get(f"/patients/{MARIA}")
    assert other.status_code == 404 and other.json() == {"error": "Patient not found"}
    assert m.get("/patients?page=0").json() == {
        "error": "Invalid request",
        "errors": {"page": ["must be greater than or equal to 1"]},
    }
    m.create(external_id="ext-1")
    taken = m.post("/patients", json={"first_name": "A", "last_name": "B", "external_id": "ext-1"}).json()
    assert taken == {"error": "Invalid request", "errors": {"external_id": ["has already been taken"]}}


# -- the tests -----------------------------------------------------------------------------


def _label(item: tuple[str, str]) -> str:
    return f"{item[0]}={item[1]}"


@pytest.mark.parametrize("choice", ALTERNATIVES, ids=_label)
def test_the_mock_answers_as_the_alternative_says(choice: tuple[str, str]) -> None:
    point, alternative = choice
    found = CHECKS.get(choice)
    assert found is not None, f"no check for {point}={alternative} in {Path(__file__).name}: add one"
    with mock_for({point: alternative}) as m:
        found(m)


@pytest.mark.parametrize("choice", ALTERNATIVES, ids=_label)
def test_the_other_alternatives_answer_otherwise(choice: tuple[str, str]) -> None:
    """Each check fails under every other alternative of its point: it pins a difference."""
    point, alternative = choice
    found = CHECKS.get(choice)
    if found is None:
        pytest.fail(f"no check for {point}={alternative}")
    for other in CATALOGUE.point(point).alternatives:
        if other == alternative:
            continue
        with mock_for({point: other}) as m, pytest.raises(AssertionError):
            found(m)


def test_every_check_names_an_alternative_of_the_spec() -> None:
    assert set(CHECKS) <= set(ALTERNATIVES), set(CHECKS) - set(ALTERNATIVES)


# -- reading the profile --------------------------------------------------------------------


def test_the_kits_profile_is_the_rules_defaults() -> None:
    """The dataclasses' defaults are the spec's `default`s: code and spec agree
    on what the kit chose."""
    decisions = read_decisions(load_spec(SPEC_PATH))
    assert decisions.store == StoreRules() and decisions.api == ApiRules()
    assert decisions.profile.differences == {}


def test_every_non_default_alternative_changes_a_rule_or_the_document() -> None:
    """No alternative is silently read as the default: each one changes the
    typed rules, or the decided document, or both."""
    kit = load_spec(SPEC_PATH)
    kit_decisions = read_decisions(kit)
    for point, alternative in ALTERNATIVES:
        if alternative == CATALOGUE.point(point).default:
            continue
        spec = kit.decided_by({point: alternative})
        decisions = read_decisions(spec)
        changed_rules = (decisions.store, decisions.api) != (kit_decisions.store, kit_decisions.api)
        assert changed_rules or spec.document != kit.document, f"{point}={alternative} changes nothing"


def test_a_renamed_point_stops_start_up(tmp_path: Path) -> None:
    text = SPEC_PATH.read_text(encoding="utf-8").replace("\n  list_order:\n", "\n  listing_order:\n", 1)
    renamed = tmp_path / "openapi.yaml"
    renamed.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="no decision point 'list_order'"):
        create_app(MockSettings(spec_path=renamed, fixtures_dir=None))


def test_only_decisions_py_reads_the_profile() -> None:
    """Point and alternative names are read in mockserver/decisions.py alone."""
    readers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "mockserver").rglob("*.py")
        if re.search(r"\.chose\b|\.choices\b|profile\[", path.read_text(encoding="utf-8"))
    ]
    assert readers == ["mockserver/decisions.py"]


def test_a_profile_file_is_read_once_with_the_spec(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("decisions:\n  list_order: newest_first\n  unset_expansions: null\n", encoding="utf-8")
    app = create_app(MockSettings(fixtures_dir=FIXTURES_DIR, profile=profile))
    assert app.state.spec.profile.differences == {"list_order": "newest_first"}
    assert app.state.decisions.store.newest_first and app.state.backend.store.rules.newest_first
    found = [p["id"] for p in _client(app, load_tokens()[1].token).get("/patients").json()["data"]]
    assert found == sorted(found, reverse=True)


@pytest.mark.parametrize(
    "bad",
    [
        ("decisions:\n  list_order: sideways\n", "list_order: no alternative 'sideways'; choose one of id_ascending"),
        ("decisions:\n  list_ordre: newest_first\n", "no decision point 'list_ordre'; the spec's are list_order"),
        ("decisions: [\n", "is not valid YAML"),
        ("list_order: newest_first\n", "expected a mapping with `decisions:"),
    ],
)
def test_a_bad_profile_stops_create_app(tmp_path: Path, bad: tuple[str, str]) -> None:
    text, message = bad
    profile = tmp_path / "profile.yaml"
    profile.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(message)):
        create_app(MockSettings(fixtures_dir=None, profile=profile))


# -- random profiles against their own documents ---------------------------------------------

TOKEN = load_tokens()[1].token
CORPUS: list[tuple[str, str, Any]] = [  # (method, path, JSON body or raw bytes)
    ("GET", "/me.json", None),
    ("GET", "/me.json?lang=mk", None),
    ("GET", "/me.json?lang=de", None),
    ("GET", "/patients", None),
    ("GET", "/patients?per_page=3&page=2", None),
    ("GET", "/patients?page=999", None),
    ("GET", "/patients?per_page=500", None),
    ("GET", "/patients?page=0&per_page=abc", None),
    ("GET", "/patients?is_active=false&fields=allergies,vip,preferences", None),
    ("GET", "/patients?is_active=maybe", None),
    ("GET", "/patients?q=hoxha&lang=mk", None),
    ("GET", "/patients?q=стојановски", None),
    ("GET", "/patients?email=MARIA@example.com", None),
    ("GET", "/patients?phone=069123", None),
    ("GET", "/patients?utm_source=x&page=1&page=2", None),
    ("GET", "/patients?fields=shoe_size", None),
    ("GET", "/patients?lang=de", None),
    ("GET", f"/patients/{MARIA}", None),
    ("GET", f"/patients/{MARIA}?fields=allergies,nope&lang=mk", None),
    ("GET", f"/patients/{MARIA}?fields=vip&fields=medical_issues", None),
    ("GET", "/patients/abc", None),
    ("GET", "/patients/0", None),
    ("GET", "/patients/999999", None),
    ("PUT", f"/patients/{MARIA}", {}),
    ("DELETE", f"/patients/{MARIA}", None),
    ("POST", "/patients", {"first_name": "Ana", "last_name": "Hoxha"}),
    (
        "POST",
        "/patients",
        {
            "first_name": " Ana ",
            "last_name": "Çela",
            "phone": "069 123 4567",
            "phone_country": "al",
            "external_id": "e-1",
            "blood_type": "XYZ",
            "nickname": "x",
        },
    ),
    (
        "POST",
        "/patients",
        {
            "first_name": "Ѓорѓи",
            "last_name": "Стојановски",
            "phone": "070 123 456",
            "external_id": "e-1",
            "preferred_doctor_id": 0,
        },
    ),
    ("POST", "/patients", {"first_name": "x" * 300, "last_name": "B\x00"}),
    ("POST", "/patients", {"first_name": "", "last_name": "B", "email": "nope"}),
    ("POST", "/patients", b"{nope"),
    ("POST", "/patients", b'{"first_name": "A", "last_name": "B"}'),
    ("PATCH", f"/patients/{MARIA}", {}),
    ("PATCH", f"/patients/{MARIA}", {"is_active": False}),
    ("GET", f"/patients/{MARIA}", None),
    ("GET", "/patients?is_active=false&q=hoxha", None),
    ("PATCH", f"/patients/{MARIA}", {"is_active": True, "phone": "+38970123456", "phone_country": None}),
    ("PATCH", "/patients/abc", {"first_name": "A"}),
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_random_profile_keeps_to_its_decided_document(seed: int) -> None:
    """A profile drawn at random builds an app, and openapi-core, checking each
    answer against the document as that profile decides it, finds nothing."""
    chooser = random.Random(seed)
    choices = {point.name: chooser.choice(sorted(point.alternatives)) for point in CATALOGUE}
    with mock_for(choices) as m:
        plain_text = {"Content-Type": "text/plain"}
        for method, path, body in CORPUS:
            if isinstance(body, bytes):
                response = m.client.request(method, path, content=body, headers=plain_text)
            else:
                response = m.client.request(method, path, json=body)
            assert response.status_code < 500, (method, path, response.text)
