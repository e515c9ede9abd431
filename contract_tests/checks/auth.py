"""Auth: every operation refuses a missing, malformed, unknown or revoked token.

Each refusal is a `401` whose body is the guide's error shape (`error`, a
human-readable string) and never any patient data. The exact words and the
`WWW-Authenticate` header are the kit's decision (decided.error_wording).
"""

from __future__ import annotations

import secrets

from dentare_spec import Operation

from ..context import RunContext
from ..registry import check

__all__: list[str] = []


def _targets(ctx: RunContext) -> list[tuple[Operation, str, dict[str, object] | None]]:
    """(operation, concrete path, body) for every operation this run may call.

    Path ids name a real patient of the main account, so a server that lets a
    bad token through would show data; write bodies change nothing even then
    (a no-op PATCH, a tagged create that cleanup archives).
    """
    sample_id = ctx.api.sample()["id"]
    out = []
    for op in ctx.facts.guide.iter_operations(writes=not ctx.config.read_only):
        path = op.path.replace("{id}", str(sample_id))
        body: dict[str, object] | None = None
        if op.method == "POST":
            body = {"first_name": "Contract", "last_name": "Auth", "external_id": ctx.tracker.new_tag()}
        elif op.method == "PATCH":
            body = {}
        out.append((op, path, body))
    return out


def _refused_everywhere(ctx: RunContext, authorizations: dict[str, str | None]) -> None:
    """Each way of sending a bad token, on each operation, with and without the
    recommended `Accept: application/json`."""
    for op, path, body in _targets(ctx):
        for how, authorization in authorizations.items():
            for accept in (True, False):
                exchange = ctx.client.request(
                    op.method, path, authorization=authorization, json_body=body, accept=accept
                )
                ctx.tracker.track(exchange, ctx.token)  # a server that wrongly creates gets its patient archived
                ctx.expect.status(exchange, 401, what=f"for {op.label} with {how}")
                found = ctx.expect.error_body(exchange, f"the 401 of {op.label} with {how}")
                ctx.expect.that("data" not in found, f"no patient data in the 401 of {op.label}", found, exchange)


@check("no Authorization header: 401 on every operation")
def missing_token(ctx: RunContext) -> None:
    _refused_everywhere(ctx, {"no Authorization header": None})


@check("bearer / Token / no space / two spaces: 401 on every operation")
def wrong_scheme(ctx: RunContext) -> None:
    token = ctx.token
    _refused_everywhere(
        ctx,
        {
            "a lower-case `bearer` scheme": f"bearer {token}",
            "the `Token` scheme": f"Token {token}",
            "no space after Bearer": f"Bearer{token}",
            "two spaces after Bearer": f"Bearer  {token}",
            "the scheme alone": "Bearer",
        },
    )


@check("a token the server never issued: 401 on every operation")
def unknown_token(ctx: RunContext) -> None:
    token = ctx.token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    ways: dict[str, str | None] = {
        "an unknown token": f"Bearer contract-{secrets.token_hex(16)}",
        "the token with its last character changed": f"Bearer {flipped}",
        "the token with a suffix": f"Bearer {token}x",
        "the token without its last character": f"Bearer {token[:-1]}",  # a prefix match lets it in
    }
    if token.swapcase() != token:  # a case-insensitive lookup (a `_ci` collation) lets it in
        ways["the token with its letters' case swapped"] = f"Bearer {token.swapcase()}"
    _refused_everywhere(ctx, ways)


@check("the revoked token: 401 on every operation", needs=["revoked_token"])
def revoked_token(ctx: RunContext) -> None:
    assert ctx.config.revoked_token is not None
    _refused_everywhere(ctx, {"the revoked token": f"Bearer {ctx.config.revoked_token}"})


@check("/me.json: each token of the run answers its own user, in the guide's shape, with any lang")
def me_profile(ctx: RunContext) -> None:
    users = {}
    # The guide: "The id and name fields are the most useful for sanity checks"; sgid "is safe to
    # ignore" and avatar_url may be signed anew on each answer, so only id and name must stay the same.
    user_fields = ("id", "name")
    for which, token in (("--token", ctx.token), ("--other-token", ctx.config.other_token)):
        if not token:
            continue
        first = None
        for params in ({}, *({"lang": lang} for lang in ctx.facts.langs)):
            exchange = ctx.api.me(token, **params)
            body = ctx.expect.status(exchange, 200, what=f"with the user of {which}")
            problems = ctx.facts.problems("User", body)
            ctx.expect.that(
                not problems,
                "the guide's user: id (integer), name, avatar_url, sgid",
                "; ".join(problems[:3]),
                exchange,
            )
            user = {key: body.get(key) for key in user_fields} if isinstance(body, dict) else body
            first = user if first is None else first
            ctx.expect.that(user == first, f"the same user with {params}", body, exchange)
        assert isinstance(first, dict)
        users[which] = first["id"]
    ctx.expect.that(len(set(users.values())) == len(users), "each token its own user", users)
