"""`--check-responses` flags an answer that breaks the spec (and only such)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver import HANDLERS, MockSettings, create_app
from mockserver.api.handlers import Reply, RequestContext
from mockserver.web.selfcheck import SELF_CHECK_PREFIX, ResponseSelfCheck
from tests.support import FIXTURES_DIR, load_tokens, serve_in_thread


async def _me_with_a_string_id(ctx: RequestContext) -> Reply:
    user = (await ctx.principal()).user
    return Reply(200, {"id": str(user.id), "name": user.name, "avatar_url": "https://x.example/a.png", "sgid": "s"})


@pytest.mark.parametrize(("handlers", "violations"), [(HANDLERS, 0), ({**HANDLERS, "getMe": _me_with_a_string_id}, 1)])
def test_self_check_flags_only_answers_that_break_the_spec(
    handlers: Any, violations: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(MockSettings(fixtures_dir=FIXTURES_DIR, check_responses=True), handlers=handlers)
    token = load_tokens()[1].token
    with serve_in_thread(app) as root:
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{root}/api/v1/me.json", headers=headers).status_code == 200
        assert httpx.get(f"{root}/api/v1/patients?per_page=500", headers=headers).status_code == 422
        assert httpx.put(f"{root}/api/v1/patients/4821", headers=headers).status_code == 405
    checker = app.middleware_stack
    assert isinstance(checker, ResponseSelfCheck)
    assert checker.violations == violations
    flagged = [r.getMessage() for r in caplog.records if SELF_CHECK_PREFIX in r.getMessage()]
    assert len(flagged) == violations
    if violations:
        assert "GET /api/v1/me.json -> 200" in flagged[0] and "id" in flagged[0]
