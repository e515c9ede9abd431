"""One pytest test per check; `contract_check` is parametrized by the plugin."""

from __future__ import annotations

from contract_tests.context import RunContext
from contract_tests.plugin import run_check
from contract_tests.registry import Check


def test_check(contract_check: Check, contract: RunContext) -> None:
    __tracebackhide__ = True
    run_check(contract, contract_check)
