"""No false alarm on what production servers add around a correct answer:
more fields in a list's `meta`, in error bodies and in the user (the guide
does not say no other field may come: the extra_fields decision point),
`charset=utf-8` in the content type, gzip, and headers the guide never
mentions. The default run passes and reports only extra_fields; --strict
fails on exactly that point.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware

from .asgi_tools import ASGIApp, Response, collect, send_response
from .conftest import ContractRun, mock_app, run_contract, serve
from .mutants import Accounts

PRODUCTION_HEADERS = {
    "x-request-id": "0f6c1d2e",
    "etag": 'W/"1"',
    "cache-control": "no-store",
    "x-ratelimit-remaining": "99",
    "strict-transport-security": "max-age=63072000",
}


class Dressed:
    """ASGI middleware: the mock's answers as a production server sends them (the
    request goes through untouched: a repeated parameter stays repeated)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = await collect(self.app, scope, receive)
        _dress(response)
        await send_response(send, response)


def _dress(response: Response) -> None:
    body = response.json()
    if isinstance(body, dict):
        if isinstance(body.get("meta"), dict):
            meta = body["meta"]
            meta["total_pages"] = -(-meta["total"] // max(meta["per_page"], 1))
            response.set_json(body)
        elif "sgid" in body:  # the user of /me.json, with a field that changes on every answer
            body["served_at"] = time.time_ns()
            response.set_json(body)
        elif isinstance(body.get("error"), str):
            body["request_id"] = PRODUCTION_HEADERS["x-request-id"]
            response.set_json(body)
    if response.headers.get("content-type") == "application/json":
        response.headers["content-type"] = "application/json; charset=utf-8"
    response.headers.update(PRODUCTION_HEADERS)


def _detail(run: ContractRun) -> str:
    return f"exit {run.code}, failed {sorted(run.failed)}\n{run.stdout[-4000:]}\n{run.stderr[-1500:]}"


def test_a_correct_target_dressed_for_production_passes(accounts: Accounts, tmp_path: Path) -> None:
    target: Any = GZipMiddleware(Dressed(mock_app()), minimum_size=0)
    with serve(target) as base_url:
        (tmp_path / "default").mkdir()
        default = run_contract(base_url, accounts, "--quick", "--seed", "4821", tmp_path=tmp_path / "default")
        (tmp_path / "strict").mkdir()
        strict = run_contract(base_url, accounts, "--strict", "--rule", "decided", tmp_path=tmp_path / "strict")

    assert default.code == 0, _detail(default)
    assert "differs from the kit's decisions: 1 of" in default.stdout, _detail(default)
    assert "  extra_fields: " in default.stdout, _detail(default)
    assert strict.code == 1 and strict.failed == {"decided.extra_fields"}, _detail(strict)
