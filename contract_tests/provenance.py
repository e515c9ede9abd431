"""Where each check comes from: spec/guide-rules.yaml, the traceability table.

Every statement of the guide the suite can check is listed there with the
spec element that encodes it; every check is listed with what it enforces
(guide statements, quoted in reports) or the decision point it probes, and
the scope it covers. tests/contract_tests/test_traceability.py keeps the
table and the registry in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dentare_spec import spec_dir

from ._exceptions import UsageError

__all__ = ["CheckEntry", "Statement", "Table", "load_table"]


@dataclass(frozen=True)
class Statement:
    id: str
    guide: str  # the guide's sentence, quoted
    spec: tuple[str, ...]  # JSON pointers of the spec elements that encode it
    untestable: str = ""  # why no check can see it on a target (a dashboard page, "never expire")


@dataclass(frozen=True)
class CheckEntry:
    name: str
    scope: str
    enforces: tuple[str, ...] = ()  # statement ids (a guide check)
    decided: str | None = None  # decision point (a probe)

    @property
    def provenance(self) -> str:
        return "decided" if self.decided else "guide"


@dataclass(frozen=True)
class Table:
    statements: Mapping[str, Statement]
    checks: Mapping[str, CheckEntry]

    def quotes(self, check: str) -> list[str]:
        entry = self.checks.get(check)
        return [self.statements[s].guide for s in entry.enforces if s in self.statements] if entry else []


@cache
def load_table(path: Path | None = None) -> Table:
    source = path or spec_dir() / "guide-rules.yaml"
    try:
        raw: Any = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read the traceability table {source}: {exc}") from None
    statements = {
        sid: Statement(sid, str(body["guide"]).strip(), tuple(body.get("spec") or ()), str(body.get("untestable", "")))
        for sid, body in (raw.get("statements") or {}).items()
    }
    checks = {
        name: CheckEntry(
            name, str(body.get("scope", "")).strip(), tuple(body.get("enforces") or ()), body.get("decided")
        )
        for name, body in (raw.get("checks") or {}).items()
    }
    return Table(statements, checks)
