"""`--state-file`: the state is saved on shutdown (SIGTERM or Ctrl-C, through
uvicorn's graceful shutdown and the app's lifespan) and loaded on the next
start; the write is atomic; a corrupt file is a clear error and exit 2."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.settings import MockSettings
from mockserver.store.documents import save_state
from mockserver.store.memory import Store
from mockserver.web.app import build_backend
from tests.conftest import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stopped:
    code: int
    stdout: str
    stderr: str


@dataclass
class Served:
    root: str
    base: str
    process: subprocess.Popen[str]
    stopped: Stopped | None = None

    def stop(self, sig: int) -> Stopped:
        self.process.send_signal(sig)
        stdout, stderr = self.process.communicate(timeout=30)
        self.stopped = Stopped(self.process.returncode, stdout, stderr)
        return self.stopped


@contextlib.contextmanager
def serve(*args: str) -> Iterator[Served]:
    """The real CLI in a subprocess; the test stops it with a signal."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/v1", process)
    try:
        wait_until_up(f"{served.root}/__mock/accounts", timeout=60, process=process)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver.cli", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_state_survives_a_restart(tmp_path: Path, stop_signal: int) -> None:
    state = tmp_path / "state.json"
    with serve("--state-file", str(state)) as mock:
        account_id = httpx.get(f"{mock.root}/__mock/accounts").json()["data"][0]["id"]
        kept = httpx.post(f"{mock.root}/__mock/accounts/{account_id}/tokens", json={"name": "kept"}).json()
        dropped = httpx.post(f"{mock.root}/__mock/accounts/{account_id}/tokens", json={"name": "revoked"}).json()
        httpx.delete(f"{mock.root}/__mock/tokens/{dropped['id']}").raise_for_status()
        auth = {"Authorization": f"Bearer {kept['token']}"}
        created = httpx.post(f"{mock.base}/patients", headers=auth, json={
            "first_name": "Ђурђица", "last_name": "Çelë", "phone": "+38970123456", "external_id": "restart-1",
        })
        assert created.status_code == 201
        patient = created.json()["data"]
        assert not state.exists(), "saved on shutdown, not before"
        stopped = mock.stop(stop_signal)
    assert stopped.code == 0, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert f"saved state to {state}" in stopped.stderr
    assert json.loads(state.read_text(encoding="utf-8"))["patients"]
    assert kept["token"] not in state.read_text(encoding="utf-8"), "tokens are saved as hashes only"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"], "no temporary file left behind"

    with serve("--state-file", str(state)) as mock:
        again = httpx.get(f"{mock.base}/patients/{patient['id']}", headers=auth)
        assert again.status_code == 200 and again.json()["data"] == patient
        revoked = httpx.get(f"{mock.base}/me.json", headers={"Authorization": f"Bearer {dropped['token']}"})
        assert revoked.status_code == 401, "a revoked token stays revoked"
        newer = httpx.post(f"{mock.base}/patients", headers=auth, json={"first_name": "N", "last_name": "X"})
        assert newer.json()["data"]["id"] > patient["id"], "ids keep growing after a load"
        mock.stop(signal.SIGTERM)
    assert mock.stopped is not None and mock.stopped.code == 0


def test_a_failed_save_is_reported_and_exits_1(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serve("--state-file", str(state)) as mock:
        state.mkdir()  # something in the way: the rename over it fails
        stopped = mock.stop(signal.SIGTERM)
    assert stopped.code == 1
    assert f"cannot save the state to {state}" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"], "no temporary file left behind"


def test_a_save_that_fails_midway_leaves_the_old_file(tmp_path: Path, monkeypatch: Any) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"accounts": []}', encoding="utf-8")

    def broken(store: Store) -> dict[str, Any]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mockserver.store.documents.export_state", broken)
    with pytest.raises(OSError):
        save_state(build_backend(MockSettings(fixtures_dir=None)).store, state)
    assert state.read_text(encoding="utf-8") == '{"accounts": []}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"accounts": [', "is not valid JSON"),
    ("[1, 2]", "expected an object with an 'accounts' list"),
    ('{"accounts": [{"name": "no id"}]}', "KeyError"),
    ('{"accounts": [], "patients": [{"id": 1, "account_id": 1, "first_name": "A", "last_name": "B",'
     ' "created_at": 5}]}', "AttributeError"),
    ('{"accounts": [], "patients": [{"id": 1, "account_id": 1, "first_name": "A", "last_name": "B",'
     ' "created_at": "2026-01-01T00:00:00Z"}]}', "a patient belongs to an account the document does not define"),
    ('{"accounts": [], "patients": [{"id": 1, "colour": "red"}]}', "unknown fields ['colour']"),
])
def test_a_corrupt_state_file_exits_2_without_a_traceback(tmp_path: Path, content: str, message: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content, encoding="utf-8")
    run = run_cli("--port", str(free_port()), "--state-file", str(state))
    assert run.returncode == 2
    assert run.stderr.startswith(f"dentare-mock: error: {state}")
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert state.read_text(encoding="utf-8") == content, "the file is left as it was"


def test_a_state_file_in_a_missing_folder_exits_2(tmp_path: Path) -> None:
    run = run_cli("--state-file", str(tmp_path / "nope" / "state.json"))
    assert run.returncode == 2
    assert "--state-file: the folder" in run.stderr and "does not exist" in run.stderr
