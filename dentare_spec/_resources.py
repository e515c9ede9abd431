"""Where the spec is: the checkout's `spec/` when running from a checkout (or
an editable install), else the copy a wheel bundles beside this package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_spec_path", "spec_dir"]

_PACKAGE = Path(__file__).resolve().parent


def spec_dir() -> Path:
    checkout = _PACKAGE.parent / "spec"
    return checkout if (checkout / "openapi.yaml").is_file() else _PACKAGE / "_bundled" / "spec"


def default_spec_path() -> Path:
    return spec_dir() / "openapi.yaml"
