"""Expectations: each failed one raises a RuleFailure naming the check that
is running, with what was expected, what came back and the request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._exceptions import RuleFailure
from ._types import Json, JsonObject
from .transport import Client, Exchange

__all__ = ["Expect"]


class Expect:
    def __init__(self, client: Client, current_check: Callable[[], str]) -> None:
        self._client = client
        self._check = current_check

    def fail(self, expected: str, actual: Any, exchange: Exchange | None = None, detail: str = "") -> RuleFailure:
        return RuleFailure(
            self._check(),
            expected,
            actual if isinstance(actual, str) else repr(actual),
            exchange if exchange is not None else self._client.last,
            detail=detail,
        )

    def that(
        self, condition: bool, expected: str, actual: Any, exchange: Exchange | None = None, detail: str = ""
    ) -> None:
        if not condition:
            raise self.fail(expected, actual, exchange, detail)

    def status(self, exchange: Exchange, *statuses: int, what: str = "") -> Json:
        if exchange.status not in statuses:
            wanted = " or ".join(str(s) for s in statuses)
            raise self.fail(f"{wanted}{' ' + what if what else ''}", exchange.describe_response(), exchange)
        return exchange.json()

    def error_body(self, exchange: Exchange, what: str) -> JsonObject:
        """The guide's error shape: "`error` is always a human-readable string"."""
        body = exchange.json()
        ok = isinstance(body, dict) and isinstance(body.get("error"), str) and bool(body["error"].strip())
        self.that(
            ok, f'an {{"error": "<human-readable string>"}} body for {what}', exchange.describe_response(), exchange
        )
        assert isinstance(body, dict)
        return body

    def listing(self, exchange: Exchange) -> tuple[list[JsonObject], JsonObject]:
        body = self.status(exchange, 200, what="with a page of patients")
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("data"), list)
            or not isinstance(body.get("meta"), dict)
        ):
            raise self.fail("a {data: [...], meta: {...}} body", exchange.describe_response(), exchange)
        meta = body["meta"]
        if not all(
            isinstance(meta.get(k), int) and not isinstance(meta.get(k), bool) for k in ("page", "per_page", "total")
        ):
            raise self.fail("integer meta.page, meta.per_page and meta.total", repr(meta), exchange)
        if not all(isinstance(item, dict) and isinstance(item.get("id"), int) for item in body["data"]):
            raise self.fail("every listed patient an object with an integer id", exchange.describe_response(), exchange)
        return body["data"], meta

    def patient(self, exchange: Exchange, status: int = 200) -> JsonObject:
        body = self.status(exchange, status, what="with a patient")
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("data"), dict)
            or not isinstance(body["data"].get("id"), int)
        ):
            raise self.fail("a {data: {id: ..., ...}} body", exchange.describe_response(), exchange)
        return dict(body["data"])
