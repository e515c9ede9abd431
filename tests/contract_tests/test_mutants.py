"""Proof that the suite catches defects: each mutant of the mock breaks one
rule, and the run against it fails, naming that rule.

The runs happen once per module, two at a time (each mutant on its own
port, each suite in its own process); the tests then read their results.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .asgi_tools import Mutant
from .conftest import ContractRun, mock_app, run_contract, serve
from .mutants import MUTANTS, Accounts, MutantSpec


def _run(spec: MutantSpec, accounts: Accounts, folder: Path) -> ContractRun:
    folder.mkdir()
    with serve(Mutant(mock_app(), spec.make(accounts))) as base_url:
        return run_contract(base_url, accounts, "--quick", "--seed", "4821", "--rule", spec.group, tmp_path=folder)


@pytest.fixture(scope="module")
def mutant_runs(
    request: pytest.FixtureRequest, accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ContractRun]:
    selected = {
        item.callspec.params["spec"].name
        for item in request.session.items
        if hasattr(item, "callspec") and "spec" in item.callspec.params
    }
    root = tmp_path_factory.mktemp("mutants")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {m.name: pool.submit(_run, m, accounts, root / m.name) for m in MUTANTS if m.name in selected}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("spec", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(spec: MutantSpec, mutant_runs: dict[str, ContractRun]) -> None:
    run = mutant_runs[spec.name]
    detail = f"{spec.name}: exit {run.code}, failed {sorted(run.failed)}\n{run.stdout[-3000:]}\n{run.stderr[-1500:]}"
    assert run.code == 1, detail
    # The failure names the broken rule, in the JUnit XML and in the console table.
    assert spec.rule in run.failed, detail
    assert f"  {spec.rule} " in run.stdout and "FAIL" in run.stdout
    assert all(rule.startswith(spec.group + ".") for rule in run.failed)


def test_enough_mutants() -> None:
    assert len(MUTANTS) >= 15
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
