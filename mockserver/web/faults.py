"""Fault and latency injection, for testing a client's retry logic.

Off unless asked for (`--faults`, `--fault-rate`, `--latency-ms`); a plain
mock never misbehaves, whatever headers a request carries. When on, faults
are injected per request with headers, or at random with a fixed seed:

    X-Mock-Fault: 429 | 500 | 502 | 503 | 504 | drop
    X-Mock-Latency-Ms: 200          (added before the answer; at most 60000)
    X-Mock-Retry-After: 5           (seconds, for 429 and 503)

Who answers decides the body. 429, 502, 503 and 504 come from the platform
edge in front of the API (the spec: "a 429 can come from the platform edge,
with a Retry-After header"), so they are the short HTML pages an edge proxy
writes, not the API's JSON: a retry layer must decide on the status and
`Retry-After`, never by parsing the body. 500 is the API failing, so it has
the API's `{"error": ...}` shape. `drop` closes the connection without an
answer. Faults and latency apply to the API only, never to /__mock.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import FAULT_KINDS, MAX_LATENCY_MS, FaultSettings

__all__ = ["DroppedConnection", "FaultInjector"]

logger = logging.getLogger("mockserver.faults")

_FAULT_HEADER = b"x-mock-fault"
_LATENCY_HEADER = b"x-mock-latency-ms"
_RETRY_AFTER_HEADER = b"x-mock-retry-after"

_EDGE_REASONS = {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class FaultInjector:
    """ASGI middleware; wrap the whole app with it so that `drop` can reach the
    server's connection (see `_drop`)."""

    def __init__(self, app: ASGIApp, settings: FaultSettings, *, api_prefix: str):
        self.app = app
        self.settings = settings
        self.api_prefix = api_prefix.rstrip("/")
        self._random = random.Random(settings.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            fault, latency_ms, retry_after, source = self._plan(scope)
        except ValueError as exc:
            await _send_text(send, 400, "application/json", orjson.dumps({"error": str(exc)}), [])
            return
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if fault is None:
            await self.app(scope, receive, send)
            return
        logger.warning("fault injected (%s): %s on %s %s", source, fault, scope["method"], scope["path"])
        if fault == "drop":
            await _drop(receive, send)
        elif fault == "500":
            await _send_text(send, 500, "application/json", b'{"error":"Internal Server Error"}', [])
        else:
            await _edge_page(send, int(fault), retry_after)

    def _is_api(self, path: str) -> bool:
        return not self.api_prefix or path == self.api_prefix or path.startswith(self.api_prefix + "/")

    def _plan(self, scope: Scope) -> tuple[str | None, int, int, str]:
        headers = _headers(scope["headers"])
        latency_ms = self.settings.latency_ms
        retry_after = self.settings.retry_after
        if _LATENCY_HEADER in headers:
            latency_ms = _bounded_int(headers[_LATENCY_HEADER], "X-Mock-Latency-Ms", MAX_LATENCY_MS)
        if _RETRY_AFTER_HEADER in headers:
            retry_after = _bounded_int(headers[_RETRY_AFTER_HEADER], "X-Mock-Retry-After", 86_400)
        if _FAULT_HEADER in headers:
            kind = headers[_FAULT_HEADER].strip().lower()
            if kind not in FAULT_KINDS:
                raise ValueError(f"X-Mock-Fault: unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
            return kind, latency_ms, retry_after, "header"
        # One draw per API request, so a seed replays the same sequence.
        if self.settings.rate and self._random.random() < self.settings.rate:
            return self._random.choice(self.settings.kinds), latency_ms, retry_after, "random"
        return None, latency_ms, retry_after, ""


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    wanted = (_FAULT_HEADER, _LATENCY_HEADER, _RETRY_AFTER_HEADER)
    return {name.lower(): value.decode("latin-1") for name, value in raw if name.lower() in wanted}


def _bounded_int(text: str, header: str, maximum: int) -> int:
    text = text.strip()
    # The length first: int() refuses more than 4300 digits, and a long value is not echoed whole.
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) > maximum:
        shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
        raise ValueError(f"{header}: expected a whole number from 0 to {maximum}, got {shown!r}")
    return int(text)


async def _edge_page(send: Send, status: int, retry_after: int) -> None:
    """What an nginx-style edge writes: a short HTML page and, when it expects
    the service back, `Retry-After`."""
    title = f"{status} {_EDGE_REASONS[status]}"
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    body += "<hr><center>dentare-edge</center>\r\n</body>\r\n</html>\r\n"
    extra = [(b"retry-after", str(retry_after).encode())] if status in (429, 503) else []
    await _send_text(send, status, "text/html", body.encode(), extra)


async def _send_text(send: Send, status: int, media_type: str, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    charset = "; charset=utf-8" if media_type.startswith("text/") else ""
    headers = [
        (b"content-type", f"{media_type}{charset}".encode()),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DroppedConnection(ConnectionAbortedError):
    """Raised where the server's connection cannot be reached (not uvicorn, or
    a test client): the request then fails in the client as a dropped one would."""


async def _drop(receive: Receive, send: Send) -> None:
    """Close the connection without an answer. ASGI has no message for that,
    so reach uvicorn's transport through its `send` (a bound method of the
    request cycle, when this middleware wraps the whole app) and abort it;
    then wait for the disconnect, so uvicorn neither answers 500 nor logs an
    error. Elsewhere, raise: the server then fails the request as it can."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise DroppedConnection("X-Mock-Fault: drop")
    transport.abort()
    message: Message = {"type": ""}
    while message["type"] != "http.disconnect":
        message = await receive()
