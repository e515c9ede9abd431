"""`dentare-contract` against a target that is not the API at all: connection
refused, no answer, an HTML 502 from a proxy, a 200 that is not JSON, a
redirect loop, a body that never ends, a dropped connection, a non-HTTP
service. Each must end, within a bound, in one clear line on stderr and exit
code 2 (the target cannot be checked), never a traceback or a rule failure.

The misbehaving servers are tiny socket servers on loopback, started and
stopped here; the CLI runs as the installed console script in a subprocess.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import ROOT, free_port

TOKEN = "dnt_misbehaving_target_secret_0123456789"
REQUEST_TIMEOUT = 2.0  # passed to the CLI
DEADLINE = 30.0  # the CLI must have exited by then, whatever the target does (it is told 2 s per request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    stopping = False


Behaviour = Callable[[socket.socket, _Server], None]


def _read_request(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _answer(raw: bytes) -> Behaviour:
    def behave(sock: socket.socket, server: _Server) -> None:
        _read_request(sock)
        sock.sendall(raw)

    return behave


def _never_answer(sock: socket.socket, server: _Server) -> None:
    _read_request(sock)
    while not server.stopping:
        time.sleep(0.05)


def _never_end(sock: socket.socket, server: _Server) -> None:
    """A 200 whose chunked JSON body trickles in forever, a byte well inside any read timeout."""
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.sendall(b"1\r\n[\r\n")
    while not server.stopping:
        sock.sendall(b"2\r\n0,\r\n")
        time.sleep(0.2)


def _trickle(sock: socket.socket, server: _Server) -> None:
    """A 200 whose JSON body comes one byte at a time, each well inside a read timeout."""
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[")
    while not server.stopping:
        sock.sendall(b" ")
        time.sleep(1.5)


def _huge(sock: socket.socket, server: _Server) -> None:
    """A 200 announcing 300 MB of JSON and sending it as fast as it can."""
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 314572800\r\n\r\n[")
    block = b"0," * 32768
    while not server.stopping:
        sock.sendall(block)


def _redirect_loop(sock: socket.socket, server: _Server) -> None:
    request = _read_request(sock)
    target = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
    other = b"/elsewhere" + target if not target.startswith(b"/elsewhere") else target[len(b"/elsewhere") :]
    sock.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + other + b"\r\nContent-Length: 0\r\n\r\n")


def _drop(sock: socket.socket, server: _Server) -> None:
    _read_request(sock)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close


def _not_http(sock: socket.socket, server: _Server) -> None:
    sock.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
    _read_request(sock)


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nServer: nginx\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


HTML_502 = _response(
    "502 Bad Gateway",
    "text/html",
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
)
HTML_200 = _response("200 OK", "text/html", b"<html><body>Hello</body></html>")
FAKE_JSON_200 = _response("200 OK", "application/json", b"this is text, not JSON")
EDGE_503 = _response("503 Service Unavailable\r\nRetry-After: 1", "application/json", b'{"error": "overloaded"}')


@dataclass(frozen=True)
class Target:
    id: str
    behaviour: Behaviour | None  # None: nothing listens on the port
    diagnosis: str  # a regex the one line must match (case-insensitive)


TARGETS = [
    Target("connection-refused", None, r"refused|connect"),
    Target("no-answer", _never_answer, r"time|did not answer"),
    Target("html-502", _answer(HTML_502), r"502|bad gateway"),
    Target("html-200", _answer(HTML_200), r"json|html|content.type"),
    Target("json-typed-non-json-200", _answer(FAKE_JSON_200), r"json"),
    Target("redirect-loop", _redirect_loop, r"redirect|302"),
    Target("never-ending-body", _never_end, r"time|too long|never|did not (answer|finish)|slow"),
    Target("trickling-body", _trickle, r"did not finish its answer within"),
    Target("300-MB-body", _huge, r"more than \d+ bytes"),
    Target("edge-503-forever", _answer(EDGE_503), r"kept answering 503"),
    Target("connection-reset", _drop, r"reset|closed|disconnect|did not answer"),
    Target("not-http", _not_http, r"http|protocol|did not answer"),
]


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour | None], str]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour | None) -> str:
        if behaviour is None:
            return f"http://127.0.0.1:{free_port()}/api/v1"

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):  # the CLI hung up, as it should
                    behaviour(self.request, self.server)  # type: ignore[arg-type]

        server = _Server(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/api/v1"

    yield start
    for server in servers:
        server.stopping = True
        server.shutdown()
        server.server_close()


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "dentare-contract"
    return [str(script)] if script.exists() else [sys.executable, "-m", "contract_tests.cli"]


@pytest.mark.parametrize("target", TARGETS, ids=[t.id for t in TARGETS])
def test_misbehaving_target_is_a_one_line_exit_2(serve: Callable[[Behaviour | None], str], target: Target) -> None:
    base_url = serve(target.behaviour)
    started = time.monotonic()
    try:
        run = subprocess.run(
            [*_cli(), "--base-url", base_url, "--token", TOKEN, "--request-timeout", str(REQUEST_TIMEOUT),
             "--max-requests", "50"],
            cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"dentare-contract was still running after {DEADLINE:.0f} s against a {target.id} target")
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr

    assert "Traceback" not in output, output
    assert TOKEN not in output, "the token was printed"
    assert run.returncode == 2, f"exit {run.returncode} after {elapsed:.1f} s:\n{output[-3000:]}"
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{run.stderr}"
    assert lines[0].startswith("dentare-contract: error: "), lines[0]
    assert re.search(target.diagnosis, lines[0], re.IGNORECASE), f"unclear diagnosis: {lines[0]}"
    assert base_url.split("/api/")[0] in lines[0], f"the line should name the target: {lines[0]}"
    assert not run.stdout.strip(), f"nothing on stdout expected, got:\n{run.stdout}"
