"""Contract tests: check any deployment of the Dentare Patients API against the spec.

Run it as `dentare-contract --base-url URL --token T ...` or as
`pytest contract_tests --base-url URL --token T ...`; `dentare-contract
calibrate` writes the profile of decisions a target takes.

Layers, lower never importing upper: facts (the spec, through dentare_spec)
and transport -> config, expect, tracking -> api -> context -> registry ->
checks, decisions -> plugin, calibrate -> cli. Nothing here imports `mockserver`.
"""

from __future__ import annotations

from ._exceptions import (
    BudgetExceeded,
    ContractError,
    Deviation,
    EdgeUnavailable,
    RuleFailure,
    TargetUnreachable,
    UsageError,
)
from .config import RunConfig
from .context import RunContext, preflight
from .facts import SpecFacts, load_facts
from .registry import CHECKS, Check, Observed, check, probe
from .suite import select_checks
from .transport import Client, Exchange, mask

__all__ = [
    "CHECKS",
    "BudgetExceeded",
    "Check",
    "Client",
    "ContractError",
    "Deviation",
    "EdgeUnavailable",
    "Exchange",
    "Observed",
    "RuleFailure",
    "RunConfig",
    "RunContext",
    "SpecFacts",
    "TargetUnreachable",
    "UsageError",
    "check",
    "load_facts",
    "mask",
    "preflight",
    "probe",
    "select_checks",
]
