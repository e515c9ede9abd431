"""The mock's stored records besides patients (records.py): accounts, users
and tokens. Timestamps are integer epoch milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Account", "Token", "User"]


@dataclass(slots=True)
class User:
    id: int
    name: str
    email: str | None = None
    role: str = "admin"
    avatar_url: str | None = None


@dataclass(slots=True)
class Token:
    id: int
    account_id: int
    user_id: int
    name: str
    token_sha256: str
    created_at: int
    revoked: bool = False
    hint: str = ""  # the token's first characters, to tell tokens apart in lists


@dataclass(slots=True)
class Account:
    id: int
    name: str
    country: str | None = None
    users: dict[int, User] = field(default_factory=dict)
