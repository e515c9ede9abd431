"""Contract tests: check any deployment of the Dentare Patients API against the spec.

Run it as `dentare-contract --base-url URL --token T ...` or as
`pytest contract_tests --base-url URL --token T ...`.

Layers, lower never importing upper: spec -> client -> context -> registry
-> rules -> plugin -> cli. Nothing here imports `mockserver`.
"""

from __future__ import annotations

from ._exceptions import BudgetExceeded, ContractError, RuleFailure, TargetUnreachable, UsageError
from .client import Client, Exchange, mask
from .context import RunConfig, RunContext, preflight
from .registry import RULES, Rule, needs, rule, select_rules, writes
from .spec import SpecFacts, default_spec_path, load_spec

__all__ = [
    "RULES",
    "BudgetExceeded",
    "Client",
    "ContractError",
    "Exchange",
    "Rule",
    "RuleFailure",
    "RunConfig",
    "RunContext",
    "SpecFacts",
    "TargetUnreachable",
    "UsageError",
    "default_spec_path",
    "load_spec",
    "mask",
    "needs",
    "preflight",
    "rule",
    "select_rules",
    "writes",
]
