"""Checks are plain named functions registered in one place.

    @check("default page size and meta.page", writes=True)
    def default_page_size(ctx: RunContext) -> None: ...

A guide check's name is its module's group and its function's name
(`pagination.default_page_size`); a decision probe's is `decided.<point>`.
What a check needs (another token, a revoked token, permission to write) is
given to the decorator, so no stacking order can lose it; a check whose needs
the run does not meet is skipped with the reason, never silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import RunContext
    from .transport import Exchange

__all__ = ["CHECKS", "UNREADABLE", "Check", "Observed", "check", "probe"]

NEEDS = frozenset({"other_token", "revoked_token"})
#: What reading an answer far from the contract raises inside a check (a
#: missing key, a string where an object was due).
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True)
class Observed:
    """What a probe saw at its decision point: the alternative the target takes
    (None: none of them), in words, and the answer that shows it."""

    alternative: str | None
    evidence: str
    exchange: Exchange | None = None
    #: Other alternatives this target's answers fit as well (the probe cannot
    #: tell them apart here): `alternative` is then the expected one.
    alike: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    func: Callable[[RunContext], Any]
    needs: frozenset[str] = frozenset()
    writes: bool = False
    point: str | None = None  # the decision point a probe looks at

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def is_probe(self) -> bool:
        return self.point is not None

    def observe(self, ctx: RunContext) -> Observed:
        """Run a probe. An answer it cannot read is none of the alternatives,
        said so, never a crash: no decision point can fail a default run."""
        try:
            seen = self.func(ctx)
        except UNREADABLE as exc:
            last = ctx.client.last
            return Observed(None, f"an answer it could not read ({type(exc).__name__}: {exc})", last)
        assert isinstance(seen, Observed), f"probe {self.name} returned {seen!r}"
        return seen

    def skip_reason(self, read_only: bool, tokens: Iterable[str]) -> str | None:
        if self.writes and read_only:
            return "changes data, and --read-only is set"
        for need in sorted(self.needs - set(tokens)):
            return f"needs --{need.replace('_', '-')}"
        return None


CHECKS: dict[str, Check] = {}


def _register(found: Check) -> None:
    if found.name in CHECKS:
        raise ValueError(f"check {found.name!r} is registered twice")
    CHECKS[found.name] = found


def check(summary: str, *, needs: Iterable[str] = (), writes: bool = False) -> Callable[[Any], Any]:
    """Register a guide check: `<module group>.<function name>`."""

    def register(func: Callable[[RunContext], None]) -> Callable[[RunContext], None]:
        _register(Check(f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}", summary, func, _needs(needs), writes))
        return func

    return register


def probe(point: str, *, needs: Iterable[str] = (), writes: bool = False) -> Callable[[Any], Any]:
    """Register the probe of decision point `point` (`decided.<point>`): it
    returns what it observed; the run compares that with the profile."""

    def register(func: Callable[[RunContext], Observed]) -> Callable[[RunContext], Observed]:
        _register(
            Check(
                f"decided.{point}", (func.__doc__ or point).strip().splitlines()[0], func, _needs(needs), writes, point
            )
        )
        return func

    return register


def _needs(needs: Iterable[str]) -> frozenset[str]:
    found = frozenset(needs)
    if found - NEEDS:
        raise ValueError(f"unknown needs {sorted(found - NEEDS)}; known: {sorted(NEEDS)}")
    return found
