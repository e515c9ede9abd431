"""Fuzz fleets share what they find: with `--example-db redis://...`, a
failure one run found is replayed first by the next run, from another
working directory, with another seed and a single example of its own."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import free_port

from .asgi_tools import ASGIApp, Mutant, Request, Response, call
from .conftest import ContractRun, mock_app, run_contract, serve
from .mutants import Accounts


@pytest.fixture
def redis_url(require_tool: Callable[[str], str], tmp_path: Path) -> Iterator[str]:
    server = require_tool("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _email_filter_crashes(app: ASGIApp, request: Request) -> Response:
    """A defect only some generated requests reach: the list with an email filter is a 500."""
    if request.method == "GET" and request.path.endswith("/patients") and "email" in request.query:
        return Response(500, {"content-type": "application/json"}, b'{"error": "Internal Server Error"}')
    return await call(app, request)


def test_a_failure_found_by_one_run_is_replayed_by_the_next(accounts: Accounts, redis_url: str, tmp_path: Path) -> None:
    def run(where: str, db: str, *args: str) -> ContractRun:
        folder = tmp_path / where
        folder.mkdir()
        return run_contract(
            base_url, accounts, "--rule", "schema.positive", "--example-db", db, *args, tmp_path=folder, cwd=folder
        )

    with serve(Mutant(mock_app(), _email_filter_crashes)) as base_url:
        finder = run("runner-1", f"{redis_url}/0", "--max-examples", "80", "--seed", "1")
        assert finder.code == 1 and "schema.positive" in finder.failed, finder.stdout[-2000:]
        replayer = run("runner-2", f"{redis_url}/0", "--max-examples", "1", "--seed", "2")
        assert replayer.code == 1 and "schema.positive" in replayer.failed, replayer.stdout[-2000:]
        # The same single example without the shared database finds nothing: the replay did.
        alone = run("runner-3", f"{redis_url}/1", "--max-examples", "1", "--seed", "2")
        assert alone.code == 0, alone.stdout[-2000:]


def test_a_home_without_room_for_the_cache_falls_back_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A container user whose home does not exist (the image's `dentare` user):
    examples go to the temporary folder, said once, and the run goes on."""
    from hypothesis import configuration
    from hypothesis.database import DirectoryBasedExampleDatabase

    from contract_tests.examples import example_database

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before = configuration.storage_directory()
    try:
        database = example_database(None)
    finally:
        configuration.set_hypothesis_home_dir(str(before))
    assert isinstance(database, DirectoryBasedExampleDatabase)
    assert Path(database.path).parent.name.startswith("dentare-contract-")
    assert Path(database.path).parent.parent == tmp_path
    assert f"cannot create {blocker / 'cache' / 'dentare-contract'}" in capsys.readouterr().err


def test_an_example_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    from contract_tests._exceptions import UsageError
    from contract_tests.examples import example_database

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match=r"--example-db .*: cannot create the folder"):
        example_database(str(blocker / "db"))
