"""Shared fixtures for the kit's own tests, which the README runs spread over
up to `MAX_WORKERS` processes (pytest-xdist, one test file per process at a time).

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
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    ROOT,
    AccountTokens,
    RunningMock,
    free_port,
    load_tokens,
    require,
    serve_in_thread,
    spawn_mock,
)

#: `-n auto`'s ceiling: each worker runs its own mocks and PostgreSQL databases (the CI cluster
#: allows 200 connections), and a file is never split, so past a few workers the longest one sets the time.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


@pytest.fixture(scope="session")
def mock_server() -> Iterator[RunningMock]:
    with spawn_mock() as mock:
        yield mock


@pytest.fixture
def reset_mock(mock_server: RunningMock) -> RunningMock:
    mock_server.reset()
    return mock_server


@pytest.fixture
def serve_app() -> Callable[[Any], contextlib.AbstractContextManager[str]]:
    return serve_in_thread


@pytest.fixture(scope="session")
def tokens() -> dict[int, AccountTokens]:
    return load_tokens()


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
    # Debian keeps initdb and pg_ctl off PATH, where .ci/postgres.sh finds them too.
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not debian:
        for tool in ("initdb", "pg_ctl"):
            require(tool, "apt-get install postgresql, or set DENTARE_TEST_POSTGRES_DSN")
    folder = Path(tempfile.mkdtemp(prefix="dentare-pg-"))  # not under pytest's tmp: the server's user must reach it
    env = {**os.environ, "DENTARE_PG_PORT": str(free_port())}
    started = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), "start", str(folder)], env=env, capture_output=True, text=True, timeout=120
    )
    if started.returncode != 0:
        pytest.fail(f"cannot start a PostgreSQL cluster: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(POSTGRES_SCRIPT), "stop", str(folder)], env=env, capture_output=True, timeout=120)


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
