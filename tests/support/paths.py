"""Where the repo's parts are, for tests and scripts run from a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["FIXTURES_DIR", "ROOT", "SPEC_PATH"]

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "spec" / "openapi.yaml"
FIXTURES_DIR = ROOT / "fixtures"
