"""One pytest test per contract rule; `contract_rule` is parametrized by the plugin."""

from __future__ import annotations

from contract_tests.context import RunContext
from contract_tests.plugin import run_rule
from contract_tests.registry import Rule


def test_rule(contract_rule: Rule, contract: RunContext) -> None:
    __tracebackhide__ = True
    run_rule(contract, contract_rule)
