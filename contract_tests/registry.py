"""Rules are small named functions registered in one place.

    @rule("pagination.default_page_size", "default page size and meta.page")
    def default_page_size(ctx: RunContext) -> None: ...

Preconditions stack as decorators (`@needs_other_token`, `@writes`); a rule
whose precondition is not met is skipped with the reason, never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import RunContext

__all__ = ["RULES", "Rule", "RuleFunc", "needs", "rule", "select_rules", "writes"]

RuleFunc = Callable[["RunContext"], None]


@dataclass
class Rule:
    name: str
    summary: str
    func: RuleFunc
    needs: set[str] = field(default_factory=set)  # "other_token", "revoked_token", "writes"

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    def skip_reason(self, ctx: RunContext) -> str | None:
        if "writes" in self.needs and ctx.config.read_only:
            return "changes data, and --read-only is set"
        if "other_token" in self.needs and not ctx.config.other_token:
            return "needs --other-token"
        if "revoked_token" in self.needs and not ctx.config.revoked_token:
            return "needs --revoked-token"
        return None


RULES: dict[str, Rule] = {}


def rule(name: str, summary: str) -> Callable[[RuleFunc], RuleFunc]:
    def register(func: RuleFunc) -> RuleFunc:
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = Rule(name, summary, func, set(getattr(func, "_needs", set())))
        return func

    return register


def needs(*what: str) -> Callable[[RuleFunc], RuleFunc]:
    """Precondition: the rule needs these (applied below `@rule`)."""

    def mark(func: RuleFunc) -> RuleFunc:
        func._needs = set(getattr(func, "_needs", set())) | set(what)  # type: ignore[attr-defined]
        return func

    return mark


writes = needs("writes")


def select_rules(patterns: list[str] | None) -> list[Rule]:
    """Rules matching any glob in `patterns` (all when none), in registration order."""
    from . import rules as _  # noqa: F401  (registers every rule)

    selected = [r for r in RULES.values() if not patterns or any(fnmatch(r.name, p) or r.group == p for p in patterns)]
    return selected
