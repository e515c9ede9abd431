"""Bad input at the HTTP layer: whole requests as raw bytes, for the parser.

Each case is the exact bytes sent on a fresh connection and the status the
mock must answer, always with a JSON body in the documented shape: 400 for a
request the parser refuses (mockserver/web/http_protocol.py), 431 for a head
over 32 KiB, and the API's own answer for a request that is well-formed HTTP
(raw UTF-8 in the request line included). Data only; the test is in
test_bad_input_layers.py.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass

from tests.support.reliability import token

__all__ = ["HTTP_CASES", "HttpCase"]

AUTH = b"Authorization: Bearer " + token(1, 1).encode()
JSON = b"Content-Type: application/json"
CREATE = b'{"first_name": "Raw", "last_name": "Bytes"}'


@dataclass(frozen=True)
class HttpCase:
    id: str
    data: bytes
    status: int
    #: How the answer's `error` starts (None: not checked, e.g. the API's own answers).
    error_prefix: str | None = None

    @property
    def writes(self) -> bool:
        """Whether the request, were it taken, would change the store."""
        return self.data.split(b" ", 1)[0] in (b"POST", b"PATCH", b"PUT", b"DELETE")


MALFORMED = "Bad Request: malformed HTTP request"
TOO_LARGE = "Request Header Fields Too Large"


def _get(target: bytes, *headers: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return (
        b"GET "
        + target
        + b" "
        + version
        + b"\r\n"
        + b"".join(h + b"\r\n" for h in (b"Host: x", AUTH, *headers))
        + b"Connection: close\r\n\r\n"
    )


def _post(*headers: bytes, body: bytes = CREATE, target: bytes = b"/api/v1/patients") -> bytes:
    """A POST; its Content-Length is the body's unless `headers` frame the body themselves."""
    framed = any(h.lower().startswith((b"content-length", b"transfer-encoding")) for h in headers)
    length = () if framed else (b"Content-Length: %d" % len(body),)
    return (
        b"POST "
        + target
        + b" HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"\r\n"
        + JSON
        + b"\r\n"
        + b"".join(h + b"\r\n" for h in (*headers, *length))
        + b"Connection: close\r\n\r\n"
        + body
    )


def request_line_cases() -> Iterator[HttpCase]:
    for name, line in {
        "nul-in-method": b"G\x00ET /api/v1/me.json HTTP/1.1",
        "nul-in-target": b"GET /api/v1/me.json\x00 HTTP/1.1",
        "nul-mid-target": b"GET /api/\x00v1/me.json HTTP/1.1",
        "nul-in-query": b"GET /api/v1/patients?q=a\x00b HTTP/1.1",
        "nul-in-version": b"GET /api/v1/me.json HTTP/1.1\x00",
        "lower-case-method": b"get /api/v1/me.json HTTP/1.1",
        "unknown-method": b"FETCH /api/v1/me.json HTTP/1.1",
        "method-with-digits": b"G3T /api/v1/me.json HTTP/1.1",
        "tab-separated": b"GET\t/api/v1/me.json\tHTTP/1.1",
        "space-in-target": b"GET /api/v1/me .json HTTP/1.1",
        "version-lower-case": b"GET /api/v1/me.json http/1.1",
        "version-9.9": b"GET /api/v1/me.json HTTP/9.9",
        "version-1.10": b"GET /api/v1/me.json HTTP/1.10",
        "version-x": b"GET /api/v1/me.json HTTP/x.y",
        "version-junk": b"GET /api/v1/me.json HTTPS/1.1",
        "only-method": b"GET",
        "empty-target": b"GET  HTTP/1.1",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello to a plain-HTTP port
        "binary-line": b"\xff\xfe\xfd\xfc",
    }.items():
        yield HttpCase(f"line-{name}", line + b"\r\nHost: x\r\n" + AUTH + b"\r\n\r\n", 400, MALFORMED)
    # What the parser reads leniently is answered as usual.
    for name, line in {
        "two-spaces": b"GET  /api/v1/me.json HTTP/1.1",
        "no-version": b"GET /api/v1/me.json",
        "http-1.0": b"GET /api/v1/me.json HTTP/1.0",
        "absolute-form": b"GET http://127.0.0.1/api/v1/me.json HTTP/1.1",
    }.items():
        yield HttpCase(f"line-lenient-{name}", line + b"\r\nHost: x\r\n" + AUTH + b"\r\n\r\n", 200)
    # Control characters in the request target.
    for code in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]:
        yield HttpCase(
            f"target-control-{code:02x}", _get(b"/api/v1/patients?q=a" + bytes([code]) + b"b"), 400, MALFORMED
        )


def raw_utf8_cases() -> Iterator[HttpCase]:
    """Well-formed HTTP except that the target holds raw UTF-8 (or other high bytes): the
    API's own answer, as if the bytes had been percent-encoded."""
    for name, target, status in (
        ("query-cyrillic", "/api/v1/patients?q=хоџа", 200),
        ("query-albanian", "/api/v1/patients?q=Çelë", 200),
        ("query-emoji", "/api/v1/patients?q=🦷", 200),
        ("query-email", "/api/v1/patients?email=марија@пример.мк", 200),
        ("query-latin1-byte", b"/api/v1/patients?q=\xe9", 200),
        ("query-lone-continuation", b"/api/v1/patients?q=\x80", 200),
        ("query-overlong", b"/api/v1/patients?q=\xc0\xaf", 200),
        ("query-ff", b"/api/v1/patients?q=\xff", 200),
        ("page-arabic-digit", "/api/v1/patients?page=١", 422),
        ("per-page-fullwidth", "/api/v1/patients?per_page=１０", 422),
        ("lang-cyrillic", "/api/v1/patients?lang=мк", 422),
        ("fields-accented", "/api/v1/patients?fields=allergiés", 422),
        ("is-active-cyrillic", "/api/v1/patients?is_active=да", 422),
        ("path-cyrillic", "/api/v1/пацијенти", 404),
        ("id-arabic-digit", "/api/v1/patients/١", 404),
        ("id-high-bytes", b"/api/v1/patients/\xff\xfe", 404),
        ("me-with-utf8-query", "/api/v1/me.json?x=ш", 200),
    ):
        raw = target if isinstance(target, bytes) else target.encode("utf-8")
        yield HttpCase(f"utf8-{name}", _get(raw), status)
    yield HttpCase("utf8-in-header-value", _get(b"/api/v1/me.json", "X-Name: Ђурђица".encode()), 200)
    yield HttpCase("utf8-target-and-no-token", b"GET /api/v1/patients?q=\xd1\x85 HTTP/1.1\r\nHost: x\r\n\r\n", 401)
    yield HttpCase("utf8-post-target", _post(target="/api/v1/patients?x=ж".encode()), 201)


def header_cases() -> Iterator[HttpCase]:
    for name, header in {
        "no-colon": b"X-Broken header",
        "space-before-colon": b"X-Spaced : 1",
        "empty-name": b": value",
        "paren-in-name": b"X(A): 1",
        "space-in-name": b"X A: 1",
        "nul-in-name": b"X-A\x00: 1",
        "del-in-name": b"X-A\x7f: 1",
        "utf8-in-name": "X-Ђ: 1".encode(),
        "nul-in-value": b"X-A: a\x00b",
        "cr-in-value": b"X-A: a\rb",
        "escape-in-value": b"X-A: a\x1bb",
        "bell-in-value": b"X-A: a\x07b",
        "folded-line": b"X-A: first\r\n second",
        "two-hosts": b"Host: localhost",  # after _get's own Host: x (RFC 9112 3.2: 400)
        "two-hosts-alike": b"Host: x",
    }.items():
        yield HttpCase(f"header-{name}", _get(b"/api/v1/me.json", header), 400, MALFORMED)
    yield HttpCase("header-two-hosts-on-a-write", _post(b"host: 127.0.0.1"), 400, MALFORMED)
    for name, header in {
        "content-length-negative": b"Content-Length: -1",
        "content-length-letters": b"Content-Length: abc",
        "content-length-decimal": b"Content-Length: 1.5",
        "content-length-list": b"Content-Length: 4, 4",
        "content-length-hex": b"Content-Length: 0x10",
        "content-length-5000-digits": b"Content-Length: " + b"9" * 5000,
        "content-length-and-chunked": b"Content-Length: 5\r\nTransfer-Encoding: chunked",
        "two-content-lengths": b"Content-Length: 4\r\nContent-Length: 5",
        "transfer-encoding-gzip-then-chunked": b"Transfer-Encoding: gzip, chunked\r\nTransfer-Encoding: chunked",
    }.items():
        yield HttpCase(f"header-{name}", _post(header, body=b"0\r\n\r\n"), 400, MALFORMED)


def chunk_cases() -> Iterator[HttpCase]:
    chunked = b"Transfer-Encoding: chunked"
    for name, body in {
        "size-not-hex": b"zz\r\n{}\r\n0\r\n\r\n",
        "size-negative": b"-2\r\n{}\r\n0\r\n\r\n",
        "size-0x-prefix": b"0x2\r\n{}\r\n0\r\n\r\n",
        "size-overflow": b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
        "size-with-nul": b"2\x00\r\n{}\r\n0\r\n\r\n",
        "size-empty": b"\r\n{}\r\n0\r\n\r\n",
        "size-with-space-inside": b"1 0\r\n{}\r\n0\r\n\r\n",
        "data-longer-than-size": b"1\r\n{}\r\n0\r\n\r\n",
        "no-crlf-after-data": b"2\r\n{}0\r\n\r\n",
        "extension-with-nul": b"2;a=\x00\r\n{}\r\n0\r\n\r\n",
        "size-utf8-digit": "١\r\n{}\r\n0\r\n\r\n".encode(),
    }.items():
        yield HttpCase(f"chunk-{name}", _post(chunked, body=body), 400, MALFORMED)
    # Well-formed chunking whose content the API refuses: its own answers.
    yield HttpCase("chunk-valid-bad-json", _post(chunked, body=b"4\r\n{nop\r\n0\r\n\r\n"), 400, "Malformed JSON")
    yield HttpCase("chunk-valid-empty", _post(chunked, body=b"0\r\n\r\n"), 400, "Malformed JSON")
    yield HttpCase("chunk-valid-body", _post(chunked, body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(CREATE), CREATE)), 201)
    # A compressed body: the API reads a body as sent, and says so (it said "str is not valid UTF-8").
    packed = gzip.compress(CREATE, mtime=0)
    yield HttpCase(
        "chunk-gzip-transfer-coding",
        _post(b"Transfer-Encoding: gzip, chunked", body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed)),
        400,
        "Malformed JSON: the body is sent with Transfer-Encoding: gzip, which is not decoded",
    )
    yield HttpCase(
        "content-encoding-gzip",
        _post(b"Content-Encoding: gzip", body=packed),
        400,
        "Malformed JSON: the body is sent with Content-Encoding: gzip, which is not decoded",
    )


def size_cases() -> Iterator[HttpCase]:
    for name, target in {
        "target-33-KiB": b"/api/v1/patients?q=" + b"a" * (33 * 1024),
        "target-64-KiB": b"/api/v1/patients?q=" + b"a" * (64 * 1024),
        "target-1-MiB": b"/api/v1/" + b"a" * (1024 * 1024),
        "target-1-MiB-utf8": b"/api/v1/patients?q=" + "ш".encode() * (512 * 1024),
    }.items():
        yield HttpCase(f"size-{name}", _get(target), 431, TOO_LARGE)
    for name, headers in {
        "one-header-33-KiB": (b"X-Pad: " + b"a" * (33 * 1024),),
        "one-header-1-MiB": (b"X-Pad: " + b"a" * (1024 * 1024),),
        "header-name-40-KiB": (b"X-" + b"a" * (40 * 1024) + b": 1",),
        "400-headers": tuple(b"X-Pad-%d: %s" % (i, b"a" * 100) for i in range(400)),
        "5000-tiny-headers": tuple(b"X-%d: 1" % i for i in range(5000)),
        "token-40-KiB": (b"Authorization: Bearer " + b"a" * (40 * 1024),),
    }.items():
        yield HttpCase(f"size-{name}", _get(b"/api/v1/me.json", *headers), 431, TOO_LARGE)
    yield HttpCase("size-post-head-33-KiB", _post(b"X-Pad: " + b"a" * (33 * 1024)), 431, TOO_LARGE)
    # Just under the limit is answered as usual.
    yield HttpCase("size-head-30-KiB", _get(b"/api/v1/me.json", b"X-Pad: " + b"a" * (30 * 1024)), 200)


HTTP_CASES = [*request_line_cases(), *raw_utf8_cases(), *header_cases(), *chunk_cases(), *size_cases()]
