"""Schemathesis, every phase and every check, against the mock on a real port.

Bounded for CI (a fixed seed and a small number of examples per operation);
the longer run for QA is the same command with other numbers, see README.md.
Our own checks (fuzz_hooks.py) add: no stack trace or path in any answer,
error bodies in the `{"error": ...}` shape, and schema-valid requests refused
only by a documented business rule.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, RunningMock
from tests.support.reliability import token

MAX_EXAMPLES = os.environ.get("DENTARE_FUZZ_MAX_EXAMPLES", "20")
SEED = os.environ.get("DENTARE_FUZZ_SEED", "4821")
MAX_TIME = os.environ.get("DENTARE_FUZZ_MAX_TIME")  # seconds; QA runs set it, CI does not


def schemathesis_command(base_url: str, secret: str, spec: Path) -> list[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", "tests/reliability/schemathesis.toml",
        "run", str(spec), "--url", base_url, "--header", f"Authorization: Bearer {secret}",
        "--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", SEED, "--no-color",
    ]  # fmt: skip
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]
    return command


def test_schemathesis_finds_no_failure(fresh_rmock: RunningMock, tmp_path: Path) -> None:
    """Against the kit's decided document: the mock is held to every decision."""
    assert fresh_rmock.base_url.startswith("http://127.0.0.1:")  # fuzz only the local mock
    decided = tmp_path / "decided.yaml"
    subprocess.run([sys.executable, "-m", "dentare_spec", "decided", "-o", str(decided)], cwd=ROOT, check=True)
    try:
        run = subprocess.run(
            schemathesis_command(fresh_rmock.base_url, token(1, 1), decided),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=float(MAX_TIME or 0) + 240,
            env={**os.environ, "NO_COLOR": "1"},
        )
    finally:
        fresh_rmock.reset()
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout, report
    # Every phase ran, and something was generated.
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.stdout, report
    generated = re.search(r"(\d+) generated", run.stdout)
    assert generated and int(generated.group(1)) >= 500, report
