"""The one exception tree of the contract suite.

    ContractError                  root: anything this package raises on purpose
    ├── UsageError                 bad options, spec or profile; the CLI exits 2
    ├── TargetUnreachable          the base URL does not answer usably; the CLI exits 2
    │   └── EdgeUnavailable        only edge answers (429/502/503/504) came back, retries spent
    ├── BudgetExceeded             the request budget (--max-requests) is spent
    └── RuleFailure                a guide check does not hold (also an AssertionError); exit 1
        └── Deviation              the target takes another choice than the profile at a
                                   decision point: reported, a failure only with --strict

A `RuleFailure` carries the check's name, what was expected, what came back
and the request (as a masked curl line), so the console table, pytest and
JUnit all print the same actionable text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .transport import Exchange

__all__ = [
    "BudgetExceeded",
    "ContractError",
    "Deviation",
    "EdgeUnavailable",
    "RuleFailure",
    "TargetUnreachable",
    "UsageError",
]


class ContractError(Exception):
    """Root of every error the contract suite raises on purpose."""

    exit_code = 2


class UsageError(ContractError):
    """Wrong options, missing spec, or anything the user must fix before a run."""


class TargetUnreachable(ContractError):
    """The deployment under test did not answer usably (refused, timed out, not the API)."""


class EdgeUnavailable(TargetUnreachable):
    """Every try got an edge answer (429, 502, 503, 504); nothing from the API itself to judge."""


class BudgetExceeded(ContractError):
    """The run used up its request budget; raise `--max-requests` or narrow the run."""


class RuleFailure(ContractError, AssertionError):
    """A check of the contract does not hold on the target."""

    exit_code = 1

    def __init__(
        self,
        rule: str,
        expected: str,
        actual: str,
        exchange: Exchange | None = None,
        *,
        detail: str = "",
    ) -> None:
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.exchange = exchange
        self.detail = detail
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        return f"{self.rule}: expected {self.expected}; got {self.actual}"

    @property
    def curl(self) -> str | None:
        return self.exchange.as_curl() if self.exchange is not None else None

    def __str__(self) -> str:
        lines = [f"check:    {self.rule}", f"expected: {self.expected}", f"actual:   {self.actual}"]
        if self.detail:
            lines.append(f"detail:   {self.detail}")
        if self.exchange is not None:
            lines.append(f"request:  {self.exchange.as_curl()}")
            lines.append(f"response: {self.exchange.describe_response()}")
        return "\n".join(lines)


class Deviation(RuleFailure):
    """At decision point `point`, the profile expects `expected` and the target
    does `observed` (an alternative's name, or None: none of them)."""

    def __init__(
        self,
        rule: str,
        point: str,
        expected: str,
        observed: str | None,
        evidence: str,
        exchange: Exchange | None = None,
    ) -> None:
        self.point = point
        self.observed = observed
        shown = observed if observed is not None else f"none of the alternatives ({evidence})"
        super().__init__(rule, f"`{expected}` at {point}", shown, exchange, detail=evidence)
