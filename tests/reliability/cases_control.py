"""Bad input to the control API (/__mock) and the API Tokens page: Host headers
that do not name the server (DNS rebinding), Origins that are not its own,
content types a form or a simple fetch can send, bodies that are malformed,
too large, too deep or of the wrong shape, ids no route can name, methods no
route has. Every one is refused in the `{"error": ...}` shape and changes
nothing. Data only; the test is in test_bad_input_layers.py.

`{port}` in a Host or header value is replaced by the running mock's port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tests.support.reliability import two_accounts_document

from .cases_state import UNANSWERABLE_PATIENTS

__all__ = ["CONTROL_CASES", "ControlCase"]


@dataclass(frozen=True)
class ControlCase:
    id: str
    method: str
    path: str
    status: int
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = field(default_factory=list)
    #: "default": the mock's own 127.0.0.1:port; None: no Host header at all.
    host: str | None = "default"
    errors: Mapping[str, Sequence[str]] | None = None
    error_prefix: str | None = None


JSON = ("Content-Type", "application/json")
CSV = ("Content-Type", "text/csv")
ROUTES = [  # (method, path, a body it would take, its content type)
    ("POST", "/__mock/reset", b"{}", JSON),
    ("GET", "/__mock/state", b"", None),
    ("PUT", "/__mock/state", b'{"accounts": []}', JSON),
    ("GET", "/__mock/accounts", b"", None),
    ("GET", "/__mock/accounts/1/tokens", b"", None),
    ("POST", "/__mock/accounts/1/tokens", b'{"name": "control cases"}', JSON),
    ("DELETE", "/__mock/tokens/11", b"{}", JSON),
    ("GET", "/__mock/tokens", b"", None),
    ("POST", "/__mock/accounts/1/import", b"first_name,last_name\nA,B\n", CSV),
]
WRITES = [route for route in ROUTES if route[0] != "GET"]
FORBIDDEN = "Forbidden"
MALFORMED = "Malformed JSON"
NOT_OBJECT = {"base": ["must be a JSON object"]}


def _headers(content_type: tuple[str, str] | None, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [*([content_type] if content_type else []), *extra]


def host_cases() -> Iterator[ControlCase]:
    hosts = {
        "other-site": "evil.example",
        "other-site-port": "evil.example:{port}",
        "rebinding-name": "127.0.0.1.nip.io:{port}",
        "loopback-suffix": "localhost.evil.example:{port}",
        "wildcard": "0.0.0.0:{port}",
        "private-address": "10.0.0.1:{port}",
        "other-v6": "[::2]:{port}",
        "two-ports": "127.0.0.1:{port}:80",
        "unclosed-v6": "[::1:{port}",
        "bare-v6": "::1",
        "userinfo": "user@127.0.0.1:{port}",
        "path": "127.0.0.1:{port}/x",
        "empty": "",
    }
    for label, host in hosts.items():
        for method, path, body, content_type in ROUTES:
            yield ControlCase(
                f"host-{label}-{method}-{path}",
                method,
                path,
                403,
                body,
                _headers(content_type),
                host=host,
                error_prefix=FORBIDDEN,
            )
    for method, path, body, content_type in ROUTES:
        yield ControlCase(
            f"host-missing-{method}-{path}",
            method,
            path,
            403,
            body,
            _headers(content_type),
            host=None,
            error_prefix=FORBIDDEN,
        )


def origin_cases() -> Iterator[ControlCase]:
    origins = {
        "other-site": "http://evil.example",
        "other-port": "http://127.0.0.1:1",
        "null": "null",
        "other-scheme": "https://127.0.0.1:{port}",
        "other-name": "http://localhost:{port}",
        "with-path": "http://127.0.0.1:{port}/",
        "no-port": "http://127.0.0.1",
    }
    for label, origin in origins.items():
        for method, path, body, content_type in ROUTES:
            yield ControlCase(
                f"origin-{label}-{method}-{path}",
                method,
                path,
                403,
                body,
                _headers(content_type, ("Origin", origin)),
                error_prefix=FORBIDDEN,
            )
    for method, path, body, content_type in ROUTES:
        # Its own origin, then another: which one a browser meant is anyone's guess.
        twice = (("Origin", "http://127.0.0.1:{port}"), ("Origin", "http://evil.example"))
        yield ControlCase(
            f"origin-twice-{method}-{path}",
            method,
            path,
            403,
            body,
            _headers(content_type, *twice),
            error_prefix=FORBIDDEN,
        )
    for method, path, body, content_type in ROUTES:
        yield ControlCase(
            f"cross-site-{method}-{path}",
            method,
            path,
            403,
            body,
            _headers(content_type, ("Sec-Fetch-Site", "cross-site")),
            error_prefix=FORBIDDEN,
        )


def content_type_cases() -> Iterator[ControlCase]:
    types = {
        "text-plain": "text/plain",
        "form": "application/x-www-form-urlencoded",
        "multipart": "multipart/form-data; boundary=x",
        "jsonx": "application/jsonx",
        "text-json": "text/json",
        "latin1-charset": "application/json; charset=latin-1",
        "utf16-charset": "application/json; charset=utf-16",
        "semicolons": ";;;",
        "empty": "",
    }
    for label, value in types.items():
        for method, path, body, content_type in WRITES:
            if content_type == CSV and label == "empty":
                continue
            yield ControlCase(
                f"content-type-{label}-{method}-{path}",
                method,
                path,
                415,
                body,
                [("Content-Type", value)],
                error_prefix="Unsupported Media Type",
            )
    for method, path, body, content_type in WRITES:
        yield ControlCase(
            f"content-type-missing-{method}-{path}", method, path, 415, body, [], error_prefix="Unsupported Media Type"
        )
        other = CSV if content_type == JSON else JSON
        yield ControlCase(
            f"content-type-swapped-{method}-{path}",
            method,
            path,
            415,
            body,
            [other],
            error_prefix="Unsupported Media Type",
        )


def body_cases() -> Iterator[ControlCase]:
    malformed = {
        "truncated": b"{",
        "garbage": b"nope",
        "single-quotes": b"{'name': 'x'}",
        "trailing-comma": b'{"a": 1,}',
        "nan": b'{"name": NaN}',
        "latin1": b'{"name": "\xe9"}',
        "lone-surrogate": b'{"name": "\\ud800"}',
        "bom": b"\xef\xbb\xbf{}",
        "two-documents": b"{}{}",
        "deep-2000": b"[" * 2000 + b"]" * 2000,
        "nul": b"{}\x00",
        "utf16": "{}".encode("utf-16"),
    }
    for label, body in malformed.items():
        for method, path in (
            ("POST", "/__mock/reset"),
            ("POST", "/__mock/accounts/1/tokens"),
            ("PUT", "/__mock/state"),
            ("DELETE", "/__mock/tokens/11"),
        ):
            yield ControlCase(f"body-{label}-{method}-{path}", method, path, 400, body, [JSON], error_prefix=MALFORMED)
    for method, path in (("POST", "/__mock/reset"), ("POST", "/__mock/accounts/1/tokens"), ("PUT", "/__mock/state")):
        yield ControlCase(f"body-empty-{method}-{path}", method, path, 400, b"", [JSON], error_prefix=MALFORMED)
        yield ControlCase(
            f"body-whitespace-{method}-{path}", method, path, 400, b" \n ", [JSON], error_prefix=MALFORMED
        )
    for label, body in (("array", b"[]"), ("string", b'"x"'), ("number", b"7"), ("null", b"null"), ("true", b"true")):
        for method, path in (
            ("POST", "/__mock/reset"),
            ("POST", "/__mock/accounts/1/tokens"),
            ("DELETE", "/__mock/tokens/11"),
        ):
            yield ControlCase(f"body-{label}-{method}-{path}", method, path, 422, body, [JSON], errors=NOT_OBJECT)
        yield ControlCase(
            f"body-{label}-PUT-state",
            "PUT",
            "/__mock/state",
            422,
            body,
            [JSON],
            errors={"base": ["state document: expected an object with an 'accounts' list"]},
        )
    big = b'{"name": "' + b"a" * (1024 * 1024) + b'"}'
    for method, path in (
        ("POST", "/__mock/reset"),
        ("POST", "/__mock/accounts/1/tokens"),
        ("DELETE", "/__mock/tokens/11"),
    ):
        yield ControlCase(
            f"body-1-MiB-{method}-{path}", method, path, 413, big, [JSON], error_prefix="Payload Too Large"
        )


def token_name_cases() -> Iterator[ControlCase]:
    blank, invalid = {"name": ["can't be blank"]}, {"name": ["is invalid"]}
    for label, name, errors in (
        ("missing", None, blank),
        ("null", b"null", blank),
        ("number", b"5", blank),
        ("list", b"[]", blank),
        ("object", b"{}", blank),
        ("true", b"true", blank),
        ("empty", b'""', blank),
        ("spaces", b'"   "', blank),
        ("256-chars", b'"' + b"a" * 256 + b'"', {"name": ["is too long (maximum is 255 characters)"]}),
        ("256-emoji", '"{}"'.format("🦷" * 256).encode(), {"name": ["is too long (maximum is 255 characters)"]}),
        ("nul", b'"a\\u0000b"', invalid),
        ("escape", b'"a\\u001bb"', invalid),
        ("del", b'"a\\u007fb"', invalid),
        ("deep-300", b"[" * 300 + b"]" * 300, blank),
        ("number-5000-digits", b"1" * 5000, blank),
        ("number-out-of-float-range", b"1e400", blank),
    ):
        body = b"{}" if name is None else b'{"name": ' + name + b"}"
        yield ControlCase(f"token-name-{label}", "POST", "/__mock/accounts/1/tokens", 422, body, [JSON], errors=errors)


def state_document_cases() -> Iterator[ControlCase]:
    for label, document in (
        ("accounts-not-list", b'{"accounts": "x"}'),
        ("accounts-missing", b'{"patients": []}'),
        ("account-without-id", b'{"accounts": [{"name": "x"}]}'),
        ("patients-not-list", b'{"accounts": [], "patients": {}}'),
        (
            "patient-of-no-account",
            b'{"accounts": [], "patients": [{"id": 1, "account_id": 9, "first_name": "A",'
            b' "last_name": "B", "created_at": "2026-01-01T00:00:00Z"}]}',
        ),
        (
            "patient-id-5000-digits",
            b'{"accounts": [{"id": 1, "name": "A"}], "patients": [{"id": '
            + b"1" * 5000
            + b', "account_id": 1, "first_name": "A", "last_name": "B",'
            b' "created_at": "2026-01-01T00:00:00Z"}]}',
        ),
        ("account-id-5000-digits", b'{"accounts": [{"id": ' + b"9" * 5000 + b', "name": "A"}]}'),
    ):
        yield ControlCase(f"state-{label}", "PUT", "/__mock/state", 422, document, [JSON])
    for label, (change, name, message) in UNANSWERABLE_PATIENTS.items():
        yield ControlCase(
            f"state-patient-{label}",
            "PUT",
            "/__mock/state",
            422,
            _state_with(change),
            [JSON],
            errors={f"patients[id=1].{name}": [message]},
        )


def _state_with(change: Mapping[str, object]) -> bytes:
    document = two_accounts_document()
    patient = {**document["patients"][0], "updated_at": "2026-01-02T00:00:00Z"}  # else it follows created_at
    document["patients"][0] = {**patient, **change}
    return json.dumps(document).encode()  # orjson cannot write the 300-deep value


def path_cases() -> Iterator[ControlCase]:
    for label, value in (
        ("letters", "abc"),
        ("zero-padded-huge", "0" * 30 + "1"),
        ("negative", "-1"),
        ("20-digits", "99999999999999999999"),
        ("decimal", "1.5"),
        ("nul", "%00"),
        ("arabic-digit", "%D9%A1"),
        ("unknown", "999"),
    ):
        yield ControlCase(f"path-tokens-of-account-{label}", "GET", f"/__mock/accounts/{value}/tokens", 404)
        yield ControlCase(
            f"path-new-token-for-account-{label}",
            "POST",
            f"/__mock/accounts/{value}/tokens",
            404,
            b'{"name": "x"}',
            [JSON],
        )
        yield ControlCase(f"path-revoke-token-{label}", "DELETE", f"/__mock/tokens/{value}", 404, b"{}", [JSON])
        yield ControlCase(
            f"path-import-into-{label}",
            "POST",
            f"/__mock/accounts/{value}/import",
            404,
            b"first_name,last_name\nA,B\n",
            [CSV],
        )
    for path in (
        "/__mock",
        "/__mock/",
        "/__mock/nope",
        "/__mock/accounts/1",
        "/__mock/tokens/11/x",
        "/__mock/state/",
        "/__mock/../__mock/state",
    ):
        yield ControlCase(f"path-unknown-{path}", "GET", path, 404)
    for method, path in (
        ("GET", "/__mock/reset"),
        ("PUT", "/__mock/reset"),
        ("PATCH", "/__mock/state"),
        ("DELETE", "/__mock/state"),
        ("POST", "/__mock/accounts"),
        ("PUT", "/__mock/tokens/11"),
        ("GET", "/__mock/tokens/11"),
        ("POST", "/__mock/tokens"),
        ("DELETE", "/__mock/accounts/1/tokens"),
    ):
        yield ControlCase(f"method-{method}-{path}", method, path, 405, b"{}", [JSON])


CONTROL_CASES = [
    *host_cases(),
    *origin_cases(),
    *content_type_cases(),
    *body_cases(),
    *token_name_cases(),
    *state_document_cases(),
    *path_cases(),
]
