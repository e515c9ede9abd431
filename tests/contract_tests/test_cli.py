"""The CLI's promises: exit codes, one-line reasons, skip reasons, masked
tokens, the request budget, JUnit XML, and the pytest route."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tests.support import ROOT, free_port

from .asgi_tools import ASGIApp, Mutant, Request, Response, call
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
    broken = next(m for m in MUTANTS if m.name == "auth_lowercase_bearer")
    only_main = Accounts(live={1: accounts.live[1]}, revoked={})
    with serve(Mutant(mock_app(), broken.make(accounts))) as base_url:
        run = contract(base_url, only_main, "--quick", "--rule", "auth", "--rule", "scoping")
    assert run.code == 1
    assert run.skipped["auth.revoked_token"] == "needs --revoked-token"
    assert run.skipped["scoping.get_other_account"] == "needs --other-token"
    assert re.search(r"scoping\.get_other_account +skipped +needs --other-token", run.stdout)
    for line in (
        "check:    auth.wrong_scheme",
        "expected: 401 for GET /me.json with a lower-case `bearer` scheme",
        "request:  curl -X ",
        'guide:    "The literal word Bearer is required',
    ):
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
    assert run.code == 2 and "no check matches" in run.stderr


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
                "auth.me_profile",
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
            "auth.me_profile",
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


def test_a_revoked_token_that_works_is_a_usage_error(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    live_as_revoked = Accounts(live=accounts.live, revoked={1: [accounts.live[1][1]]})
    with serve(mock_app()) as base_url:
        run = contract(base_url, live_as_revoked, "--rule", "auth")
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "the --revoked-token still works" in run.stderr


def test_another_token_of_the_same_account_is_a_usage_error(
    accounts: Accounts, contract: Callable[..., ContractRun]
) -> None:
    with serve(mock_app()) as base_url:
        run = contract(base_url, accounts, "--rule", "scoping", env={"DENTARE_OTHER_TOKEN": accounts.live[1][1]})
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert "same clinic account" in run.stderr or "same user" in run.stderr


def test_the_report_names_target_seed_and_mode(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    with serve(mock_app()) as base_url:
        origin = base_url.removesuffix("/api/v1")
        run = contract(origin, accounts, "--rule", "auth.me_profile", "--seed", "77")
    assert run.code == 0, run.stdout[-2000:]
    assert "seed 77" in run.stdout and "replay  add --seed 77" in run.stdout
    assert f"the spec's base path /api/v1 was added to --base-url {origin}" in run.stdout
    assert "mode    default" in run.stdout


def test_a_run_leaves_no_hypothesis_folder_in_the_working_directory(accounts: Accounts, tmp_path: Path) -> None:
    cwd = tmp_path / "caller"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTARE_")}
    env.update(
        DENTARE_TOKEN=accounts.live[1][0],
        DENTARE_OTHER_TOKEN=accounts.live[2][0],
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    with serve(mock_app()) as base_url:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "contract_tests.cli",
                "--base-url",
                base_url,
                "--quick",
                "--rule",
                "schema",
                "--rule",
                "stateful",
            ],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    assert list(cwd.iterdir()) == []
    assert (tmp_path / "cache" / "dentare-contract").is_dir()  # where hypothesis works instead


def test_edge_answers_are_retried_and_never_judged(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    """A platform edge that answers every third request with a 429 (Retry-After: 0),
    HTML or JSON, as the guide warns: the run retries, counts, and passes; the
    fuzzers and the state machine too (every request they send goes through the run's client)."""
    sent = {"n": 0}

    async def edge(app: ASGIApp, request: Request) -> Response:
        sent["n"] += 1
        if sent["n"] % 3 == 0:
            body = b"<html>Too Many Requests</html>" if sent["n"] % 2 else b'{"error": "slow down"}'
            kind = "text/html" if sent["n"] % 2 else "application/json"
            return Response(429, {"content-type": kind, "retry-after": "0"}, body)
        return await call(app, request)

    with serve(Mutant(mock_app(), edge)) as base_url:
        run = contract(
            base_url,
            accounts,
            "--quick",
            "--rule",
            "auth",
            "--rule",
            "pagination",
            "--rule",
            "listing",
            "--rule",
            "schema",
            "--rule",
            "stateful",
            "--max-retries",
            "5",
        )
    assert run.code == 0, run.stdout[-3000:] + run.stderr[-1000:]
    retries = re.search(r"(\d+) retries of edge answers", run.stdout)
    assert retries and int(retries.group(1)) > 10, run.stdout[-1500:]


def test_cookies_the_target_sets_are_never_sent_back(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    """A target that hands out a session cookie and lets a request with it in,
    token or not: the auth checks must send exactly what they say (no cookie)."""
    token = accounts.live[1][0]

    async def sessions(app: ASGIApp, request: Request) -> Response:
        if "cookie" in request.headers:
            request = replace(request, headers={**request.headers, "authorization": f"Bearer {token}"})
        response = await call(app, request)
        response.headers["set-cookie"] = "session=contract; Path=/"
        return response

    with serve(Mutant(mock_app(), sessions)) as base_url:
        run = contract(base_url, accounts, "--quick", "--rule", "auth")
    assert run.code == 0, run.stdout[-3000:] + run.stderr[-1000:]
