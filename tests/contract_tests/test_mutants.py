"""Proof that the suite catches defects: each mutant of the mock breaks one
rule, and the run against it fails, naming that rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .asgi_tools import Mutant
from .conftest import ContractRun, mock_app, serve
from .mutants import MUTANTS, Accounts, MutantSpec


@pytest.mark.parametrize("spec", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(spec: MutantSpec, accounts: Accounts, contract: Callable[..., ContractRun]) -> None:
    app = Mutant(mock_app(), spec.make(accounts))
    with serve(app) as base_url:
        run = contract(base_url, accounts, "--quick", "--seed", "4821", "--rule", spec.group)
    assert run.code == 1, f"{spec.name}: exit {run.code}\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    assert spec.rule in run.failed, (
        f"{spec.name} should fail {spec.rule}; failed {sorted(run.failed)}\n{run.stdout[-3000:]}"
    )
    # The failure names the rule, in the console table and in the JUnit XML.
    assert f"  {spec.rule} " in run.stdout
    assert all(rule.startswith(spec.group + ".") for rule in run.failed)


def test_enough_mutants() -> None:
    assert len(MUTANTS) >= 15
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
