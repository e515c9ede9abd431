"""The API Tokens page (/__mock/tokens): create a token (shown once, copyable),
list, revoke; a revoked token is a 401 on its next request. Driven in headless
Chromium by tokens_page.spec.mjs; guarded like the rest of the control API."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mockserver import MockSettings, create_app

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("tokens_page.spec.mjs")


def test_create_use_and_revoke_a_token_in_the_browser(reset_mock: Any, require_tool: Callable[[str], str]) -> None:
    chromium = require_tool("chromium")
    node = require_tool("node")
    require_tool("playwright-core")
    root = reset_mock.root_url
    account_id = httpx.get(f"{root}/__mock/accounts").json()["data"][-1]["id"]
    before = httpx.get(f"{root}/__mock/accounts/{account_id}/tokens").json()["data"]

    run = subprocess.run(
        [node, str(SCRIPT), root, str(account_id), chromium], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])

    token = report["token"]
    assert re.fullmatch(r"[\x21-\x7e]{16,512}", token), "the page shows the whole token"
    assert report["clipboard"] == token, "Copy puts the token on the clipboard"
    assert report["rows_before"] == len(before)
    assert report["rows_after_create"] == len(before) + 1
    assert report["status_after_create"] == "Active"
    assert token.startswith(report["row_hint"].rstrip("…")) and len(report["row_hint"]) < len(token)
    assert report["me_with_new_token"]["status"] == 200
    assert report["secret_in_page_after_reload"] is False, "the token is shown once only"
    assert report["detail_name"] == report["name"]
    assert report["dialogs"] and "cannot be undone" in report["dialogs"][0]
    assert report["revoke_status"] == 200
    assert report["status_after_revoke"] == "Revoked"
    assert report["revoke_button_hidden"] is True, "a revoked token cannot be revoked (or re-enabled) again"
    assert report["me_after_revoke"] == {
        "status": 401,
        "www_authenticate": "Bearer",
        "body": {"error": "Unauthorized"},
    }
    assert report["error_shown"] is False
    assert report["failed"] == [] and report["console_errors"] == []
    assert report["foreign_requests"] == [], "the page reached beyond the mock"

    # The same from outside the browser: the control API and the API agree.
    listed = {t["id"]: t for t in httpx.get(f"{root}/__mock/accounts/{account_id}/tokens").json()["data"]}
    assert listed[report["token_id"]]["name"] == report["name"]
    assert listed[report["token_id"]]["revoked"] is True
    again = httpx.get(f"{reset_mock.base_url}/me.json", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401 and again.json() == {"error": "Unauthorized"}


def test_page_is_self_contained_and_locked_down(mock_server: Any) -> None:
    response = httpx.get(f"{mock_server.root_url}/__mock/tokens")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert not re.search(r"""(?i)\b(src|href)\s*=""", html), "the page loads no other file"
    assert not re.search(r"(?i)\b(https?:)?//[a-z0-9]", html), "an absolute URL in the page"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", policy["script-src"]), "only the page's own script runs"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_page_follows_the_control_api_rule() -> None:
    """Loopback clients, or others with the admin key; never other sites' pages."""
    app = create_app(MockSettings(admin_key="k3y"))

    async def get(client: tuple[str, int], headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.get("/__mock/tokens", headers=headers)

    def status(client: tuple[str, int], **headers: str) -> int:
        return asyncio.run(get(client, headers)).status_code

    assert status(("127.0.0.1", 5000)) == 200
    assert status(("192.0.2.7", 5000)) == 403
    assert status(("192.0.2.7", 5000), **{"X-Mock-Admin-Key": "wrong"}) == 403
    assert status(("192.0.2.7", 5000), **{"X-Mock-Admin-Key": "k3y"}) == 200
    assert status(("127.0.0.1", 5000), **{"Sec-Fetch-Site": "cross-site"}) == 403
    assert status(("127.0.0.1", 5000), **{"Sec-Fetch-Site": "same-origin"}) == 200
