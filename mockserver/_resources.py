"""Where the packaged spec and fixtures are: the checkout's top-level folders
when running from a checkout (or an editable install), else the copies a wheel
bundles under `mockserver/_bundled/`."""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_fixtures_dir", "default_spec_path"]

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def default_spec_path() -> Path:
    checkout = _CHECKOUT / "spec" / "openapi.yaml"
    return checkout if checkout.is_file() else _PACKAGE / "_bundled" / "openapi.yaml"


def default_fixtures_dir() -> Path:
    checkout = _CHECKOUT / "fixtures"
    return checkout if (checkout / "accounts.json").is_file() else _PACKAGE / "_bundled" / "fixtures"
