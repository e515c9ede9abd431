"""Helpers shared by the reliability tests: a raw HTTP/1.1 client (for bytes no
well-behaved client would send), a synchronous in-process client for the ASGI
app, the spec's error-body schemas, and a small two-account state document."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx
import jsonschema
import orjson
from hypothesis import HealthCheck, settings

from dentare_spec import load_spec
from mockserver import create_app
from mockserver.settings import MockSettings

from .paths import SPEC_PATH

# -- hypothesis profiles ---------------------------------------------------------------------
# CI: derandomized (a fixed seed), bounded, no example database on disk.
# QA: DENTARE_RELIABILITY_PROFILE=reliability-qa for a longer random run (see README.md).
settings.register_profile(
    "reliability-ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    stateful_step_count=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "reliability-qa",
    derandomize=False,
    database=None,
    deadline=None,
    max_examples=1000,
    stateful_step_count=60,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(os.environ.get("DENTARE_RELIABILITY_PROFILE", "reliability-ci"))


# -- raw HTTP ----------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def json(self) -> Any:
        return orjson.loads(self.body)


_DEFAULT_HOST = object()


def raw_request(
    root_url: str,
    method: str,
    target: str | bytes,
    headers: Iterable[tuple[str | bytes, str | bytes]] = (),
    body: bytes = b"",
    *,
    chunked: bool = False,
    host: Any = _DEFAULT_HOST,
    timeout: float = 30.0,
) -> RawResponse:
    """Send exactly these bytes (no header normalization) and parse the answer with h11.

    `host` replaces the Host header (the root URL's netloc by default; None sends none).
    """
    parts = urlsplit(root_url)
    lines = [_b(method) + b" " + _b(target) + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + _b(parts.netloc if host is _DEFAULT_HOST else host))
    lines.append(b"Connection: close")
    lines += [_b(name) + b": " + _b(value) for name, value in headers]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
    elif body or method in ("POST", "PATCH", "PUT"):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return raw_bytes(root_url, head + (_chunks(body) if chunked else body), timeout=timeout)


def raw_bytes(root_url: str, data: bytes, *, timeout: float = 30.0) -> RawResponse:
    """Send `data` as it is on a new connection and parse the one answer with h11.

    The bytes are sent from a thread while the answer is read, so a server that
    answers early (413, 431) and closes is seen answering, not as a broken pipe.
    """
    parts = urlsplit(root_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    sender = threading.Thread(target=_send_quietly, args=(sock, data), daemon=True)
    sender.start()
    try:
        return _read_response(sock)
    finally:
        sock.close()
        sender.join(timeout=timeout)


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _chunks(body: bytes, size: int = 65536) -> bytes:
    out = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(out) + b"0\r\n\r\n"


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    # The server may answer early and close; the answer is what the test checks.
    with contextlib.suppress(OSError):
        sock.sendall(data)


def _read_response(sock: socket.socket) -> RawResponse:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))  # puts h11 in the reading state
    conn.send(h11.EndOfMessage())
    status, headers, body = 0, [], bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers]
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return RawResponse(status, headers, bytes(body))


# -- in-process ------------------------------------------------------------------------------


class InProcessClient:
    """A synchronous client of the ASGI app (hypothesis rules are synchronous),
    through httpx.ASGITransport on one event loop."""

    def __init__(self, app: Any, client_host: str = "127.0.0.1"):
        self._runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, url, **kwargs))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


def token(account_id: int, n: int) -> str:
    return f"dnt_reliability_{account_id}_{n}_" + "x" * 20


def two_accounts_document(patients_per_account: int = 3) -> dict[str, Any]:
    """Accounts 1 (AL) and 2 (MK), each with two live tokens and one revoked."""
    accounts, patients = [], []
    for account_id, country in ((1, "AL"), (2, "MK")):
        accounts.append(
            {
                "id": account_id,
                "name": f"Clinic {account_id}",
                "country": country,
                "users": [{"id": account_id, "name": f"Admin {account_id}"}],
                "tokens": [
                    {
                        "id": account_id * 10 + n,
                        "user_id": account_id,
                        "name": f"t{n}",
                        "token": token(account_id, n),
                        "revoked": n == 3,
                    }
                    for n in (1, 2, 3)
                ],
            }
        )
        for i in range(patients_per_account):
            patients.append(
                {
                    "id": len(patients) + 1,
                    "account_id": account_id,
                    "first_name": f"Seed{i}",
                    "last_name": f"Account{account_id}",
                    "created_at": "2026-01-01T00:00:00Z",
                }
            )
    return {"accounts": accounts, "patients": patients}


def in_process_app(document: Mapping[str, Any] | None = None, **settings_kwargs: Any) -> Any:
    app = create_app(MockSettings(fixtures_dir=None, **settings_kwargs))
    load_state(app, document or two_accounts_document())
    return app


def load_state(app: Any, document: Mapping[str, Any]) -> None:
    """Replace an app's whole state, as PUT /__mock/state does."""
    asyncio.run(app.state.backend.replace(dict(document)))


def state_of(app: Any) -> Any:
    """An app's whole state, as GET /__mock/state gives it."""
    return asyncio.run(app.state.backend.export())


# -- the spec's error shapes -------------------------------------------------------------------


@cache
def error_schema(name: str) -> Mapping[str, Any]:
    return load_spec(SPEC_PATH).schema(name)


def assert_error_shape(status: int, body: Any) -> None:
    """The body every error status must have, per the spec."""
    name = {401: "UnauthorizedError", 404: "NotFoundError", 422: "ValidationError"}.get(status, "ApiError")
    jsonschema.validate(body, error_schema(name))


def assert_import_refused(body: Any) -> None:
    """The CSV import's 422 (mockserver._exceptions.ImportFailed): every bad row with its line."""
    assert isinstance(body, dict) and set(body) == {"error", "invalid_rows", "rows"}, body
    assert body["error"].startswith("Import failed: ") and body["error"].endswith("nothing was imported")
    assert isinstance(body["invalid_rows"], int) and body["invalid_rows"] >= 1
    assert body["rows"] and all(
        isinstance(row["line"], int)
        and row["line"] >= 1
        and row["errors"]
        and all(
            isinstance(ms, list) and ms and all(isinstance(m, str) and m for m in ms) for ms in row["errors"].values()
        )
        for row in body["rows"]
    ), body


def control_state(root_url: str) -> Any:
    """GET /__mock/state, as this machine's own client."""
    return raw_request(root_url, "GET", "/__mock/state").json()


# -- the validating proxy --------------------------------------------------------------------


@dataclass
class RunningProxy:
    root_url: str
    process: Any
    output: str = ""

    def stop(self) -> str:
        """SIGTERM (by PID) and everything it printed (its summary last)."""
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.output, _ = self.process.communicate(timeout=30)
            except Exception:
                self.process.kill()
                self.output, _ = self.process.communicate()
        return self.output


@contextlib.contextmanager
def spawn_proxy(upstream: str) -> Iterator[RunningProxy]:
    """`dentare-mock proxy --upstream URL` on a free loopback port, stopped by PID on exit."""
    import subprocess
    import sys
    import time

    from tests.support import ROOT, free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "proxy", "--upstream", upstream, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proxy = RunningProxy(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the proxy exited with {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the proxy did not start")
            time.sleep(0.05)
        yield proxy
    finally:
        proxy.stop()
