"""Bad input through the validating proxy (`dentare-mock proxy`) in front of the
mock: what the API refuses comes back as the mock answered it (never a 500 of
the proxy's own, even when openapi-core cannot read the request), paths
beyond the API are the proxy's 404, and what its HTTP parser refuses is a JSON
400 or 431. Data only; the test is in test_bad_input_layers.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tests.support.reliability import token

from .test_bad_input import AUTH, CASES, JSON

__all__ = ["PROXY_CASES", "ProxyCase"]

PADDED = "Bad Request: the proxy cannot forward the "
#: A step up hidden in a segment (`..%2f`, `..%5c`, `..;`): the proxy answers it, never forwards it.
_STEP_UP = re.compile(r"\.\.(%2f|%5c|;)", re.IGNORECASE)


@dataclass(frozen=True)
class ProxyCase:
    id: str
    method: str
    target: str | bytes  # the whole path, query included
    status: int
    body: bytes = b""
    headers: Sequence[tuple[str | bytes, str | bytes]] = ()
    #: Raw bytes sent instead of a request built from the fields above.
    raw: bytes | None = None
    #: Whether the proxy counts it as an exchange (it reached the mock, or was refused with a violation).
    counted: bool = True
    error_prefix: str | None = None

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


def api_cases() -> Iterator[ProxyCase]:
    """Every seventh case of the API's own table (test_bad_input.py), through the proxy, as the
    mock answers it; a header with whitespace around its value, which no HTTP/1.1 client may
    send and httpx cannot, is the proxy's own 400 (counted, with a violation)."""
    for case in CASES[::7]:
        if case.chunked:
            continue
        headers = case.headers if case.headers is not None else ([AUTH, JSON] if case.is_write else [AUTH])
        padded = any(_value(v) != _value(v).strip(b" \t") for _, v in headers)
        yield ProxyCase(
            f"api-{case.id}",
            case.method,
            "/api/v1" + case.path,
            400 if padded else case.status,
            case.body,
            headers,
            error_prefix=PADDED if padded else None,
            counted=not _STEP_UP.search(case.path),  # the proxy's own 404, as for the paths beyond the API
        )


def _value(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def padded_header_cases() -> Iterator[ProxyCase]:
    for name, value in (
        ("Authorization", f"Bearer {token(1, 1)} "),
        ("Authorization", f"Bearer {token(1, 1)}\t"),
        ("X-Trace", "id "),
        ("Accept", "application/json\t"),
    ):
        yield ProxyCase(
            f"padded-{name}-{value[-1]!r}",
            "GET",
            "/api/v1/me.json",
            400,
            headers=[AUTH, (name, value)] if name != "Authorization" else [(name, value)],
            error_prefix=PADDED,
        )


def unreadable_cases() -> Iterator[ProxyCase]:
    """Requests openapi-core raised on (the proxy answered 500 and lost the exchange)."""
    for label, content_type, body, status in (
        ("invalid-utf8", "application/json", b'{"first_name": "\xff", "last_name": "B"}', 400),
        ("lone-continuation", "application/json", b'{"first_name": "\x80"}', 400),
        ("deep-5000", "application/json", b'{"first_name": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400),
        ("deep-900", "application/json", b'{"first_name": ' + b"[" * 900 + b"]" * 900 + b', "last_name": "B"}', 422),
        ("content-type-semicolons", ";;;", b'{"first_name": "A", "last_name": "B"}', 415),
        ("content-type-empty-params", "application/json;;", b'{"first_name": "A", "last_name": "B"}', 415),
        ("content-type-bad-charset", "application/json; charset=\xff", b"{}", 415),
        (
            "int-5000-digits",
            "application/json",
            b'{"first_name": "A", "last_name": "B", "preferred_doctor_id": ' + b"1" * 5000 + b"}",
            422,
        ),
        (
            "float-out-of-range",
            "application/json",
            b'{"first_name": "A", "last_name": "B", "preferred_doctor_id": 1e400}',
            422,
        ),
        ("nan", "application/json", b'{"first_name": "A", "last_name": "B", "preferred_doctor_id": NaN}', 400),
    ):
        yield ProxyCase(
            f"unreadable-{label}", "POST", "/api/v1/patients", status, body, [AUTH, ("Content-Type", content_type)]
        )
    for label, query, status in (
        ("page-5000-digits", "page=" + "1" * 5000, 422),
        ("per-page-inf", "per_page=1e999", 422),
        ("q-invalid-utf8", "q=%ff%fe", 200),
        ("q-raw-utf8", "q=хоџа", 200),
        ("fields-nul", "fields=%00", 422),
    ):
        yield ProxyCase(f"unreadable-query-{label}", "GET", f"/api/v1/patients?{query}", status, b"", [AUTH])


def beyond_the_api_cases() -> Iterator[ProxyCase]:
    for method, target, body in (
        ("POST", "/__mock/reset", b"{}"),
        ("GET", "/__mock/state", b""),
        ("PUT", "/__mock/state", b"{}"),
        ("POST", "/__mock/accounts/1/tokens", b'{"name": "via the proxy"}'),
        ("GET", "/__mock/tokens", b""),
        ("DELETE", "/__mock/tokens/11", b"{}"),
        ("POST", "/__mock/accounts/1/import", b"first_name,last_name\n"),
        ("GET", "/docs", b""),
        ("GET", "/openapi.json", b""),
        ("GET", "/openapi.yaml", b""),
        ("GET", "/", b""),
        ("GET", "/api/v1x/me.json", b""),
        ("GET", "/api", b""),
        ("GET", "/api/v1/../__mock/state", b""),
        ("GET", "/api/v1/%2e%2e/__mock/state", b""),
        ("GET", "/api/v1/%2E./__mock/state", b""),
        ("GET", "/api/v1/..%2f__mock/state", b""),
        ("GET", "/api/v1/..%5c__mock/state", b""),
        ("GET", "/api/v1/..;/__mock/state", b""),
        ("GET", "/api/v1/./me.json", b""),
        ("POST", "/api/v1/../__mock/reset", b"{}"),
    ):
        yield ProxyCase(f"beyond-{method}-{target}", method, target, 404, body, [JSON], counted=False)


def parser_cases() -> Iterator[ProxyCase]:
    auth = b"Authorization: Bearer " + token(1, 1).encode()
    for label, data, status in (
        ("nul-in-target", b"GET /api/v1/me.json\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            "bad-chunk-size",
            b"POST /api/v1/patients HTTP/1.1\r\nHost: x\r\n"
            + auth
            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
        ),
        ("header-without-colon", b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n", 400),
        ("garbage", b"\x16\x03\x01\x00\x01\x00\r\n\r\n", 400),
        ("head-70-KiB", b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ):
        yield ProxyCase(f"parser-{label}", "RAW", "", status, raw=data, counted=False)
    # The proxy allows a larger head than the mock: the mock's own 431 comes back through it.
    yield ProxyCase("parser-head-40-KiB-forwarded", "GET", "/api/v1/me.json", 431, b"", [AUTH, ("X-Pad", "a" * 40_000)])


PROXY_CASES = [*api_cases(), *padded_header_cases(), *unreadable_cases(), *beyond_the_api_cases(), *parser_cases()]
