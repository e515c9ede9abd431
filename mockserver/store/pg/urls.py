"""Which `--store` values name a PostgreSQL database, and how to show one
without its password. Apart from backend.py so that choosing a backend does
not import the driver."""

from __future__ import annotations

__all__ = ["is_postgres_url", "redacted"]

_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(store: str) -> bool:
    return store.startswith(_SCHEMES)


def redacted(dsn: str) -> str:
    """The DSN without its password, for logs and messages."""
    scheme, sep, rest = dsn.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return dsn
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
