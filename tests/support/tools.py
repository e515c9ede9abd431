"""External tools and optional packages a test needs: skipped without them,
except in CI (DENTARE_REQUIRE_TOOLS=1), where a missing install step must fail."""

from __future__ import annotations

import importlib
import os
import shutil
from typing import Any, NoReturn

import pytest

from .paths import ROOT

__all__ = ["missing_tool", "require", "require_module"]


def missing_tool(message: str) -> NoReturn:
    """A test cannot run without something not installed: skipped, or failed in CI
    (DENTARE_REQUIRE_TOOLS=1), where a missing install step must not hide."""
    if os.environ.get("DENTARE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require(name: str, hint: str = "bash .ci/run installs it") -> str:
    """The path of an external tool (see `missing_tool`)."""
    found = shutil.which(name) or _local_node_tool(name)
    if found:
        return found
    missing_tool(f"{name} is not installed ({hint})")


def require_module(name: str, hint: str) -> Any:
    """An optional Python package, imported (see `missing_tool`)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing_tool(f"the Python package {name} is not installed ({hint})")


def _local_node_tool(name: str) -> str | None:
    candidate = ROOT / "node_modules" / ".bin" / name
    return str(candidate) if candidate.exists() else None
