"""CORS for the API only (`--cors-origin`), never for the control API or the docs.

Starlette's CORSMiddleware, applied to requests under the API's base path;
everything else passes by it untouched. A page of an allowed origin may then
call the API, but a preflight for `/__mock/...` still gets no CORS answer,
so no browser page of another origin can change the mock's state
(web/control_guard.py relies on that).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ApiCORS"]


class ApiCORS:
    def __init__(self, app: ASGIApp, *, api_prefix: str, allow_origins: Sequence[str]):
        self.app = app
        self.prefix = api_prefix.rstrip("/")
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(allow_origins),
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else None
        if path is not None and (not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
