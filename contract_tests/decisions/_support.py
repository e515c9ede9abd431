"""Small helpers the probes share."""

from __future__ import annotations

from typing import Any

from .._types import JsonObject
from ..context import RunContext
from ..registry import Observed
from ..transport import Exchange

__all__ = ["data_of", "errors_of", "is_error", "none_of", "saw"]


def saw(alternative: str, evidence: str, exchange: Exchange | None = None) -> Observed:
    return Observed(alternative, evidence, exchange)


def none_of(evidence: str, exchange: Exchange | None = None) -> Observed:
    return Observed(None, evidence, exchange)


def errors_of(exchange: Exchange) -> dict[str, Any]:
    body = exchange.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, dict) else {}


def is_error(exchange: Exchange, status: int, field: str | None = None) -> bool:
    """`status` with an `{"error": ...}` body (naming `field` in `errors` when given)."""
    body = exchange.json()
    if exchange.status != status or not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return False
    return field is None or field in errors_of(exchange)


def data_of(exchange: Exchange) -> JsonObject:
    body = exchange.json()
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def listed_ids(ctx: RunContext, exchange: Exchange) -> list[int]:
    data, _ = ctx.expect.listing(exchange)
    return [item["id"] for item in data]
