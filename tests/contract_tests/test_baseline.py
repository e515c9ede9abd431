"""The suite passes against the real mock, cleans up after itself, and a
--read-only run sends nothing but reads."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from contract_tests.registry import select_rules

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
        run = contract(base_url, accounts, "--seed", "4821")
        assert run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert run.failed == set() and run.skipped == {}
        assert run.passed == {r.name for r in select_rules(None)}
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
    writing = {r.name for r in select_rules(None) if "writes" in r.needs}
    assert set(run.skipped) == writing
    assert all("--read-only" in reason for reason in run.skipped.values())
