"""Fixtures for proving the contract suite: the real mock (or a mutant of it)
on a real port, and a runner for the `dentare-contract` CLI in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import FIXTURES_DIR, ROOT, serve_in_thread

from .mutants import Accounts

# Lets a developer point the tests at other fixtures; CI uses the repo's.
FIXTURES = Path(os.environ.get("DENTARE_CONTRACT_TEST_FIXTURES", FIXTURES_DIR))


def load_accounts() -> Accounts:
    data = json.loads((FIXTURES / "accounts.json").read_text(encoding="utf-8"))["accounts"]
    return Accounts(
        live={a["id"]: [t["token"] for t in a["tokens"] if not t["revoked"]] for a in data},
        revoked={a["id"]: [t["token"] for t in a["tokens"] if t["revoked"]] for a in data},
    )


@pytest.fixture(scope="session")
def accounts() -> Accounts:
    return load_accounts()


def mock_app() -> Any:
    from mockserver import MockSettings, create_app

    return create_app(MockSettings(fixtures_dir=FIXTURES))


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free loopback port (uvicorn in a thread); yields the API base URL."""
    with serve_in_thread(app) as root:
        yield f"{root}/api/v1"


@dataclass
class ContractRun:
    code: int
    stdout: str
    stderr: str
    junit: ET.Element | None = None
    failed: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)


def run_contract(
    base_url: str,
    accounts: Accounts | None,
    *args: str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path = ROOT,
    junit: bool = True,
) -> ContractRun:
    """`dentare-contract` in a subprocess; tokens travel in the environment, as CI passes them."""
    junit_path = tmp_path / f"junit-{len(list(tmp_path.iterdir()))}.xml"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DENTARE_")}
    if accounts is not None:
        full_env["DENTARE_TOKEN"] = accounts.live[1][0]
        if 2 in accounts.live:
            full_env["DENTARE_OTHER_TOKEN"] = accounts.live[2][0]
        if accounts.revoked.get(1):
            full_env["DENTARE_REVOKED_TOKEN"] = accounts.revoked[1][0]
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(ROOT)  # from another working directory too
    command, rest = (args[:1], args[1:]) if args[:1] == ("calibrate",) else ((), args)
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests.cli",
            *command,
            "--base-url",
            base_url,
            *(["--junit-xml", str(junit_path)] if junit else []),
            *rest,
        ],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    result = ContractRun(process.returncode, process.stdout, process.stderr)
    if junit_path.exists():
        result.junit = ET.parse(junit_path).getroot()
        for case in result.junit.iter("testcase"):
            rule = case.get("name", "").removeprefix("test_check[").removesuffix("]")
            if case.find("failure") is not None or case.find("error") is not None:
                result.failed.add(rule)
            elif (skip := case.find("skipped")) is not None:
                result.skipped[rule] = skip.get("message", "")
            else:
                result.passed.add(rule)
    return result


@pytest.fixture
def contract(tmp_path: Path) -> Callable[..., ContractRun]:
    def run(base_url: str, accounts: Accounts | None, *args: str, **kwargs: Any) -> ContractRun:
        return run_contract(base_url, accounts, *args, tmp_path=tmp_path, **kwargs)

    return run
