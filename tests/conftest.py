"""Shared fixtures for the kit's own tests.

- `mock_server`: the real CLI (`python -m mockserver.cli`) served by uvicorn on
  a free loopback port in a subprocess, once per session; `reset_mock` puts
  its state back to the fixtures before a test that writes. Every mock spawned
  here runs with `--check-responses`: each answer it gives is validated against
  the spec with openapi-core, and any violation fails the test.
- `serve_app`: any ASGI app (a mutated mock, say) on a free port in a thread.
- `tokens`: the fixture tokens by account, read from fixtures/accounts.json.
- `require_tool`: skip when an external tool (newman, chromium, ...) is missing,
  except in CI (DENTARE_REQUIRE_TOOLS=1), where a missing tool fails the test.
- `postgres_dsn`: a PostgreSQL server for the session: $DENTARE_TEST_POSTGRES_DSN
  when CI gives one, else a throwaway cluster (.ci/postgres.sh, initdb and pg_ctl
  required like any tool) on a free loopback port, stopped at the end;
  `new_database(name)` makes an empty database on it and gives its DSN;
  `pg_mock_server`: the mock on its own database, as `mock_server` is in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mockserver.web.selfcheck import SELF_CHECK_PREFIX

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "spec" / "openapi.yaml"
FIXTURES_DIR = ROOT / "fixtures"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=1.0)
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered {url} within {timeout} s")


@dataclass
class RunningMock:
    """A mock served on a real port."""

    root_url: str
    base_url: str
    process: subprocess.Popen[Any] | None = None
    log: Any = None  # a temporary file: a pipe nobody reads could fill and stall the server
    _final_output: str = ""

    def reset(self) -> None:
        httpx.post(f"{self.root_url}/__mock/reset", json={}, timeout=30).raise_for_status()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None and not self.log.closed:
            self._final_output = self.output()
            self.log.close()

    def output(self) -> str:
        """What the server wrote to stderr (its log), also after it stopped."""
        if self.log is None:
            return ""
        if self.log.closed:
            return self._final_output
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextlib.contextmanager
def spawn_mock(*args: str, timeout: float = 60.0) -> Iterator[RunningMock]:
    """`dentare-mock *args` in a subprocess on a free port, stopped (by PID) on exit."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by RunningMock.stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), "--log-level", "warning",
         "--check-responses", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    root = f"http://127.0.0.1:{port}"
    mock = RunningMock(root_url=root, base_url=f"{root}/api/v1", process=process, log=log)
    try:
        try:
            wait_until_up(f"{root}/__mock/accounts", timeout=timeout, process=process)
        except RuntimeError as exc:
            output = mock.output()[-2000:]
            raise RuntimeError(f"{exc}\n{output}") from None
        yield mock
    finally:
        mock.stop()
    # Every answer the mock gave was validated against the spec by openapi-core
    # (mockserver/web/selfcheck.py); a violation fails the test that used it.
    violations = [line for line in mock.output().splitlines() if SELF_CHECK_PREFIX in line]
    if violations:
        pytest.fail("the mock broke its spec:\n" + "\n".join(violations[:20]), pytrace=False)


@pytest.fixture(scope="session")
def mock_server() -> Iterator[RunningMock]:
    with spawn_mock() as mock:
        yield mock


@pytest.fixture
def reset_mock(mock_server: RunningMock) -> RunningMock:
    mock_server.reset()
    return mock_server


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port in a thread; yields the root URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield root
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def serve_app() -> Callable[[Any], contextlib.AbstractContextManager[str]]:
    return serve_in_thread


@dataclass(frozen=True)
class AccountTokens:
    account_id: int
    live: tuple[str, ...]
    revoked: tuple[str, ...]

    @property
    def token(self) -> str:
        return self.live[0]


def load_tokens() -> dict[int, AccountTokens]:
    accounts = json.loads((FIXTURES_DIR / "accounts.json").read_text(encoding="utf-8"))["accounts"]
    return {
        a["id"]: AccountTokens(
            account_id=a["id"],
            live=tuple(t["token"] for t in a["tokens"] if not t["revoked"]),
            revoked=tuple(t["token"] for t in a["tokens"] if t["revoked"]),
        )
        for a in accounts
    }


@pytest.fixture(scope="session")
def tokens() -> dict[int, AccountTokens]:
    return load_tokens()


def require(name: str, hint: str = "bash .ci/run installs it") -> str:
    """The path of an external tool; skip without it, fail in CI (DENTARE_REQUIRE_TOOLS=1)."""
    found = shutil.which(name) or _local_node_tool(name)
    if found:
        return found
    message = f"{name} is not installed ({hint})"
    if os.environ.get("DENTARE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    return require


# -- PostgreSQL --------------------------------------------------------------------------------

POSTGRES_DSN_ENV = "DENTARE_TEST_POSTGRES_DSN"
POSTGRES_SCRIPT = ROOT / ".ci" / "postgres.sh"


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get(POSTGRES_DSN_ENV)
    if given:
        yield given
        return
    for tool in ("initdb", "pg_ctl"):
        require(tool, "apt-get install postgresql, or set DENTARE_TEST_POSTGRES_DSN")
    folder = Path(tempfile.mkdtemp(prefix="dentare-pg-"))  # not under pytest's tmp: the server's user must reach it
    env = {**os.environ, "DENTARE_PG_PORT": str(free_port())}
    started = subprocess.run(["bash", str(POSTGRES_SCRIPT), "start", str(folder)], env=env,
                             capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        pytest.fail(f"cannot start a PostgreSQL cluster: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(POSTGRES_SCRIPT), "stop", str(folder)], env=env, capture_output=True,
                       timeout=120)


@pytest.fixture(scope="session")
def new_database(postgres_dsn: str) -> Callable[[str], str]:
    """`new_database(name)`: an empty database on the session's server (dropped first if
    left over), its DSN. Names get the process id, so runs sharing a server do not meet."""
    import asyncpg

    def make(name: str) -> str:
        database = f"t{os.getpid()}_{name}"

        async def create() -> None:
            conn = await asyncpg.connect(postgres_dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{database}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return postgres_dsn.rsplit("/", 1)[0] + "/" + database

    return make


@pytest.fixture(scope="session")
def pg_mock_server(new_database: Callable[[str], str]) -> Iterator[RunningMock]:
    with spawn_mock("--store", new_database("mock")) as mock:
        yield mock


def _local_node_tool(name: str) -> str | None:
    candidate = ROOT / "node_modules" / ".bin" / name
    return str(candidate) if candidate.exists() else None
