"""Proof that the suite catches defects, and takes the guide's open points as
open: each mutant of the mock breaks one guide rule (the run fails naming it,
in default mode and with --strict), or takes an open point another way than
the kit (the default run passes and reports the point; --strict fails on it).

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

MODES = ("default", "strict")


def _run(spec: MutantSpec, accounts: Accounts, folder: Path) -> dict[str, ContractRun]:
    folder.mkdir()
    runs = {}
    with serve(Mutant(mock_app(), spec.make(accounts))) as base_url:
        for mode in MODES:
            extra = ["--strict"] if mode == "strict" else []
            (folder / mode).mkdir()
            runs[mode] = run_contract(
                base_url, accounts, "--quick", "--seed", "4821", "--rule", spec.group, *extra, tmp_path=folder / mode
            )
    return runs


@pytest.fixture(scope="module")
def mutant_runs(
    request: pytest.FixtureRequest, accounts: Accounts, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, ContractRun]]:
    selected = {
        item.callspec.params["spec"].name
        for item in request.session.items
        if hasattr(item, "callspec") and "spec" in item.callspec.params
    }
    root = tmp_path_factory.mktemp("mutants")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {m.name: pool.submit(_run, m, accounts, root / m.name) for m in MUTANTS if m.name in selected}
        return {name: future.result() for name, future in futures.items()}


def _detail(spec: MutantSpec, run: ContractRun) -> str:
    return f"{spec.name}: exit {run.code}, failed {sorted(run.failed)}\n{run.stdout[-3000:]}\n{run.stderr[-1500:]}"


@pytest.mark.parametrize("spec", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(spec: MutantSpec, mutant_runs: dict[str, dict[str, ContractRun]]) -> None:
    runs = mutant_runs[spec.name]
    for mode in MODES:
        run = runs[mode]
        if spec.decided and mode == "default":
            # Allowed by the guide: a pass, with the point reported as a difference.
            assert run.code == 0, _detail(spec, run)
            point = spec.rule.removeprefix("decided.")
            assert f"  {point}: " in run.stdout and "differs from the kit's decisions: 1 of 1" in run.stdout, _detail(
                spec, run
            )
            continue
        assert run.code == 1, _detail(spec, run)
        # The failure names the broken check, in the JUnit XML and in the console.
        assert spec.rule in run.failed, _detail(spec, run)
        assert all(rule.startswith(spec.group) for rule in run.failed), _detail(spec, run)
        if not spec.decided:
            assert f"  {spec.rule} " in run.stdout and "FAIL" in run.stdout
            assert 'guide:    "' in run.stdout  # the sentence of the guide it breaks


def test_enough_mutants() -> None:
    assert sum(not m.decided for m in MUTANTS) >= 25
    assert sum(m.decided for m in MUTANTS) >= 6
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
