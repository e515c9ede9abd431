"""The whole suite: every guide check and decision probe, registered by
importing their packages, and the selection a run makes of them."""

from __future__ import annotations

from fnmatch import fnmatch

from . import checks as _guide  # noqa: F401  (registers the guide checks)
from . import decisions as _decided  # noqa: F401  (registers the probes)
from .registry import CHECKS, Check

__all__ = ["select_checks"]


def select_checks(patterns: list[str] | None) -> list[Check]:
    """Checks matching any glob or group in `patterns` (all when none), in registration order."""
    return [c for c in CHECKS.values() if not patterns or any(fnmatch(c.name, p) or c.group == p for p in patterns)]
