"""The fixture tokens by account, read from fixtures/accounts.json."""

from __future__ import annotations

import json
from dataclasses import dataclass

from mockserver import Principal
from mockserver.domain.models import User

from .paths import FIXTURES_DIR

__all__ = ["AccountTokens", "acting_as", "load_tokens"]


def acting_as(account_id: int) -> Principal:
    """A principal of the account, for a test that calls a backend's data methods itself."""
    return Principal(account_id=account_id, user=User(1, "Test"), token_id=0)


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
