"""Each package's `__all__` names exactly what it exports (httpx's test of the same name)."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["mockserver", "contract_tests"])
def test_all_is_complete_and_real(package: str) -> None:
    module = importlib.import_module(package)
    exported = set(module.__all__)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert exported == public, f"missing from __all__: {public - exported}; not defined: {exported - public}"
