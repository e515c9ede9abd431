"""The CLI's promises: exit codes, one-line reasons, skip reasons, masked
tokens, the request budget, JUnit XML, and the pytest route."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import ROOT, free_port

from .asgi_tools import Mutant
from .conftest import ContractRun, mock_app, serve
from .mutants import MUTANTS, Accounts


def test_unreachable_target_exits_2_with_one_line(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    run = contract(f"http://127.0.0.1:{free_port()}", accounts)
    assert run.code == 2
    assert run.stderr.count("\n") == 1 and "did not answer" in run.stderr and "connection refused" in run.stderr


def test_usage_errors_exit_2(contract: Callable[..., ContractRun]) -> None:
    no_token = contract("http://127.0.0.1:1", None)
    assert no_token.code == 2 and "a token is required" in no_token.stderr
    bad_url = contract("ftp://example.com", None, "--token", "t")
    assert bad_url.code == 2 and "--base-url must be an http(s) URL" in bad_url.stderr


def test_skips_say_why_and_failures_show_a_masked_curl(
    accounts: Accounts, contract: Callable[..., ContractRun]
) -> None:
    broken = next(m for m in MUTANTS if m.name == "auth_no_www_authenticate")
    only_main = Accounts(live={1: accounts.live[1]}, revoked={})
    with serve(Mutant(mock_app(), broken.make(accounts))) as base_url:
        run = contract(base_url, only_main, "--quick", "--rule", "auth", "--rule", "scoping")
    assert run.code == 1
    assert run.skipped["auth.revoked_token"] == "needs --revoked-token"
    assert run.skipped["scoping.get_other_account"] == "needs --other-token"
    assert re.search(r"scoping\.get_other_account +skipped +needs --other-token", run.stdout)
    for line in ("rule:     auth.missing_token", "expected: header WWW-Authenticate: Bearer", "request:  curl -X "):
        assert line in run.stdout
    token = accounts.live[1][0]
    junit = (run.junit is not None) and "".join(run.junit.itertext())
    assert token not in run.stdout and token not in run.stderr and junit and token not in junit
    assert '-H "Authorization: bearer ${DENTARE_TOKEN}"' in run.stdout  # auth.wrong_scheme's request


def test_request_budget_is_enforced(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    with serve(mock_app()) as base_url:
        run = contract(base_url, accounts, "--quick", "--rule", "pagination", "--max-requests", "12")
    assert run.code == 1
    assert "the request budget of 12 is spent" in run.stdout


def test_unknown_rule_pattern_is_a_usage_error(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    with serve(mock_app()) as base_url:
        run = contract(base_url, accounts, "--rule", "no.such.rule")
    assert run.code == 2 and "no rule matches" in run.stderr


def test_the_same_suite_runs_as_plain_pytest(accounts: Accounts) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTARE_")}
    env["DENTARE_TOKEN"] = accounts.live[1][0]
    with serve(mock_app()) as base_url:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "contract_tests",
                "--base-url",
                base_url,
                "--rule",
                "business.me_shape",
                "--rule",
                "auth.missing_token",
                "-p",
                "no:cacheprovider",
                "--assert=plain",
                "-q",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    assert "2 passed" in process.stdout and "dentare contract" in process.stdout


def test_plain_pytest_without_base_url_skips(accounts: Accounts) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "contract_tests",
            "--rule",
            "business.me_shape",
            "-p",
            "no:cacheprovider",
            "--assert=plain",
            "-q",
            "-rs",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0 and "needs --base-url" in process.stdout
