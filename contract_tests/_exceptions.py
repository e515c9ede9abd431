"""The one exception tree of the contract suite.

    ContractError                  root: anything this package raises on purpose
    ├── UsageError                 bad options or spec; the CLI exits 2
    ├── TargetUnreachable          the base URL does not answer; the CLI exits 2
    ├── BudgetExceeded             the request budget (--max-requests) is spent
    └── RuleFailure                a rule does not hold (also an AssertionError); exit 1

A `RuleFailure` carries the rule name, what was expected, what came back and
the request (as a masked curl line), so the console table, pytest and JUnit
all print the same actionable text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Exchange

__all__ = ["BudgetExceeded", "ContractError", "RuleFailure", "TargetUnreachable", "UsageError"]


class ContractError(Exception):
    """Root of every error the contract suite raises on purpose."""

    exit_code = 2


class UsageError(ContractError):
    """Wrong options, missing spec, or anything the user must fix before a run."""


class TargetUnreachable(ContractError):
    """The deployment under test did not answer (connection refused, DNS, timeout)."""


class BudgetExceeded(ContractError):
    """The run used up its request budget; raise `--max-requests` or narrow the run."""


class RuleFailure(ContractError, AssertionError):
    """A rule of the contract does not hold on the target."""

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
        lines = [f"rule:     {self.rule}", f"expected: {self.expected}", f"actual:   {self.actual}"]
        if self.detail:
            lines.append(f"detail:   {self.detail}")
        if self.exchange is not None:
            lines.append(f"request:  {self.exchange.as_curl()}")
            lines.append(f"response: {self.exchange.describe_response()}")
        return "\n".join(lines)
