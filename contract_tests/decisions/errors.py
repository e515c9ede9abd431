"""Probe of the error bodies' words."""

from __future__ import annotations

from ..context import RunContext
from ..registry import Observed, probe
from ..transport import Exchange
from ._support import none_of, saw

_DOCUMENTED = {401: "Unauthorized", 404: "Not Found"}


@probe("error_wording")
def error_wording(ctx: RunContext) -> Observed:
    """401, 404 and 422 in the guide's words, or in others."""
    unauthorized = ctx.client.get(ctx.facts.me_operation.path)
    not_found = ctx.api.get(2**63 - 1)
    invalid = ctx.api.list(lang="xx") if ctx.config.read_only else ctx.api.create(first_name="")
    documented = (
        _words(unauthorized) == _DOCUMENTED[401]
        and unauthorized.response_headers.get("www-authenticate") == "Bearer"
        and _words(not_found) == _DOCUMENTED[404]
    )
    if invalid.status == 422:
        body = invalid.json()
        documented = documented and isinstance(body, dict) and body.get("error") == "Validation failed"
    if documented:
        return saw("as_documented", "Unauthorized, Not Found, Validation failed; WWW-Authenticate: Bearer")
    bodies = (unauthorized.json(), not_found.json())
    if all(isinstance(b, dict) and isinstance(b.get("error"), str) for b in bodies):
        return saw(
            "own_words",
            f"{bodies[0]}, {bodies[1]}, WWW-Authenticate: {unauthorized.response_headers.get('www-authenticate')}",
            unauthorized,
        )
    return none_of(f"{unauthorized.describe_response()} / {not_found.describe_response()}", unauthorized)


def _words(exchange: Exchange) -> object:
    """The `error` of an error body (fields beside it are the extra_fields point's)."""
    body = exchange.json()
    return body.get("error") if isinstance(body, dict) else None
