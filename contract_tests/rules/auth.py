"""Auth: every operation refuses a missing, malformed, unknown or revoked token.

Each refusal is `401` with exactly the spec's Unauthorized body, the
`WWW-Authenticate` header the spec fixes, and never any patient data.
"""

from __future__ import annotations

import secrets

from .._exceptions import RuleFailure
from ..client import Exchange
from ..context import RunContext
from ..registry import needs, rule
from ..spec import Operation

__all__: list[str] = []


def _targets(ctx: RunContext, rule_name: str) -> list[tuple[Operation, str, dict[str, object] | None]]:
    """(operation, concrete path, body) for every operation this run may call.

    Path ids name a real patient of the main account, so a server that lets a
    bad token through would show data; write bodies change nothing even then
    (a no-op PATCH, a tagged create that cleanup archives).
    """
    sample_id = ctx.sample_patient(rule_name)["id"]
    out = []
    for op in ctx.spec.iter_operations(writes=not ctx.config.read_only):
        path = op.path.replace("{id}", str(sample_id))
        body: dict[str, object] | None = None
        if op.method == "POST":
            body = {"first_name": "Contract", "last_name": "Auth", "external_id": ctx.new_tag()}
        elif op.method == "PATCH":
            body = {}
        out.append((op, path, body))
    return out


def _expect_refused(ctx: RunContext, rule_name: str, op: Operation, exchange: Exchange, how: str) -> None:
    ctx.track(exchange, ctx.token)  # a server that wrongly creates still gets its patient archived
    expected_body = ctx.spec.error_bodies[401]
    header, value = ctx.spec.unauthorized_header
    body = exchange.json()
    if exchange.status != 401 or body != expected_body:
        raise RuleFailure(
            rule_name, f"401 {expected_body} for {op.label} with {how}", exchange.describe_response(), exchange
        )
    got = exchange.response_headers.get(header)
    if got != value:
        raise RuleFailure(
            rule_name,
            f"header {header}: {value} on the 401 of {op.label} with {how}",
            f"{header}: {got}" if got is not None else f"no {header} header",
            exchange,
        )


def _check_all(ctx: RunContext, rule_name: str, authorizations: dict[str, str | None]) -> None:
    for op, path, body in _targets(ctx, rule_name):
        for how, authorization in authorizations.items():
            exchange = ctx.client.request(op.method, path, authorization=authorization, json_body=body)
            _expect_refused(ctx, rule_name, op, exchange, how)


@rule("auth.missing_token", "no Authorization header: 401 Unauthorized on every operation")
def missing_token(ctx: RunContext) -> None:
    _check_all(ctx, "auth.missing_token", {"no Authorization header": None})


@rule("auth.wrong_scheme", "bearer / Token / no space / two spaces: 401 on every operation")
def wrong_scheme(ctx: RunContext) -> None:
    token = ctx.token
    _check_all(
        ctx,
        "auth.wrong_scheme",
        {
            "a lower-case `bearer` scheme": f"bearer {token}",
            "the `Token` scheme": f"Token {token}",
            "no space after Bearer": f"Bearer{token}",
            "two spaces after Bearer": f"Bearer  {token}",
            "the scheme alone": "Bearer",
        },
    )


@rule("auth.unknown_token", "a token the server never issued: 401 on every operation")
def unknown_token(ctx: RunContext) -> None:
    token = ctx.token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    _check_all(
        ctx,
        "auth.unknown_token",
        {
            "an unknown token": f"Bearer contract-{secrets.token_hex(16)}",
            "the token with its last character changed": f"Bearer {flipped}",
            "the token with a suffix": f"Bearer {token}x",
        },
    )


@rule("auth.revoked_token", "the revoked token: 401 on every operation")
@needs("revoked_token")
def revoked_token(ctx: RunContext) -> None:
    assert ctx.config.revoked_token is not None
    _check_all(ctx, "auth.revoked_token", {"the revoked token": f"Bearer {ctx.config.revoked_token}"})
