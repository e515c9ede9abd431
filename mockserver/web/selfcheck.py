"""`--check-responses`: the mock checks its own answers against the spec.

Every API response is validated with openapi-core (exchange_check.py, an
implementation independent of the mock's jsonschema-rs hot path) and each
violation is logged as `spec self-check: ...`. For whoever edits the spec or
the handlers, and for the kit's tests, which run every spawned mock with it and
fail on any such line.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dentare_spec import ApiSpec

from .exchange_check import ExchangeChecker, Violation

__all__ = ["SELF_CHECK_PREFIX", "ResponseSelfCheck"]

SELF_CHECK_PREFIX = "spec self-check:"
logger = logging.getLogger("mockserver")


class ResponseSelfCheck:
    """ASGI middleware: validate each answer under `api_prefix` after it is sent."""

    def __init__(self, app: ASGIApp, spec: ApiSpec, api_prefix: str):
        self.app = app
        self.checker = ExchangeChecker(spec)
        self.api_prefix = api_prefix
        self.violations = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.api_prefix):
            await self.app(scope, receive, send)
            return
        request_body: list[bytes] = []
        response: dict[str, Any] = {"status": 0, "headers": [], "body": []}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]]
            elif message["type"] == "http.response.body":
                response["body"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, recording_receive, recording_send)
        if not response["status"]:
            return  # the connection was dropped on purpose (fault injection)
        try:
            violations = self._violations(scope, b"".join(request_body), response)
        except Exception as exc:  # openapi-core choking on a hostile request must not break the answer
            logger.warning("spec self-check skipped %s %s: %s", scope["method"], scope["path"], exc)
            return
        for violation in violations:
            self.violations += 1
            logger.error("%s %s", SELF_CHECK_PREFIX, violation)

    def _violations(self, scope: Scope, request_body: bytes, response: dict[str, Any]) -> list[Violation]:
        violations, _ = self.checker.check(
            scope["method"],
            scope["path"],
            scope["query_string"].decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            request_body,
            int(response["status"]),
            response["headers"],
            b"".join(response["body"]),
        )
        return [v for v in violations if v.side == "response"]  # requests may be wrong on purpose
