"""The suite passes against the real mock (with --strict: the kit's CI holds
its own mock to every decision), cleans up after itself, and a --read-only
run sends nothing but reads: every check that writes says so."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from contract_tests import RunConfig, RunContext, select_checks
from contract_tests.examples import example_database
from contract_tests.plugin import run_check
from tests.support import RunningMock

from .asgi_tools import ASGIApp, Mutant, Request, Response, call
from .conftest import ContractRun, mock_app, serve
from .mutants import Accounts


def _tagged_active(base_url: str, token: str) -> list[int]:
    """Active patients that carry a contract run's external_id tag."""
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    page = 1
    while True:
        body = httpx.get(f"{base_url}/patients", params={"page": page, "per_page": 100}, headers=headers).json()
        ids += [item["id"] for item in body["data"]]
        if not body["data"]:
            break
        page += 1
    tagged = []
    for patient_id in ids:
        data = httpx.get(f"{base_url}/patients/{patient_id}", headers=headers).json()["data"]
        if (data.get("external_id") or "").startswith("contract-"):
            tagged.append(patient_id)
    return tagged


def test_full_run_passes_against_the_mock(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    with serve(mock_app()) as base_url:
        run = contract(base_url, accounts, "--seed", "4821", "--strict")
        assert run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert run.failed == set() and run.skipped == {}
        assert run.passed == {c.name for c in select_checks(None)}
        assert "differs from the kit's decisions: 0 of 36" in run.stdout
        # Everything it created is archived again.
        assert _tagged_active(base_url, accounts.live[1][0]) == []
        assert _tagged_active(base_url, accounts.live[2][0]) == []


def test_read_only_run_sends_only_reads(accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    methods: list[str] = []

    async def record(app: ASGIApp, request: Request) -> Response:
        methods.append(request.method)
        return await call(app, request)

    with serve(Mutant(mock_app(), record)) as base_url:
        run = contract(base_url, accounts, "--read-only", "--quick")
    assert run.code == 0, run.stdout[-4000:]
    assert methods and set(methods) == {"GET"}
    writing = {c.name for c in select_checks(None) if c.writes}
    assert set(run.skipped) == writing
    assert all("--read-only" in reason for reason in run.skipped.values())


def test_every_check_that_writes_is_marked_so(accounts: Accounts) -> None:
    """Each check, run alone with --read-only against a target that records
    methods: one that is not skipped must send GETs only, else its `writes`
    mark is missing and --read-only would let it write to production."""
    methods: list[str] = []

    async def record(app: ASGIApp, request: Request) -> Response:
        methods.append(request.method)
        return await call(app, request)

    with serve(Mutant(mock_app(), record)) as base_url:
        config = RunConfig(
            base_url=base_url,
            token=accounts.live[1][0],
            other_token=accounts.live[2][0],
            revoked_token=accounts.revoked[1][0],
            read_only=True,
            quick=True,
            rate=0,
        )
        ctx = RunContext(config)
        ctx.cache["example_db"] = example_database(None)
        unmarked = {}
        for found in select_checks(None):
            methods.clear()
            try:
                run_check(ctx, found)
            except pytest.skip.Exception:
                continue
            writes = sorted(set(methods) - {"GET"})
            if writes:
                unmarked[found.name] = writes
        ctx.close()
    assert unmarked == {}, f"checks that write without writes=True: {unmarked}"


def test_full_run_passes_against_the_mock_on_the_postgresql_store(
    accounts: Accounts,
    contract: Callable[..., ContractRun],
    pg_mock_server: RunningMock,
) -> None:
    """The same full --strict run against the mock on the PostgreSQL store."""
    pg_mock_server.reset()
    run = contract(pg_mock_server.base_url, accounts, "--seed", "4821", "--strict")
    assert run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert run.failed == set() and run.skipped == {}
    assert "differs from the kit's decisions: 0 of 36" in run.stdout
    assert _tagged_active(pg_mock_server.base_url, accounts.live[1][0]) == []
