"""`dentare-contract calibrate`: which alternative a target takes at each
decision point, written as a profile `dentare-mock --profile` answers by and
`dentare-contract --profile` checks against.

Every probe runs (GETs where they can; writes tagged and archived as in a
run); with `--read-only` the probes that must write are skipped and say so.
A point the target decides in none of the spec's ways keeps the kit's choice
in the profile, with the reason beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .context import RunContext, preflight
from .examples import example_database
from .registry import Observed
from .suite import select_checks

__all__ = ["ALIKE", "Calibration", "calibrate"]

#: Said of the alternatives a target's answers fit as well as the one shown.
ALIKE = "would answer alike here"


@dataclass
class Calibration:
    found: dict[str, Observed]
    skipped: dict[str, str]  # point -> why it was not probed

    def choices(self) -> dict[str, str]:
        return {point: seen.alternative for point, seen in self.found.items() if seen.alternative is not None}


def calibrate(ctx: RunContext) -> Calibration:
    ctx.cache["example_db"] = example_database(ctx.config.example_db)
    preflight(ctx)
    result = Calibration({}, {})
    for probe in select_checks(["decided"]):
        assert probe.point is not None
        reason = probe.skip_reason(ctx.config.read_only, ctx.tokens)
        if reason:
            result.skipped[probe.point] = reason
            continue
        ctx.current = probe.name
        result.found[probe.point] = probe.observe(ctx)
    return result


def write_profile(ctx: RunContext, result: Calibration, path: Path) -> None:
    profile = ctx.facts.decided.catalogue.profile(result.choices(), "calibration")
    lines = [
        f"dentare-contract calibrate --base-url {ctx.base_url} ({time.strftime('%Y-%m-%d %H:%M')})",
        "Each point: the alternative the target was seen to take; where none was seen, the kit's choice.",
    ]
    for point, seen in result.found.items():
        if seen.alike:
            lines.append(f"{point}: {', '.join(sorted(seen.alike))} {ALIKE}; kept {profile[point]}")
        if seen.alternative is None:
            lines.append(f"{point}: none of the alternatives ({seen.evidence}); kept {profile[point]}")
    for point, reason in result.skipped.items():
        lines.append(f"{point}: not probed ({reason}); kept {profile[point]}")
    path.write_text(profile.dump("\n".join(lines)), encoding="utf-8")
