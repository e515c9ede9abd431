"""Where the packaged fixtures are: the checkout's `fixtures/` when running
from a checkout (or an editable install), else the copy a wheel bundles under
`mockserver/_bundled/`. (The spec is found by `dentare_spec`.)"""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_fixtures_dir"]

_PACKAGE = Path(__file__).resolve().parent


def default_fixtures_dir() -> Path:
    checkout = _PACKAGE.parent / "fixtures"
    return checkout if (checkout / "accounts.json").is_file() else _PACKAGE / "_bundled" / "fixtures"
