"""Registers the contract plugin for `pytest contract_tests --base-url ...`.

When the `pytest11` entry point already loaded it, nothing happens here.
"""

from __future__ import annotations

import pytest

from contract_tests import plugin as _plugin


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.is_registered(_plugin):
        pluginmanager.register(_plugin, "dentare_contract")
