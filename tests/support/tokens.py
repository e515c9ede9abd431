"""The fixture tokens by account, read from fixtures/accounts.json."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .paths import FIXTURES_DIR

__all__ = ["AccountTokens", "load_tokens"]


@dataclass(frozen=True)
class AccountTokens:
    account_id: int
    live: tuple[str, ...]
    revoked: tuple[str, ...]

    @property
    def token(self) -> str:
        return self.live[0]


def load_tokens() -> dict[int, AccountTokens]:
    accounts = json.loads((FIXTURES_DIR / "accounts.json").read_text(encoding="utf-8"))["accounts"]
    return {
        a["id"]: AccountTokens(
            account_id=a["id"],
            live=tuple(t["token"] for t in a["tokens"] if not t["revoked"]),
            revoked=tuple(t["token"] for t in a["tokens"] if t["revoked"]),
        )
        for a in accounts
    }
