"""The HTTP layer (mockserver/web/http_protocol.py), through uvicorn on a real
port: raw UTF-8 in the request line is a query like any other, what the
parser refuses is answered in the API's JSON shape, and the head limit holds
while the head is still arriving."""

from __future__ import annotations

import re
import socket
from typing import Any

import orjson
import pytest

from tests.support import RunningMock
from tests.support.reliability import assert_error_shape, raw_request

TOKEN_HEADER = ("Authorization", "Bearer dnt_QRvVXlTa3E53LC2b9Vox9e4oqRgcvDehAjx1mOzh")  # fixtures, account 1


def _port(mock: RunningMock) -> int:
    return int(mock.root_url.rsplit(":", 1)[1])


@pytest.mark.parametrize("query", ["хоџа", "Хоџа", "hoxha", "Hoxha"])
def test_raw_utf8_in_the_query_is_a_query(mock_server: RunningMock, query: str) -> None:
    """What `curl "…?q=хоџа"` sends: the bytes as typed, not percent-encoded (uvicorn answered
    a text/plain 'Invalid HTTP request received.')."""
    response = raw_request(mock_server.root_url, "GET", f"/api/v1/patients?q={query}".encode(), [TOKEN_HEADER])
    assert response.status == 200, response.body[:300]
    assert "Hoxha" in {p["last_name"] for p in response.json()["data"]}


def test_raw_utf8_in_the_path_reaches_the_router(mock_server: RunningMock) -> None:
    response = raw_request(mock_server.root_url, "GET", "/api/v1/пацијенти".encode(), [TOKEN_HEADER])
    assert response.status == 404
    assert response.json() == {"error": "Not Found"}


def test_a_head_over_the_limit_is_refused_before_it_ends(mock_server: RunningMock) -> None:
    """The head is never finished here: a server that buffers it whole before checking
    (as before) answers nothing; one that counts while reading answers 431 at 32 KiB."""
    with socket.create_connection(("127.0.0.1", _port(mock_server)), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40_000)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pytest.fail("no answer while the head was still open")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"content-type: application/json" in head.lower()
    assert body.startswith(b'{"error":"Request Header Fields Too Large')


def test_a_20_mb_header_gets_its_431(mock_server: RunningMock) -> None:
    response = raw_request(mock_server.root_url, "GET", "/api/v1/me.json", [("X-Pad", "a" * 20_000_000)])
    assert response.status == 431
    assert_error_shape(431, response.json())


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v1/me.json\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nX-A\x00: 1\r\n\r\n",
        b"POST /api/v1/patients HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /api/v1/patients HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
    ids=[
        "nul-in-target",
        "nul-in-header-name",
        "chunk-size-not-hex",
        "negative-chunk-size",
        "5000-digit-length",
        "garbage",
    ],
)
def test_what_the_parser_refuses_is_a_json_400(mock_server: RunningMock, request_bytes: bytes) -> None:
    with socket.create_connection(("127.0.0.1", _port(mock_server)), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"content-type: application/json" in head.lower()
    parsed: Any = orjson.loads(body)
    assert_error_shape(400, parsed)
    assert parsed["error"].startswith("Bad Request: malformed HTTP request")


def _pipelined(port: int, data: bytes) -> list[bytes]:
    """The status codes of every answer to `data`, sent in one write on one connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)  # each answer follows the last body


def _get(target: bytes, *extra: bytes) -> bytes:
    token = f"{TOKEN_HEADER[0]}: {TOKEN_HEADER[1]}".encode()
    return b"\r\n".join([b"GET " + target + b" HTTP/1.1", b"Host: x", token, *extra]) + b"\r\n\r\n"


def test_a_pipelined_head_is_counted_alone(mock_server: RunningMock) -> None:
    """Heads that follow other requests in one read are held to the limit on their own:
    the requests before them in that read are not part of their size (they counted, and
    120 small GETs before a 20 KB head made it a 431 and dropped the rest)."""
    small, big = _get(b"/api/v1/me.json"), _get(b"/api/v1/me.json", b"X-Pad: " + b"a" * 20_000)
    statuses = _pipelined(
        _port(mock_server), small * 120 + big + small * 300 + _get(b"/api/v1/me.json", b"Connection: close")
    )
    assert statuses == [b"200"] * 422


def test_a_pipelined_head_over_the_limit_is_still_refused(mock_server: RunningMock) -> None:
    small, too_big = _get(b"/api/v1/me.json"), _get(b"/api/v1/me.json", b"X-Pad: " + b"a" * 40_000)
    assert _pipelined(_port(mock_server), small * 3 + too_big + small) == [b"200"] * 3 + [b"431"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([TOKEN_HEADER], 200),
        ([], 401),
    ],
    ids=["with-token", "without"],
)
def test_a_websocket_upgrade_is_a_plain_request(
    mock_server: RunningMock, headers: list[tuple[str, str]], status: int
) -> None:
    """The API has no WebSocket: the request is answered as any other, in the API's JSON
    (with the websockets library installed, uvicorn answered it with a text/plain 403 or 400)."""
    upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")]
    key = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    response = raw_request(mock_server.root_url, "GET", "/api/v1/patients/4821", [*headers, *upgrade, key])
    assert response.status == status, response.body[:200]
    if status == 200:
        assert response.json()["data"]["id"] == 4821
    else:
        assert_error_shape(status, response.json())
