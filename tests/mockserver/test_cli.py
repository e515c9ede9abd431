"""`dentare-mock` prints what a newcomer needs and fails clearly."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, free_port, wait_until_up


def test_banner_curl_works_as_printed() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/__mock/accounts", process=process)
        lines = []
        while not lines or "curl" not in lines[-1]:
            lines.append(process.stdout.readline())  # type: ignore[union-attr]
        banner = "".join(lines)
        assert f"Base URL: http://127.0.0.1:{port}/api/v1" in banner
        argv = shlex.split(lines[-1].strip())
        assert argv[0] == "curl"
        headers = dict(h.split(": ", 1) for h in argv[3::2])
        response = httpx.get(argv[1], headers=headers)
        assert response.status_code == 200 and set(response.json()) == {"id", "name", "avatar_url", "sgid"}
    finally:
        process.terminate()
        process.wait(timeout=15)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_spec_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("--spec", str(tmp_path / "nope.yaml"), "--port", str(free_port()))
    assert result.returncode == 2
    assert re.fullmatch(r"dentare-mock: error: cannot read the spec .*nope\.yaml: .*\n", result.stderr)
    assert "Traceback" not in result.stderr


def test_bad_fixtures_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "accounts.json").write_text("{broken", encoding="utf-8")
    result = run_cli("--fixtures", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 2 and "accounts.json is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_each_subcommand_with_one_line() -> None:
    from mockserver.cli import SUBCOMMANDS

    result = run_cli("--help")
    assert result.returncode == 0
    listed = dict(re.findall(r"^  ([a-z-]+) {2,}(\S.*)$", result.stdout.split("subcommands", 1)[1], re.MULTILINE))
    assert set(listed) == set(SUBCOMMANDS), result.stdout
    for name in SUBCOMMANDS:
        sub = run_cli(name, "--help")
        assert sub.returncode == 0 and f"dentare-mock {name}" in sub.stdout, sub.stderr


def test_a_port_in_use_fails_before_the_banner_with_a_hint() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port))
    assert result.returncode == 2
    assert re.fullmatch(rf"dentare-mock: error: cannot listen on 127\.0\.0\.1:{port}: .*--port\n", result.stderr)
    assert "Traceback" not in result.stderr and "Dentare mock serving" not in result.stdout


def _banner_of(*args: str) -> str:
    """Start the mock, read its banner up to the Control API line, stop it (by PID)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), "--log-level", "warning", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/__mock/accounts", process=process)
        lines = []
        while not lines or "Control API" not in lines[-1]:
            lines.append(process.stdout.readline())  # type: ignore[union-attr]
        return "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_banner_token_is_live_in_the_loaded_state(tmp_path: Path) -> None:
    """A state file that revoked the first fixture token: the banner offers a live one."""
    from tests.support import load_tokens, spawn_mock

    state = tmp_path / "state.db"
    first = load_tokens()[1].live[0]
    with spawn_mock("--state-file", str(state)) as mock:
        tokens = httpx.get(f"{mock.root_url}/__mock/accounts/1/tokens").json()["data"]
        revoke = next(t["id"] for t in tokens if not t["revoked"])
        assert httpx.request("DELETE", f"{mock.root_url}/__mock/tokens/{revoke}", json={}).status_code == 200
        assert httpx.get(f"{mock.base_url}/me.json", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    banner = _banner_of("--state-file", str(state))
    token = re.search(r"Bearer (dnt_\w+)", banner)
    assert token and token.group(1) != first, banner
    with spawn_mock("--state-file", str(state)) as mock:
        answer = httpx.get(f"{mock.base_url}/me.json", headers={"Authorization": f"Bearer {token.group(1)}"})
        assert answer.status_code == 200


def test_banner_says_how_to_get_a_token_when_no_fixture_token_is_live(tmp_path: Path) -> None:
    from tests.support import spawn_mock

    state = tmp_path / "state.db"
    with spawn_mock("--state-file", str(state)) as mock:
        for account in (1, 2, 3):
            for token in httpx.get(f"{mock.root_url}/__mock/accounts/{account}/tokens").json()["data"]:
                if not token["revoked"]:
                    httpx.request("DELETE", f"{mock.root_url}/__mock/tokens/{token['id']}", json={}).raise_for_status()
    banner = _banner_of("--state-file", str(state))
    assert "Bearer" not in banner and "No fixture token is live" in banner and "/__mock/tokens" in banner


def test_workers_with_the_memory_store_are_refused_with_the_reason() -> None:
    result = run_cli("--workers", "2", "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr == (
        "dentare-mock: error: --workers needs --store postgresql://...: with the memory store each process "
        "would have its own state\n"
    )


def test_an_unreachable_database_is_one_line_and_exit_2() -> None:
    result = run_cli("--store", f"postgresql://nobody@127.0.0.1:{free_port()}/none", "--port", str(free_port()))
    assert result.returncode == 2
    assert re.fullmatch(
        r"dentare-mock: error: cannot connect to postgresql://nobody@127\.0\.0\.1:\d+/none: .*\n", result.stderr
    )


def test_a_state_file_with_the_postgresql_store_is_refused(tmp_path: Path) -> None:
    result = run_cli("--store", "postgresql://u@127.0.0.1:1/x", "--state-file", str(tmp_path / "s.json"))
    assert result.returncode == 2 and "--state-file is for the memory store" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_store_that_is_neither_is_refused() -> None:
    result = run_cli("--store", "mysql://u@h/db")
    assert result.returncode == 2 and "use memory or a postgresql:// URL" in result.stderr


def test_a_bad_profile_is_one_line_naming_the_choices_and_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("decisions:\n  list_order: sideways\n", encoding="utf-8")
    result = run_cli("--profile", str(profile), "--port", str(free_port()))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.fullmatch(
        r"dentare-mock: error: .*profile\.yaml: list_order: no alternative 'sideways'; "
        r"choose one of id_ascending, newest_first\n",
        result.stderr,
    )
    profile.write_text("decisions:\n  list_ordre: newest_first\n", encoding="utf-8")
    result = run_cli("--profile", str(profile), "--port", str(free_port()))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.fullmatch(
        r"dentare-mock: error: .*no decision point 'list_ordre'; the spec's are list_order, .*\n", result.stderr
    )


def test_an_unreadable_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for content in (None, "decisions: [\n  - x\n y: z\n"):
        profile = tmp_path / "profile.yaml"
        if content is not None:
            profile.write_text(content, encoding="utf-8")
        result = run_cli("--profile", str(profile), "--port", str(free_port()))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("dentare-mock: error: ")
        assert "cannot read the profile" in result.stderr or "is not valid YAML" in result.stderr


_SERVED_WITH = """
import sys
from unittest import mock
import uvicorn
from mockserver import cli
with mock.patch.object(uvicorn, "run") as run:
    cli.main(sys.argv[1:])
print(run.call_args.kwargs["http"].recall_answer is not None)
"""


@pytest.mark.parametrize(
    ("options", "at_the_connection"),
    [
        ((), True),
        (("--check-responses",), True),  # it only reads answers; a kept one it has read
        (("--no-answer-cache",), False),
        (("--cors-origin", "http://localhost:3000"), False),  # CORS headers are added to the routes' answers
        (("--faults",), False),  # a fault asked for by a header replaces the answer
    ],
)
def test_the_connection_gives_kept_answers_where_nothing_changes_them(
    options: tuple[str, ...], at_the_connection: bool
) -> None:
    """`dentare-mock` hands uvicorn its HTTP protocol with the app's kept answers (web/http_protocol.py)."""
    command = [sys.executable, "-c", _SERVED_WITH, "--port", str(free_port()), "--log-level", "warning", *options]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(at_the_connection)
