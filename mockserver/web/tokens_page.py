"""The API Tokens page at /__mock/tokens, like the dashboard page the guide
describes: per account, create a named token (shown once, with a copy
button), list tokens, open one and revoke it.

One self-contained HTML file (tokens_page.html) whose inline script calls
the control API beside it; it loads nothing else. Its Content-Security-Policy
allows exactly that inline script and style (by hash) and requests to its own
origin, so the page cannot load or send anything elsewhere. It is a control
route: the control API's loopback / admin-key rule guards it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

__all__ = ["tokens_page"]

_PAGE = Path(__file__).with_name("tokens_page.html")


@lru_cache(maxsize=1)
def _page() -> tuple[bytes, str]:
    html = _PAGE.read_text(encoding="utf-8")
    hashes = {
        tag: [_sha256(body) for body in re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)]
        for tag in ("script", "style")
    }
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(hashes["script"]),
            "style-src " + " ".join(hashes["style"]),
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return html.encode("utf-8"), policy


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


async def tokens_page(request: Request) -> Response:
    html, policy = _page()
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": policy,
            "X-Frame-Options": "DENY",  # revoking is a click: no framing, no clickjacking
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",  # the page is cheap, and a stale one would call an old API
        },
    )
