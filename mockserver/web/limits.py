"""A limit on the size of the request head (request target and headers).

Served by `dentare-mock`, the head is counted while it arrives, by the HTTP
protocol (http_protocol.py), and refused before it is held whole. This
middleware is the same rule for any other server of the app (a test's
in-process client, uvicorn's stock protocol): it can only look once the
server has parsed everything. The answer is a 431 in the API's
`{"error": ...}` shape. The body limit lives with body reading, in
api/routing.py.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..api.responses import json_response

__all__ = ["HeadSizeLimit"]


class HeadSizeLimit:
    """Answer 431 when the request target and headers together exceed `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _head_size(scope) > self.max_bytes:
            message = (
                f"Request Header Fields Too Large: the request line and headers are limited to {self.max_bytes} bytes"
            )
            await json_response(431, {"error": message}, {"Connection": "close"})(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _head_size(scope: Scope) -> int:
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
    # Each header line is "name: value\r\n" on the wire.
    return target + sum(len(name) + len(value) + 4 for name, value in scope["headers"])
