"""Bad input on every operation, through uvicorn on a real port.

One table of cases (`CASES`), one test. Each case is sent as raw bytes (so
duplicate headers, stray whitespace and invalid UTF-8 reach the server as
written) and must get the status and body shape the spec documents, never a
500; a rejected write must leave the store exactly as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from dentare_spec import constraints, load_spec, object_shape
from tests.support import SPEC_PATH, RunningMock
from tests.support.reliability import assert_error_shape, raw_request, token

OWN, OTHER = 1, 4  # patients of account 1 and of account 2 in two_accounts_document()
TOKEN = token(1, 1)
AUTH = ("Authorization", f"Bearer {TOKEN}")
JSON = ("Content-Type", "application/json")
VALID_CREATE = b'{"first_name": "Valid", "last_name": "Patient"}'
VALID_PATCH = b'{"first_name": "Changed"}'
OPERATIONS = [  # (method, path, a valid body)
    ("GET", "/me.json", b""),
    ("GET", "/patients", b""),
    ("POST", "/patients", VALID_CREATE),
    ("GET", f"/patients/{OWN}", b""),
    ("PATCH", f"/patients/{OWN}", VALID_PATCH),
]
WRITES = [op for op in OPERATIONS if op[0] in ("POST", "PATCH")]

# The spec's Rails-style messages (info.description, "Errors").
RAILS = re.compile(
    r"can't be blank|is invalid|is not included in the list|is not a number|must be an integer"
    r"|must be (greater|less) than or equal to -?\d+|is too long \(maximum is \d+ characters\)"
    r"|has already been taken|is not a permitted field"
    # Where the spec fixes no wording (the body as a whole, a repeated parameter):
    r"|must be a JSON object|must be given only once"
)


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str  # under /api/v1, query included
    status: int
    body: bytes = b""
    headers: Sequence[tuple[str | bytes, str | bytes]] | None = None  # None: a valid token (+ JSON type on writes)
    errors: Mapping[str, Sequence[str]] | None = None  # the exact `errors` of a 422
    error_keys: frozenset[str] | None = None  # the `errors` keys, when the spec does not fix the message
    error_prefix: str | None = None  # how `error` starts
    chunked: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PATCH")


# -- the table ---------------------------------------------------------------------------------


def id_cases() -> Iterator[Case]:
    """Ids that cannot name one of this account's patients: 404, like an unknown id."""
    ids = {
        "abc": "abc", "negative": "-1", "zero": "0", "decimal": "1.5", "exponent": "1e3", "hex": "0x1",
        "plus": "%2B1", "space": "%201", "arabic-digit": "%D9%A1", "fullwidth-digit": "%EF%BC%91", "nul": "%00",
        "2^63-1": str(2**63 - 1), "2^63": str(2**63), "20-digits": "99999999999999999999",
        "other-account": str(OTHER),
    }  # fmt: skip
    for name, value in ids.items():
        yield Case(f"GET-id-{name}", "GET", f"/patients/{value}", 404)
        yield Case(f"PATCH-id-{name}", "PATCH", f"/patients/{value}", 404, VALID_PATCH)
        yield Case(f"PATCH-id-{name}-bad-body", "PATCH", f"/patients/{value}", 404, b"{nope")


def path_cases() -> Iterator[Case]:
    """Paths the spec does not define are 404, methods it does not define 405 with Allow."""
    unknown = ("/patients/", f"/patients/{OWN}/", "/me.json/", "/me", "/Patients", "/ME.JSON", "/patients//1",
               f"/patients/{OWN}/x", "/patients/%2F1", "/nope", "/", "/..%2Fmockserver")  # fmt: skip
    for path in unknown:
        for method in ("GET", "POST", "PATCH"):
            yield Case(f"{method}-path-{path}", method, path, 404, VALID_CREATE if method != "GET" else b"")
    allowed = {"/me.json": "GET", "/patients": "GET, POST", f"/patients/{OWN}": "GET, PATCH"}
    for path, allow in allowed.items():
        for method in ("PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "POST", "GET"):
            if method not in allow:
                yield Case(f"{method}-{path}-not-allowed", method, path, 405, extra={"allow": allow})


def query_cases() -> Iterator[Case]:
    at_least, at_most = "must be greater than or equal to 1", "must be less than or equal to"
    page = {
        "0": [at_least], "-1": [at_least], str(10**12): [f"{at_most} 2147483647"], "abc": ["is not a number"],
        "1.5": ["must be an integer"],
    }  # fmt: skip
    per_page = {
        "0": [at_least], "-1": [at_least], "101": [f"{at_most} 100"], str(10**12): [f"{at_most} 100"],
        "abc": ["is not a number"],
    }  # fmt: skip
    for name, table in (("page", page), ("per_page", per_page)):
        for value, messages in table.items():
            yield Case(f"{name}={value}", "GET", f"/patients?{name}={value}", 422, errors={name: messages})
        # Not fixed by the spec's wording: which message an empty, non-ASCII or repeated value gets.
        for label, query in (("empty", f"{name}="), ("arabic-digit", f"{name}=%D9%A1"),
                             ("fullwidth-digit", f"{name}=%EF%BC%91"), ("repeated", f"{name}=1&{name}=1"),
                             ("repeated-differently", f"{name}=1&{name}=2")):  # fmt: skip
            yield Case(f"{name}-{label}", "GET", f"/patients?{query}", 422, error_keys=frozenset({name}))
    # Enumerated parameters: an empty value is not one of the values (only string filters treat it as absent).
    for path in ("/me.json", "/patients", f"/patients/{OWN}"):
        for query in ("lang=", "lang=xx", "lang=MK", "lang=en&lang=en"):
            yield Case(f"GET-{path}-{query}", "GET", f"{path}?{query}", 422, error_keys=frozenset({"lang"}))
    for path in ("/patients", f"/patients/{OWN}"):
        for query in ("fields=nope", "fields=allergies,nope", "fields=ALLERGIES"):
            yield Case(
                f"GET-{path}-{query}", "GET", f"{path}?{query}", 422, errors={"fields": ["is not included in the list"]}
            )
    for query in ("is_active=maybe", "is_active=", "is_active=TRUE", "is_active=1"):
        yield Case(f"GET-/patients-{query}", "GET", f"/patients?{query}", 422, error_keys=frozenset({"is_active"}))
    for query in ("email=", "q=", "phone=", "personal_no=", "external_id=", "legacy_id="):
        yield Case(f"GET-/patients-{query}-is-absent", "GET", f"/patients?{query}", 200)
    yield Case(
        "q-too-long", "GET", "/patients?q=" + "a" * 256, 422, errors={"q": ["is too long (maximum is 255 characters)"]}
    )
    yield Case("page=101-past-the-end", "GET", "/patients?page=101", 200)
    yield Case("both-bad", "GET", "/patients?page=0&per_page=101", 422, error_keys=frozenset({"page", "per_page"}))
    # Query parameters the spec does not define are ignored, on every operation.
    for method, path, body in OPERATIONS:
        status = {"POST": 201}.get(method, 200)
        for label, query in (("unknown", "foo=bar"), ("unknown-repeated", "foo=1&foo=2"),
                             ("unknown-case", "PAGE=0&Per_Page=abc"), ("undefined-here", "page=0&per_page=abc"),
                             ("binary-name", "%FF%00=1")):  # fmt: skip
            if path == "/patients" and method == "GET" and label == "undefined-here":
                continue  # defined on the list
            yield Case(f"{method}-{path}-{label}", method, f"{path}?{query}", status, body)


def _writable() -> Mapping[str, Any]:
    return object_shape(load_spec(SPEC_PATH).schema("PatientWritable")).properties


WRONG_VALUES: Mapping[str, Sequence[Any]] = {
    "string": [12345, 1.5, True, [], {"a": "b"}],
    "boolean": ["true", 1, 0, "yes", [], {}],
    "integer": ["7", True, [], {}],
}


NOT_PERMITTED = (
    "id", "display_name", "display_first_name", "phone_e164", "legacy_id", "created_at", "updated_at", "vip",
    "preferences", "medical_issues", "account_id", "unknown_field", "",
)  # fmt: skip
WRONG_CONTENT_TYPES = {
    "text-plain": "text/plain", "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x", "json-ish": "application/jsonx",
    "vendor-json": "application/vnd.api+json", "latin1-charset": "application/json; charset=latin-1",
    "utf16-charset": "application/json; charset=utf-16", "empty": "",
}  # fmt: skip


def _write_body(method: str, values: Mapping[str, Any]) -> bytes:
    base = {"first_name": "Valid", "last_name": "Patient"} if method == "POST" else {}
    return json.dumps({**base, **values}, ensure_ascii=False).encode()


def body_cases() -> Iterator[Case]:
    mib = 1_048_576
    padded = VALID_CREATE[:-1] + b" " * (mib - len(VALID_CREATE)) + b"}"
    for method, path, valid in WRITES:
        ok = 201 if method == "POST" else 200
        p = f"{method}-"
        # Not JSON, or not an object.
        for label, body in (("truncated", b"{"), ("garbage", b"nope"), ("trailing-comma", b'{"a": 1,}'),
                            ("single-quotes", b"{'first_name': 'x'}"), ("nan", b'{"preferred_doctor_id": NaN}'),
                            ("two-documents", valid + valid), ("empty", b""), ("whitespace", b"  \n ")):  # fmt: skip
            yield Case(p + label, method, path, 400, body, error_prefix="Malformed JSON")
        for label, body in (("array", b"[]"), ("string", b'"x"'), ("null", b"null"), ("number", b"42"),
                            ("true", b"true"), ("array-of-object", b"[" + valid + b"]")):  # fmt: skip
            yield Case(p + label, method, path, 422, body, error_keys=frozenset({"base"}))
        # Deep nesting: refused by the parser's depth limit, not by recursion in the server.
        for label, body in (("deep-arrays", b"[" * 10_000 + b"]" * 10_000),
                            ("deep-objects", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
                            ("deep-in-a-field", b'{"first_name":' + b"[" * 10_000 + b"]" * 10_000 + b"}")):  # fmt: skip
            yield Case(p + label, method, path, 400, body, error_prefix="Malformed JSON")
        # Size: 1 MiB is the limit, declared or streamed.
        big = b'{"first_name": "' + b"a" * 10_000_000 + b'", "last_name": "x"}'
        yield Case(p + "10MB", method, path, 413, big, error_prefix="Payload Too Large")
        yield Case(p + "10MB-chunked", method, path, 413, big, error_prefix="Payload Too Large", chunked=True)
        yield Case(p + "1MiB+1", method, path, 413, padded + b" ", error_prefix="Payload Too Large")
        if method == "POST":
            yield Case(p + "exactly-1MiB", method, path, 201, padded)
        # Bytes that are not UTF-8, and NUL.
        for label, raw in (("latin1", b"\xe9"), ("lone-continuation", b"\x80"), ("overlong-slash", b"\xc0\xaf"),
                           ("utf8-surrogate", b"\xed\xa0\x80"), ("truncated-sequence", b"\xe2\x82"),
                           ("raw-nul", b"a\x00b"), ("raw-newline", b"a\nb")):  # fmt: skip
            body = b'{"first_name": "' + raw + b'", "last_name": "x"}'
            yield Case(p + label, method, path, 400, body, error_prefix="Malformed JSON")
        yield Case(
            p + "escaped-lone-surrogate", method, path, 400, b'{"first_name": "\\ud800"}', error_prefix="Malformed JSON"
        )
        yield Case(p + "nul-after-document", method, path, 400, valid + b"\x00", error_prefix="Malformed JSON")
        yield Case(p + "utf8-bom", method, path, 400, b"\xef\xbb\xbf" + valid, error_prefix="Malformed JSON")
        yield Case(p + "utf16", method, path, 400, valid.decode().encode("utf-16"), error_prefix="Malformed JSON")
        for name in ("first_name", "personal_no", "allergies"):
            yield Case(
                f"{p}escaped-nul-in-{name}",
                method,
                path,
                422,
                _write_body(method, {name: "a\u0000b"}),
                errors={name: ["is invalid"]},
            )
            yield Case(
                f"{p}escaped-escape-in-{name}",
                method,
                path,
                422,
                _write_body(method, {name: "a\u001bb"}),
                errors={name: ["is invalid"]},
            )
        # Each writable field: too long, and each wrong type.
        for name, schema in _writable().items():
            found = constraints(schema)
            kind, limit = found.type or "string", found.max_length
            if limit:
                # (An email of 256 characters is also malformed: no address is that long; both are said.)
                yield Case(
                    f"{p}{name}-too-long",
                    method,
                    path,
                    422,
                    _write_body(method, {name: "a" * (limit + 1)}),
                    error_keys=frozenset({name}),
                    extra={"message": f"is too long (maximum is {limit} characters)"},
                )
                yield Case(
                    f"{p}{name}-1MB-string",
                    method,
                    path,
                    413,
                    _write_body(method, {name: "a" * (mib + 1)}),
                    error_prefix="Payload Too Large",
                )
            for value in WRONG_VALUES[kind]:
                label = json.dumps(value)[:12]
                yield Case(
                    f"{p}{name}-wrong-type-{label}",
                    method,
                    path,
                    422,
                    _write_body(method, {name: value}),
                    error_keys=frozenset({name}),
                )
        for name in ("first_name", "last_name", "is_active"):
            yield Case(
                f"{p}{name}-null",
                method,
                path,
                422,
                _write_body(method, {name: None}),
                errors={name: ["can't be blank"]},
            )
        for name in ("first_name", "last_name"):
            for label, blank in (("empty", ""), ("spaces", "   "), ("nbsp", "\u00a0"), ("ideographic-space", "\u3000")):
                yield Case(
                    f"{p}{name}-blank-{label}",
                    method,
                    path,
                    422,
                    _write_body(method, {name: blank}),
                    errors={name: ["can't be blank"]},
                )
        for name, value, messages in (
            ("preferred_doctor_id", 0, ["must be greater than or equal to 1"]),
            ("preferred_doctor_id", 2**31, ["must be less than or equal to 2147483647"]),
            ("preferred_doctor_id", 2**64, ["must be less than or equal to 2147483647"]),
            ("preferred_doctor_id", 1.5, ["must be an integer"]),
            ("gender", "unknown", ["is not included in the list"]),
            ("locale", "de", ["is not included in the list"]),
            ("blood_type", "C+", ["is not included in the list"]),
            ("phone_country", "ZZ", ["is not included in the list"]),
            ("email", "not-an-email", ["is invalid"]),
            ("birthdate", "2020-02-30", ["is invalid"]),
            ("birthdate", "15.05.1990", ["is invalid"]),
        ):
            yield Case(
                f"{p}{name}={value}", method, path, 422, _write_body(method, {name: value}), errors={name: messages}
            )
        # Read-only and unknown fields.
        for name in NOT_PERMITTED:
            yield Case(
                f"{p}read-only-{name or 'empty-key'}",
                method,
                path,
                422,
                _write_body(method, {name: "x"}),
                errors={name: ["is not a permitted field"]},
            )
        if method == "POST":
            yield Case(
                "POST-missing-last_name",
                method,
                path,
                422,
                b'{"first_name": "Only"}',
                errors={"last_name": ["can't be blank"]},
            )
            yield Case(
                "POST-empty-object",
                method,
                path,
                422,
                b"{}",
                errors={"first_name": ["can't be blank"], "last_name": ["can't be blank"]},
            )
        # Content-Type.
        for label, value in WRONG_CONTENT_TYPES.items():
            yield Case(f"{p}content-type-{label}", method, path, 415, valid, headers=[AUTH, ("Content-Type", value)])
        yield Case(f"{p}content-type-missing", method, path, 415, valid, headers=[AUTH])
        for label, value in (("charset", "application/json; charset=utf-8"), ("upper-case", "Application/JSON"),
                             ("quoted-charset", 'application/json; charset="UTF-8"')):  # fmt: skip
            yield Case(f"{p}content-type-ok-{label}", method, path, ok, valid, headers=[AUTH, ("Content-Type", value)])
        # Which error wins: authentication first, then the id, then the body.
        yield Case(f"{p}no-token-bad-body", method, path, 401, b"{nope", headers=[JSON])
        yield Case(f"{p}no-token-no-type", method, path, 401, valid, headers=[])


def auth_cases() -> Iterator[Case]:
    variants: dict[str, list[tuple[str | bytes, str | bytes]]] = {
        "missing": [],
        "just-bearer": [("Authorization", "Bearer")],
        "bearer-space": [("Authorization", "Bearer ")],
        "two-spaces": [("Authorization", f"Bearer  {TOKEN}")],
        "tab": [("Authorization", f"Bearer\t{TOKEN}")],
        "lower-case": [("Authorization", f"bearer {TOKEN}")],
        "upper-case": [("Authorization", f"BEARER {TOKEN}")],
        "trailing-space": [("Authorization", f"Bearer {TOKEN} ")],
        "trailing-tab": [("Authorization", f"Bearer {TOKEN}\t")],
        "token-scheme": [("Authorization", f"Token {TOKEN}")],
        "basic": [("Authorization", "Basic dXNlcjpwYXNz")],
        "no-scheme": [("Authorization", TOKEN)],
        "two-in-one": [("Authorization", f"Bearer {TOKEN}, Bearer {TOKEN}")],
        "twice": [("Authorization", f"Bearer {TOKEN}"), ("Authorization", f"Bearer {TOKEN}")],
        "twice-other-case": [("Authorization", f"Bearer {TOKEN}"), ("authorization", f"Bearer {TOKEN}")],
        "8KB-token": [("Authorization", "Bearer " + "a" * 8192)],
        "revoked": [("Authorization", f"Bearer {token(1, 3)}")],
        "unknown": [("Authorization", f"Bearer {TOKEN[:-1]}y")],
        "token-prefix": [("Authorization", f"Bearer {TOKEN[:-1]}")],
        "utf8-token": [("Authorization", "Bearer tökën".encode())],
        "latin1-token": [("Authorization", b"Bearer t\xf6k\xebn")],
        "quoted-token": [("Authorization", f'Bearer "{TOKEN}"')],
    }
    for method, path, body in OPERATIONS:
        for label, headers in variants.items():
            sent = [*headers, JSON] if body else headers
            yield Case(f"{method}-{path}-auth-{label}", method, path, 401, body, headers=sent)


CASES = [*path_cases(), *id_cases(), *query_cases(), *body_cases(), *auth_cases()]


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def target(rmock: RunningMock) -> RunningMock:
    rmock.reset()
    return rmock


def _state(mock: RunningMock) -> Any:
    return raw_request(mock.root_url, "GET", "/__mock/state").json()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(target: RunningMock, case: Case) -> None:
    headers = case.headers
    if headers is None:
        headers = [AUTH, JSON] if case.is_write else [AUTH]
    before = _state(target) if case.is_write and case.status >= 400 else None

    response = raw_request(
        target.root_url, case.method, "/api/v1" + case.path, headers, case.body, chunked=case.chunked
    )

    assert response.status == case.status, response.body[:500]
    assert response.header("content-type") == "application/json"
    body = response.json()
    if case.status >= 400:
        assert_error_shape(case.status, body)
    if case.status == 401:
        assert response.header("www-authenticate") == "Bearer"
    if case.errors is not None:
        assert body["errors"] == case.errors
    if case.error_keys is not None:
        assert set(body["errors"]) == case.error_keys
    if case.status == 422:
        assert all(RAILS.fullmatch(m) for messages in body["errors"].values() for m in messages), body
    if "allow" in case.extra:
        assert response.header("allow") == case.extra["allow"]
    if "message" in case.extra:
        assert case.extra["message"] in next(iter(body["errors"].values()))
    if case.error_prefix is not None:
        assert body["error"].startswith(case.error_prefix)
    if before is not None:
        assert _state(target) == before, "a rejected write changed the store"


def test_the_table_is_large_enough() -> None:
    """Guards against a generator silently yielding nothing."""
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(CASES) > 400


# -- what is accepted comes back exactly ------------------------------------------------------

ROUND_TRIP = {
    "macedonian": "Ѓорѓија Ќосевска-Џафероска Ѕвездан Љубица Његош",
    "albanian": "Ëndrit Çela Xhaferr Gjonbalaj Dhëmbçe",
    "emoji": "👩‍⚕️🦷🇦🇱🇲🇰👍🏽",
    "decomposed": "Nde\u0308rim C\u0327ela",  # NFD: must not be normalized to NFC
    "mixed": "Mária Ћирић-Hoxha 😀 «citat» „quote“",
    "separators": "a\u2028b\u2029c\u00a0d\u200be",
    "tab-newline": "line\tone\nline two\r\n",  # allowed by the spec's pattern (only other controls are not)
    "255-emoji": "🦷" * 255,  # maxLength counts characters, not bytes
    "json-specials": '"quoted" \\ back\\slash </script>',
}


@pytest.mark.parametrize("ascii_escaped", [False, True], ids=["raw-utf8", "escaped"])
@pytest.mark.parametrize("value", list(ROUND_TRIP.values()), ids=list(ROUND_TRIP))
def test_text_round_trips_exactly(target: RunningMock, value: str, ascii_escaped: bool) -> None:
    fields = {
        "first_name": value,
        "last_name": value,
        "personal_no": value,
        "external_id": None,
        "allergies": value,
        "emergency_contact_name": value,
        "insurance_provider": value,
    }
    create = json.dumps(fields, ensure_ascii=ascii_escaped).encode()
    created = raw_request(target.root_url, "POST", "/api/v1/patients", [AUTH, JSON], create)
    assert created.status == 201, created.body[:300]
    patient_id = created.json()["data"]["id"]
    for name in ("first_name", "last_name", "personal_no"):
        assert created.json()["data"][name] == value

    expansions = "allergies,emergency_contact_name,insurance_provider"
    read = raw_request(target.root_url, "GET", f"/api/v1/patients/{patient_id}?fields={expansions}", [AUTH]).json()
    assert {k: read["data"][k] for k in fields if k != "external_id"} == {k: v for k, v in fields.items() if v}

    # And through PATCH: the same value again is a no-op, a new one is stored exactly.
    changed = value[::-1] if value.isprintable() else value + "!"
    patched = raw_request(
        target.root_url,
        "PATCH",
        f"/api/v1/patients/{patient_id}",
        [AUTH, JSON],
        json.dumps({"last_name": changed}, ensure_ascii=ascii_escaped).encode(),
    )
    assert patched.status == 200
    again = raw_request(target.root_url, "GET", f"/api/v1/patients/{patient_id}", [AUTH]).json()["data"]
    assert (again["first_name"], again["last_name"]) == (value, changed)


@pytest.mark.parametrize(("sent", "stored"), [(b"7", 7), (b"7.0", 7), (b"7e0", 7), (b"null", None)])
def test_an_integer_field_reads_back_as_an_integer(target: RunningMock, sent: bytes, stored: int | None) -> None:
    """JSON Schema counts 7.0 as an integer, so it is accepted; it must come back as 7,
    as from the real API, or a typed client (Go's int64, say) cannot decode it."""
    body = b'{"first_name": "Int", "last_name": "Check", "preferred_doctor_id": ' + sent + b"}"
    created = raw_request(target.root_url, "POST", "/api/v1/patients", [AUTH, JSON], body)
    assert created.status == 201
    assert b'"preferred_doctor_id":' + json.dumps(stored).encode() + b"," in created.body
    patient_id = created.json()["data"]["id"]
    read = raw_request(target.root_url, "GET", f"/api/v1/patients/{patient_id}", [AUTH])
    assert b'"preferred_doctor_id":' + json.dumps(stored).encode() + b"," in read.body
    patched = raw_request(
        target.root_url,
        "PATCH",
        f"/api/v1/patients/{patient_id}",
        [AUTH, JSON],
        b'{"preferred_doctor_id": ' + sent + b"}",
    )
    assert b'"preferred_doctor_id":' + json.dumps(stored).encode() + b"," in patched.body
