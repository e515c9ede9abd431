"""The run's report, printed after pytest's: a header (target, run, seed,
profile, mode), the checks of the guide, the decision points where the target
differs from the profile, the skipped checks, then each failure in full with
a curl line to paste."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._exceptions import RuleFailure
from .context import RunContext
from .provenance import load_table
from .registry import Check

__all__ = ["Outcome", "write_report"]


@dataclass
class Outcome:
    check: Check
    status: str  # pass / FAIL / deviates / skipped / error
    reason: str = ""
    failure: RuleFailure | None = None
    seconds: float = 0.0


def write_report(
    terminal: Any,
    ctx: RunContext,
    outcomes: dict[str, Outcome],
    elapsed: float,
    cleanup_problems: list[str],
    *,
    details: bool,
) -> None:
    write = terminal.write_line
    terminal.section("dentare contract")
    config = ctx.config
    profile = config.profile or "the kit's decisions"
    write(f"target  {ctx.base_url}" + (f"  ({ctx.base_note})" if ctx.base_note else ""))
    write(
        f"run     {config.run_id}   seed {config.seed}   {ctx.client.count} requests   "
        f"{ctx.client.retries} retries of edge answers   {elapsed:.1f} s"
    )
    write(
        f"mode    {'strict' if config.strict else 'default'}: guide checks decide the exit; decision points "
        f"compared with {profile}" + (" (a difference fails)" if config.strict else " (reported, exit 0)")
    )
    write("replay  add --seed " + str(config.seed))
    table = load_table()
    guide = [o for o in outcomes.values() if not o.check.is_probe]
    decided = [o for o in outcomes.values() if o.check.is_probe]
    width = max(len(name) for name in outcomes) + 2
    if guide:
        write("")
        write("the guide's checks")
        for outcome in guide:
            _row(write, outcome, width)
    deviations = [o for o in decided if o.status in ("deviates", "FAIL")]
    if decided:
        write("")
        title = "differs from the profile" if config.profile else "differs from the kit's decisions"
        write(f"{title}: {len(deviations)} of {len(decided)} decision points")
        for outcome in deviations:
            point = ctx.facts.decided.catalogue.point(outcome.check.point or "")
            expected = ctx.expected(point.name)
            failure = outcome.failure
            observed = getattr(failure, "observed", None)
            write(f"  {point.name}: {point.summary}", red=outcome.status == "FAIL", yellow=outcome.status != "FAIL")
            write(f"    decided  {expected}: {_first_line(point.alternatives[expected].description)}")
            write(
                f"    target   {observed or 'none of the alternatives'}"
                + (f": {_first_line(point.alternatives[observed].description)}" if observed else "")
                + (f" ({failure.detail})" if failure is not None and failure.detail else "")
            )
        others = [o for o in decided if o.status not in ("deviates", "FAIL", "pass")]
        for outcome in others:
            _row(write, outcome, width)
    counts = {
        s: sum(o.status == s for o in outcomes.values()) for s in ("pass", "FAIL", "deviates", "skipped", "error")
    }
    write("")
    write(
        f"{counts['pass']} passed, {counts['FAIL']} failed, {counts['deviates']} differ from the decisions, "
        f"{counts['skipped']} skipped, {counts['error']} could not run"
    )
    failures = [o.failure for o in outcomes.values() if o.failure is not None and o.status == "FAIL"]
    if failures and details:
        for failure in failures:
            write("")
            quotes = table.quotes(failure.rule)
            for line in str(failure).splitlines():
                write(f"  {line}")
            for quote in quotes[:2]:
                write(f'  guide:    "{quote}"')
    for problem in cleanup_problems:
        write(f"cleanup: {problem}", yellow=True)


def _row(write: Any, outcome: Outcome, width: int) -> None:
    line = f"  {outcome.check.name:<{width}}{outcome.status:<9}"
    if outcome.reason:
        line += _shorten(outcome.reason, 110)
    write(
        line,
        red=outcome.status in ("FAIL", "error"),
        green=outcome.status == "pass",
        yellow=outcome.status in ("skipped", "deviates"),
    )


def _first_line(text: str) -> str:
    return " ".join(text.split())[:140]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
