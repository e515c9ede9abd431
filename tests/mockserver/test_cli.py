"""`dentare-mock` prints what a newcomer needs and fails clearly."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port, wait_until_up


def test_banner_curl_works_as_printed() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
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
        [sys.executable, "-m", "mockserver.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
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
