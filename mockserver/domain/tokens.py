"""API tokens at rest: only their SHA-256 is kept, and new ones are random."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["hash_token", "new_token"]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "dnt_" + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")[:40]
