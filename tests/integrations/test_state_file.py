"""`--state-file`: a SQLite file that holds every write the mock acknowledged
before the answer is sent. Each test runs the real CLI in a subprocess and
stops it the hard way (SIGKILL, a stuck client, a full disk) or the usual way
(SIGTERM, Ctrl-C), then starts it again on the same file.

Tokens below are the fixture tokens of account 1 (fixtures/accounts.json).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port, load_tokens, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
TOKENS = load_tokens()
AUTH = {"Authorization": f"Bearer {TOKENS[1].token}"}
SECOND = {"Authorization": f"Bearer {TOKENS[1].live[1]}"}
JSON = {"Content-Type": "application/json"}


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

    def stop(self, sig: int, timeout: float = 30) -> Stopped:
        self.process.send_signal(sig)
        stdout, stderr = self.process.communicate(timeout=timeout)
        self.stopped = Stopped(self.process.returncode, stdout, stderr)
        return self.stopped

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would stop it: nothing runs after."""
        self.stop(signal.SIGKILL)

    def create(self, first_name: str, **fields: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/patients", headers=AUTH, json={"first_name": first_name, "last_name": "Durable", **fields}
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])

    def state(self) -> Any:
        return httpx.get(f"{self.root}/__mock/state").json()


@contextlib.contextmanager
def serve(*args: str) -> Iterator[Served]:
    """The real CLI in a subprocess (stdout and stderr are pipes); the test stops it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/v1", process)
    try:
        try:
            wait_until_up(f"{served.root}/__mock/accounts", timeout=60, process=process)
        except RuntimeError as exc:
            _, err = process.communicate(timeout=30)
            raise RuntimeError(f"{exc}\n{err[-2000:]}") from None
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def control(served: Served, method: str, path: str, body: Any = None) -> httpx.Response:
    """A control request as the control API wants it: JSON, with a body."""
    return httpx.request(method, f"{served.root}/__mock{path}", json={} if body is None else body)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- what an acknowledged write survives ------------------------------------------------------


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    """Before this state file, all 30 creates below were gone after a SIGKILL
    (the file was written only at a clean stop)."""
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        created = [mock.create(f"Kill{i}", external_id=f"kill-{i}") for i in range(30)]
        patched = httpx.patch(
            f"{mock.base}/patients/{created[0]['id']}", headers=AUTH, json={"last_name": "Patched", "is_active": False}
        )
        assert patched.status_code == 200
        token = control(mock, "POST", "/accounts/1/tokens", {"name": "kept"}).json()
        revoked = control(mock, "POST", "/accounts/1/tokens", {"name": "revoked"}).json()
        assert control(mock, "DELETE", f"/tokens/{revoked['id']}").status_code == 200
        fixture_token_id = next(
            t["id"]
            for t in httpx.get(f"{mock.root}/__mock/accounts/1/tokens").json()["data"]
            if t["hint"] == TOKENS[1].live[1][:8]
        )
        assert control(mock, "DELETE", f"/tokens/{fixture_token_id}").status_code == 200
        imported = httpx.post(
            f"{mock.root}/__mock/accounts/1/import",
            content=b"first_name,last_name\nCsv,Row\n",
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 201
        before = mock.state()
        mock.kill()
    assert mock.stopped is not None and mock.stopped.code == -signal.SIGKILL

    with serve("--state-file", str(state)) as mock:
        assert mock.state() == before, "the state after SIGKILL is the state acknowledged before it"
        for patient in created[1:]:
            assert httpx.get(f"{mock.base}/patients/{patient['id']}", headers=AUTH).json()["data"] == patient
        first = httpx.get(f"{mock.base}/patients/{created[0]['id']}", headers=AUTH).json()["data"]
        assert (first["last_name"], first["is_active"]) == ("Patched", False)
        assert (
            httpx.get(f"{mock.base}/me.json", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 200
        )
        for secret in (revoked["token"], TOKENS[1].live[1]):
            assert (
                httpx.get(f"{mock.base}/me.json", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
            ), "a revoked token stays revoked after a crash"
        newer = mock.create("After")
        assert newer["id"] > max(p["id"] for p in created), "ids keep growing after a load"
        mock.stop(signal.SIGTERM)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_state_survives_a_clean_restart(tmp_path: Path, stop_signal: int) -> None:
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        kept = control(mock, "POST", "/accounts/1/tokens", {"name": "kept"}).json()
        patient = mock.create("Ђурђица", phone="+38970123456", external_id="restart-1")
        stopped = mock.stop(stop_signal)
    assert stopped.code == 0, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert f"closed the state file {state}: every acknowledged change is in it" in stopped.stderr
    assert state.read_bytes().startswith(b"SQLite format 3\x00")
    assert kept["token"].encode() not in state.read_bytes(), "tokens are saved as hashes only"
    assert files_in(tmp_path) == ["state.db"], "the write-ahead log is folded in at a clean stop"

    with serve("--state-file", str(state)) as mock:
        again = httpx.get(f"{mock.base}/patients/{patient['id']}", headers=AUTH)
        assert again.status_code == 200 and again.json()["data"] == patient
        mock.stop(signal.SIGTERM)
    assert mock.stopped is not None and mock.stopped.code == 0


def test_a_reset_keeps_revocations_in_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        fixture_token_id = next(
            t["id"]
            for t in httpx.get(f"{mock.root}/__mock/accounts/1/tokens").json()["data"]
            if t["hint"] == TOKENS[1].live[1][:8]
        )
        assert control(mock, "DELETE", f"/tokens/{fixture_token_id}").status_code == 200
        extra = mock.create("Gone after reset")
        assert control(mock, "POST", "/reset").status_code == 200
        mock.kill()
    with serve("--state-file", str(state)) as mock:
        assert httpx.get(f"{mock.base}/patients/{extra['id']}", headers=AUTH).status_code == 404
        assert httpx.get(f"{mock.base}/me.json", headers=SECOND).status_code == 401
        assert httpx.get(f"{mock.base}/me.json", headers=AUTH).status_code == 200
        mock.stop(signal.SIGTERM)


# -- stopping with a client in the way --------------------------------------------------------


def _stuck_client(served: Served) -> socket.socket:
    """A client that starts a POST and never finishes its body: the request stays in progress."""
    port = int(served.root.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /api/v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
        + AUTH["Authorization"].encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"first_name": '
    )
    return sock


def test_docker_stop_with_a_stuck_client_loses_nothing(tmp_path: Path) -> None:
    """`docker stop`: SIGTERM, then SIGKILL 10 s later. The graceful timeout (5 s by
    default) lets the mock stop by itself first, with every acknowledged write kept."""
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        created = [mock.create(f"Docker{i}") for i in range(5)]
        stuck = _stuck_client(mock)
        try:
            mock.process.send_signal(signal.SIGTERM)
            try:
                mock.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                mock.process.kill()  # what docker would do
                pytest.fail("the mock was still running 10 s after SIGTERM: docker would have killed it")
            _, stderr = mock.process.communicate(timeout=10)
        finally:
            stuck.close()
    assert mock.process.returncode == 0, stderr
    assert "closed the state file" in stderr
    with serve("--state-file", str(state)) as mock:
        for patient in created:
            assert httpx.get(f"{mock.base}/patients/{patient['id']}", headers=AUTH).status_code == 200
        mock.stop(signal.SIGTERM)


def test_a_second_ctrl_c_does_not_skip_closing_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve("--state-file", str(state), "--shutdown-timeout", "30") as mock:
        patient = mock.create("Twice")
        stuck = _stuck_client(mock)
        try:
            mock.process.send_signal(signal.SIGINT)
            time.sleep(0.5)  # the first Ctrl-C is being handled: the server waits for the stuck client
            assert mock.process.poll() is None
            stopped = mock.stop(signal.SIGINT, timeout=20)  # the second one forces the exit
        finally:
            stuck.close()
    assert stopped.code == 0, stopped.stderr
    assert "closed the state file" in stopped.stderr
    assert files_in(tmp_path) == ["state.db"]
    with serve("--state-file", str(state)) as mock:
        assert httpx.get(f"{mock.base}/patients/{patient['id']}", headers=AUTH).status_code == 200
        mock.stop(signal.SIGTERM)


# -- a write that cannot be made durable ------------------------------------------------------


def test_a_write_that_cannot_be_saved_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """A full disk, made real: the process may write no file past 4 KiB (its soft
    RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write fails with EFBIG)."""
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        before = mock.state()
        hard = resource.prlimit(mock.process.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(mock.process.pid, resource.RLIMIT_FSIZE, (4096, hard))  # the soft limit only
        try:
            refused = httpx.post(f"{mock.base}/patients", headers=AUTH, json={"first_name": "No", "last_name": "Room"})
            token = control(mock, "POST", "/accounts/1/tokens", {"name": "no room"})
            reset = control(mock, "POST", "/reset")
        finally:
            resource.prlimit(mock.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        for response in (refused, token, reset):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.json()["error"].startswith("Service Unavailable: the change could not be saved")
        assert mock.state() == before, "a refused write changed nothing"
        after = mock.create("Room again")
        stopped = mock.stop(signal.SIGTERM)
    assert stopped.code == 1, "the exit status says that writes were refused"
    assert "3 changes could not be saved to the state file" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    with serve("--state-file", str(state)) as mock:
        names = [p["first_name"] for p in mock.state()["patients"]]
        assert "Room again" in names and "No" not in names
        assert httpx.get(f"{mock.base}/patients/{after['id']}", headers=AUTH).status_code == 200
        mock.stop(signal.SIGTERM)


def test_a_state_file_removed_while_running_refuses_writes(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        state.unlink()
        response = httpx.post(f"{mock.base}/patients", headers=AUTH, json={"first_name": "A", "last_name": "B"})
        assert response.status_code == 503
        assert "was removed while the mock was running" in response.json()["error"]
        mock.stop(signal.SIGTERM)


# -- the file itself --------------------------------------------------------------------------


def test_the_state_file_and_its_log_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    previous = os.umask(0o022)
    try:
        with serve("--state-file", str(state)) as mock:
            mock.create("Private")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
            mock.stop(signal.SIGTERM)
    finally:
        os.umask(previous)
    assert modes == {"state.db": 0o600, "state.db-wal": 0o600}


def test_a_symbolic_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep me", encoding="utf-8")
    (tmp_path / "state.db").symlink_to(target)
    run = run_cli("--port", str(free_port()), "--state-file", str(tmp_path / "state.db"))
    assert run.returncode == 2
    assert "the state file is a symbolic link" in run.stderr
    wal = tmp_path / "other.db-wal"
    wal.symlink_to(target)
    run = run_cli("--port", str(free_port()), "--state-file", str(tmp_path / "other.db"))
    assert run.returncode == 2 and "a symbolic link where the state file's wal goes" in run.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    assert "Traceback" not in run.stderr


def test_a_temp_file_left_by_a_killed_migration_is_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".state.db.{int(dead.stdout)}.0badf00d.tmp"
    leftover.write_bytes(b"half a migration")
    unrelated = tmp_path / ".other.db.1.x.tmp"
    unrelated.write_bytes(b"not ours")
    with serve("--state-file", str(tmp_path / "state.db")) as mock:
        stopped = mock.stop(signal.SIGTERM)
    assert not leftover.exists() and unrelated.exists()
    assert f"removed {leftover}" in stopped.stderr


def test_a_second_mock_on_the_same_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with serve("--state-file", str(state)) as mock:
        run = run_cli("--port", str(free_port()), "--state-file", str(state))
        assert run.returncode == 2
        assert "the state file is in use by another process" in run.stderr
        csv = tmp_path / "rows.csv"
        csv.write_text("first_name,last_name\nA,B\n", encoding="utf-8")
        imported = run_cli("import-csv", str(csv), "--account", "1", "--state-file", str(state))
        assert imported.returncode == 2 and "in use by another process" in imported.stderr
        mock.stop(signal.SIGTERM)


def test_import_csv_into_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    csv = tmp_path / "rows.csv"
    csv.write_text("first_name,last_name,external_id\nAna,Import,imp-1\nBesa,Import,imp-2\n", encoding="utf-8")
    done = run_cli("import-csv", str(csv), "--account", "1", "--state-file", str(state))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 2 patients into account 1")
    assert files_in(tmp_path) == ["rows.csv", "state.db"]
    with serve("--state-file", str(state)) as mock:
        found = httpx.get(f"{mock.base}/patients", headers=AUTH, params={"external_id": "imp-2"}).json()
        assert found["meta"]["total"] == 1
        mock.stop(signal.SIGTERM)


# -- the JSON state files of earlier versions -------------------------------------------------


def test_a_json_state_file_is_migrated_and_kept_as_a_backup(tmp_path: Path) -> None:
    with serve() as mock:
        document = mock.state()
        document["patients"][0]["last_name"] = "Migrated"
        mock.stop(signal.SIGTERM)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(document), encoding="utf-8")
    original = state.read_bytes()
    with serve("--state-file", str(state)) as mock:
        assert mock.state() == document
        stopped = mock.stop(signal.SIGTERM)
    assert f"migrated the JSON state file {state} to SQLite; the JSON is kept as {state}.bak" in stopped.stderr
    assert state.read_bytes().startswith(b"SQLite format 3\x00")
    assert (tmp_path / "state.json.bak").read_bytes() == original
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert files_in(tmp_path) == ["state.json", "state.json.bak"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"accounts": [', "is not valid JSON"),
        ("[1, 2]", "expected an object with an 'accounts' list"),
        ('{"accounts": [{"name": "no id"}]}', "accounts[0].id can't be blank"),
        (
            '{"accounts": [], "patients": [{"id": 1, "account_id": 1, "first_name": "A", "last_name": "B",'
            ' "created_at": 5}]}',
            "patients[id=1].created_at is invalid",
        ),
        (
            '{"accounts": [], "patients": [{"id": 1, "account_id": 1, "first_name": "A", "last_name": "B",'
            ' "created_at": "2026-01-01T00:00:00Z"}]}',
            "a patient belongs to an account the document does not define",
        ),
        (
            '{"accounts": [], "patients": [{"id": 1, "colour": "red"}]}',
            "patients[id=1].colour is not a permitted field",
        ),
    ],
)
def test_a_corrupt_json_state_file_exits_2_and_is_left_alone(tmp_path: Path, content: str, message: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content, encoding="utf-8")
    run = run_cli("--port", str(free_port()), "--state-file", str(state))
    assert run.returncode == 2
    assert run.stderr.startswith(f"dentare-mock: error: {state}")
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert state.read_text(encoding="utf-8") == content, "the file is left as it was"
    assert files_in(tmp_path) == ["state.json"]


def test_a_database_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    run = run_cli("--port", str(free_port()), "--state-file", str(other))
    assert run.returncode == 2 and "not a dentare-mock state file" in run.stderr
    torn = tmp_path / "torn.db"
    torn.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    run = run_cli("--port", str(free_port()), "--state-file", str(torn))
    assert run.returncode == 2 and "Traceback" not in run.stderr


def _created_then_killed(folder: Path) -> Path:
    """A state file the mock created from the fixtures, one POST in it, then a SIGKILL."""
    state = folder / "state.db"
    with serve("--state-file", str(state)) as mock:
        mock.create("Kept")
        mock.kill()
    return state


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("PRAGMA user_version = 7", "a state file of format 7, newer than this dentare-mock's (1)"),
        ("DELETE FROM meta", "holds data but was never marked complete"),
        ("DROP TABLE tokens", "a damaged state file (no table tokens)"),
    ],
    ids=["newer-format", "no-marker", "missing-table"],
)
def test_a_state_file_the_mock_cannot_read_whole_is_refused_and_left_as_it_is(
    tmp_path: Path, damage: str, message: str
) -> None:
    """Before, each of these started: a newer format was rewritten as format 1, a file
    without its marker was replaced by the fixtures, a missing table was created."""
    state = _created_then_killed(tmp_path)
    with contextlib.closing(sqlite3.connect(state, isolation_level=None)) as db:
        db.execute(damage)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = state.read_bytes()
    run = run_cli("--port", str(free_port()), "--state-file", str(state))
    assert run.returncode == 2, run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr
    assert state.read_bytes() == before, "a refused file is left byte for byte as it was"


@pytest.mark.parametrize("head", [b"\x00" * 16, b"XXXXXXXXXXXXXXXX"], ids=["zeroed", "overwritten"])
def test_a_state_file_with_a_damaged_header_is_named_so_and_left_as_it_is(tmp_path: Path, head: bytes) -> None:
    """Before, a state file whose first bytes were lost was read as JSON, and the
    mock said it "is not valid JSON: str is not valid UTF-8"."""
    state = _created_then_killed(tmp_path)
    with contextlib.closing(sqlite3.connect(state, isolation_level=None)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with state.open("r+b") as file:
        file.write(head)
    before = state.read_bytes()
    run = run_cli("--port", str(free_port()), "--state-file", str(state))
    assert run.returncode == 2, run.stderr
    assert f"{state} is not a state file" in run.stderr and "it is damaged: restore it" in run.stderr
    assert "JSON:" not in run.stderr and "Traceback" not in run.stderr
    assert state.read_bytes() == before


def test_a_new_state_file_says_what_it_is_without_its_log(tmp_path: Path) -> None:
    """Right after the mock creates it, the file alone (copied without its -wal, after a
    SIGKILL) is a state file holding the fixtures; before, it was an empty database there,
    which a start read as new."""
    state = _created_then_killed(tmp_path)
    copy = tmp_path / "copy" / "state.db"
    copy.parent.mkdir()
    copy.write_bytes(state.read_bytes())
    with contextlib.closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x444E5441
        assert db.execute("SELECT value FROM meta WHERE key = 'initialized'").fetchone() == ("1",)
        assert db.execute("SELECT count(*) FROM patients").fetchone()[0] == 215  # the fixtures; the POST is in the log


def test_a_state_file_in_a_missing_folder_exits_2(tmp_path: Path) -> None:
    run = run_cli("--state-file", str(tmp_path / "nope" / "state.db"))
    assert run.returncode == 2
    assert "--state-file: the folder" in run.stderr and "does not exist" in run.stderr
