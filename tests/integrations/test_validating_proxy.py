"""`dentare-mock proxy`: forwards to an upstream and reports what breaks the
spec, one line per violation as it happens and a summary at exit. Run through
the real CLI in a subprocess, in front of the real mock (conforms), a broken
upstream (violations) and a mock injecting faults (edge answers, 500s)."""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import free_port, spawn_mock

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningProxy:
    url: str
    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    exit_code: int | None = None
    output: list[str] = field(default_factory=list)

    def next_line(self, prefix: str, timeout: float = 20.0) -> str:
        """The next output line starting with `prefix`, while the proxy runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting with {prefix!r} within {timeout} s")

    def stop(self, sig: int = signal.SIGTERM) -> list[str]:
        """Stop it as a person would; every line it printed."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.exit_code = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        self.exit_code = self.process.returncode
        return self.output

    def violations(self) -> list[str]:
        return [line for line in self.output if line.startswith("VIOLATION")]

    def summary(self) -> str:
        return next(line for line in self.output if line.startswith("dentare-mock proxy:"))


@contextlib.contextmanager
def run_proxy(upstream: str) -> Iterator[RunningProxy]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "proxy", "--upstream", upstream, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proxy = RunningProxy(f"http://127.0.0.1:{port}", process)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            proxy.output.append(line.rstrip("\n"))
            proxy.lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        _wait_for_port(port, process)  # a TCP connect, not a request: requests are checked
        yield proxy
    finally:
        proxy.stop()
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("the proxy did not start")


def new_token(root: str) -> dict[str, str]:
    account_id = httpx.get(f"{root}/__mock/accounts").json()["data"][0]["id"]
    created = httpx.post(f"{root}/__mock/accounts/{account_id}/tokens", json={"name": "proxy tests"})
    return {"Authorization": f"Bearer {created.json()['token']}", "Accept": "application/json"}


def test_the_real_mock_conforms(reset_mock: Any) -> None:
    auth = new_token(reset_mock.root_url)
    with run_proxy(reset_mock.root_url) as proxy:
        base = f"{proxy.url}/api/v1"
        with httpx.Client(headers=auth) as client:
            assert client.get(f"{base}/me.json").status_code == 200
            full = {
                "first_name": "Марија",
                "last_name": "Hoxha",
                "email": "maria@example.com",
                "phone": "+355691234567",
                "phone_country": "AL",
                "birthdate": "1990-05-15",
                "gender": "female",
                "personal_no": "I90515123A",
                "locale": "sq",
                "external_id": "ext_proxy_1",
                "allergies": "ë, ç",
            }
            created = client.post(
                f"{base}/patients", json=full, headers={"Content-Type": "application/json; charset=utf-8"}
            )
            assert created.status_code == 201
            assert created.json()["data"]["first_name"] == "Марија", "bodies pass through unchanged"
            patient_id = created.json()["data"]["id"]
            direct = httpx.get(f"{reset_mock.base_url}/patients/{patient_id}", headers=auth)
            through = client.get(f"{base}/patients/{patient_id}")
            assert (through.status_code, through.json()) == (direct.status_code, direct.json())
            assert through.headers["content-type"] == direct.headers["content-type"]
            assert (
                client.get(
                    f"{base}/patients/{patient_id}", params={"fields": "allergies,vip", "lang": "mk"}
                ).status_code
                == 200
            )
            listed = client.get(f"{base}/patients", params={"q": "hoxha", "per_page": 5, "page": 1})
            assert listed.status_code == 200
            assert client.patch(f"{base}/patients/{patient_id}", json={"is_active": False}).status_code == 200
            assert client.get(f"{base}/patients", params={"is_active": "false"}).status_code == 200
            taken = client.post(
                f"{base}/patients", json={"first_name": "A", "last_name": "B", "external_id": "ext_proxy_1"}
            )
            assert taken.status_code == 422  # a valid request, a documented answer
            assert client.get(f"{base}/patients/999999999").status_code == 404
        lines = proxy.stop()
    assert proxy.violations() == [], "\n".join(lines)
    assert proxy.summary().startswith("dentare-mock proxy: 9 exchanges checked: 0 requests and 0 responses")
    assert proxy.exit_code == 0


def _broken_upstream() -> Starlette:
    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"id": "one", "name": "Your Name"})  # id not an integer; avatar_url, sgid missing

    async def patients(request: Request) -> JSONResponse:
        return JSONResponse({"data": [{"id": 1, "first_name": "A"}], "meta": {"page": 1, "per_page": 20, "total": 1}})

    return Starlette(routes=[Route("/api/v1/me.json", me), Route("/api/v1/patients", patients)])


def test_a_broken_upstream_is_reported_as_it_happens(serve_app: Any) -> None:
    with serve_app(_broken_upstream()) as upstream, run_proxy(f"{upstream}/api/v1") as proxy:
        auth = {"Authorization": "Bearer any-token"}
        response = httpx.get(f"{proxy.url}/api/v1/me.json", headers=auth)
        assert (response.status_code, response.json()) == (200, {"id": "one", "name": "Your Name"})
        first = proxy.next_line("VIOLATION")  # printed while the proxy is still running
        assert first.startswith("VIOLATION response GET /api/v1/me.json -> 200: ")
        assert httpx.get(f"{proxy.url}/api/v1/patients", headers=auth).status_code == 200
        proxy.next_line("VIOLATION response GET /api/v1/patients")
        proxy.stop(signal.SIGINT)
    me = [v for v in proxy.violations() if "/me.json" in v]
    assert any("id: 'one' is not of type 'integer'" in v for v in me), me
    assert any("'avatar_url' is a required property" in v for v in me), me
    assert any("'sgid' is a required property" in v for v in me), me
    assert proxy.summary().startswith("dentare-mock proxy: 2 exchanges checked: 0 requests and 2 responses broke")
    assert proxy.exit_code == 1


def test_bad_requests_edge_answers_and_errors() -> None:
    with spawn_mock("--faults") as mock, run_proxy(mock.root_url) as proxy:
        base = f"{proxy.url}/api/v1"
        auth = new_token(mock.root_url)
        unauthorized = httpx.get(f"{base}/me.json")
        assert unauthorized.status_code == 401 and unauthorized.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{base}/patients", params={"per_page": 101}, headers=auth).status_code == 422
        assert httpx.get(f"{base}/me.json", headers={**auth, "X-Mock-Fault": "503"}).status_code == 503
        assert httpx.get(f"{base}/me.json", headers={**auth, "X-Mock-Fault": "500"}).status_code == 500
        dropped = httpx.get(f"{base}/me.json", headers={**auth, "X-Mock-Fault": "drop"})
        assert dropped.status_code == 502 and "Bad Gateway" in dropped.json()["error"]
        proxy.stop()
    violations = proxy.violations()
    assert violations == [
        "VIOLATION request GET /api/v1/me.json: no valid `Authorization: Bearer <token>` header (bearerAuth)",
        "VIOLATION request GET /api/v1/patients: query parameter per_page: 101 is greater than the maximum of 100",
        "VIOLATION response GET /api/v1/me.json -> 500: "
        "a status the spec does not document for this operation (Unknown response http status: 500)",
    ]
    assert "EDGE 503 GET /api/v1/me.json (not an API answer; not checked)" in proxy.output
    assert any(line.startswith("UPSTREAM ERROR GET /api/v1/me.json") for line in proxy.output)
    assert "2 requests and 1 responses broke the spec (3 violations); 1 edge answers; 1 upstream errors" in (
        proxy.summary()
    )
    assert proxy.exit_code == 1


@pytest.mark.parametrize("upstream", ["ftp://example.test", "dentare.io"])
def test_a_bad_upstream_url_exits_2(upstream: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "proxy", "--upstream", upstream],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "--upstream must be an http(s) URL" in run.stderr


def test_the_proxy_forwards_the_api_only(reset_mock: Any) -> None:
    """Through the proxy the upstream mock sees a loopback client: forwarding /__mock let anyone
    who reaches the proxy create tokens and reset the mock."""
    root = reset_mock.root_url
    before = httpx.get(f"{root}/__mock/state").json()
    with run_proxy(root) as proxy:
        refused = [
            httpx.post(f"{proxy.url}/__mock/accounts/1/tokens", json={"name": "through the proxy"}),
            httpx.post(f"{proxy.url}/__mock/reset", json={}),
            httpx.get(f"{proxy.url}/__mock/state"),
            httpx.get(f"{proxy.url}/docs"),
            httpx.get(f"{proxy.url}/openapi.json"),
            httpx.get(f"{proxy.url}/api/v1/../__mock/state"),
            httpx.get(f"{proxy.url}/api/v1/%2e%2e/__mock/state"),
            httpx.get(f"{proxy.url}/api/v1x/me.json"),
        ]
        proxy.stop()
    for response in refused:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"error": "Not Found"}
    assert httpx.get(f"{root}/__mock/state").json() == before
    assert proxy.summary().startswith("dentare-mock proxy: 0 exchanges checked")


def test_requests_the_validator_cannot_read_are_forwarded_and_counted(reset_mock: Any) -> None:
    """openapi-core raised on these (a 500 from the proxy, and the exchange lost from the summary)."""
    auth = new_token(reset_mock.root_url)
    bodies = [
        ({"Content-Type": "application/json"}, b'{"first_name": "\xff"}'),
        ({"Content-Type": "application/json"}, b'{"first_name": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        ({"Content-Type": ";;;"}, b"{}"),
        (
            {"Content-Type": "application/json"},
            b'{"first_name": "A", "last_name": "B", "preferred_doctor_id": ' + b"1" * 5000 + b"}",
        ),
    ]
    with run_proxy(reset_mock.root_url) as proxy:
        answers = [
            httpx.post(f"{proxy.url}/api/v1/patients", headers={**auth, **extra}, content=body)
            for extra, body in bodies
        ]
        proxy.stop()
    direct = [
        httpx.post(f"{reset_mock.base_url}/patients", headers={**auth, **extra}, content=body) for extra, body in bodies
    ]
    assert [a.status_code for a in answers] == [d.status_code for d in direct]
    assert all(a.status_code < 500 for a in answers)
    assert proxy.summary().startswith("dentare-mock proxy: 4 exchanges checked: 4 requests")
    assert "Traceback" not in "\n".join(proxy.output)
