"""Scoping: another account's patient answers exactly like one that does not exist.

A patient of account A is a `404` for account B on GET and PATCH, with the
same answer as an id that names nobody, and never shows up in B's list,
search or filters: "The API never leaks data across accounts."
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from .._types import JsonObject
from ..context import RunContext
from ..registry import check
from ..transport import Exchange

__all__ = ["unique_values"]

#: An id no deployment holds: the largest int64.
NOBODY = 2**63 - 1


def unique_values(ctx: RunContext) -> JsonObject:
    """Field values no other patient has: what searches and filters must find (or not)."""
    mark = secrets.token_hex(4)
    digits = str(int(mark, 16) % 10**6).zfill(6)
    return {
        "first_name": f"Ctfn{mark}",
        "last_name": f"Ctln{mark}",
        "email": f"contract-{mark}@example.com",
        "phone": f"+38970{digits}",  # an MK mobile number, valid E.164
        "personal_no": f"CT{mark.upper()}",
    }


def _not_found(ctx: RunContext, exchange: Exchange, what: str) -> None:
    ctx.expect.status(exchange, 404, what=f"for {what}")
    ctx.expect.error_body(exchange, what)


def _same_answer(ctx: RunContext, theirs: Exchange, nobody: Exchange, what: str) -> None:
    """The same status and body as for an id that names nobody: the same fields, and the
    same words in the guide's error fields (ids in them aside). Other fields may hold
    what differs on every answer (a request id)."""
    said_in = ctx.facts.guide.schema("ValidationError")["properties"]  # `error`, and a 422's `errors`

    def words(exchange: Exchange) -> Any:
        body = exchange.json()
        if isinstance(body, dict):
            said = {key: body[key] for key in said_in if key in body}
            return sorted(body), re.sub(r"\d+", "<id>", json.dumps(said, sort_keys=True))
        return re.sub(r"\d+", "<id>", exchange.content.decode("utf-8", "replace"))

    ctx.expect.that(
        theirs.status == nobody.status and words(theirs) == words(nobody),
        f"{what} answered exactly like an id that names nobody",
        f"{theirs.describe_response()} vs {nobody.describe_response()}",
        theirs,
    )


def _other_sample(ctx: RunContext) -> JsonObject | None:
    data, _ = ctx.expect.listing(ctx.api.list(ctx.config.other_token, per_page=1))
    return data[0] if data else None


@check("GET another account's patient: 404, the same answer as for an id that names nobody", needs=["other_token"])
def get_other_account(ctx: RunContext) -> None:
    other = ctx.config.other_token
    mine = ctx.api.sample()
    for params in ({}, {"fields": ctx.facts.expansion_fields[:2]}, {"lang": ctx.facts.langs[0]}):
        exchange = ctx.api.get(mine["id"], other, **params)
        _not_found(ctx, exchange, f"account B reading account A's patient {mine['id']} with {params}")
        _same_answer(ctx, exchange, ctx.api.get(NOBODY, other, **params), "account A's patient, for B,")
    theirs = _other_sample(ctx)
    if theirs is not None:
        exchange = ctx.api.get(theirs["id"])
        _not_found(ctx, exchange, f"account A reading account B's patient {theirs['id']}")
        _same_answer(ctx, exchange, ctx.api.get(NOBODY), "account B's patient, for A,")


@check("PATCH another account's patient: 404, and nothing changes", needs=["other_token"], writes=True)
def patch_other_account(ctx: RunContext) -> None:
    patient = ctx.api.created()
    before = ctx.expect.patient(ctx.api.get(patient["id"]))
    for body in ({"first_name": "Intruder"}, {"is_active": False}, {}):
        exchange = ctx.api.patch(patient["id"], body, ctx.config.other_token)
        _not_found(ctx, exchange, f"account B patching account A's patient with {body}")
        _same_answer(
            ctx, exchange, ctx.api.patch(NOBODY, body, ctx.config.other_token), "account A's patient, patched by B,"
        )
    after_exchange = ctx.api.get(patient["id"])
    after = ctx.expect.patient(after_exchange)
    ctx.expect.that(
        after == before,
        "account A's patient unchanged after B's PATCHes",
        {k: after.get(k) for k in after if after.get(k) != before.get(k)},
        after_exchange,
    )


@check("an id that names no patient: 404 on GET and PATCH")
def unknown_id(ctx: RunContext) -> None:
    for patient_id in (NOBODY, NOBODY - 1):
        _not_found(ctx, ctx.api.get(patient_id), f"GET of id {patient_id}")
        if not ctx.config.read_only:
            _not_found(ctx, ctx.api.patch(patient_id, {"first_name": "Nobody"}), f"PATCH of id {patient_id}")


@check("another account's patients never appear in a list, search or filter", needs=["other_token"])
def list_isolation(ctx: RunContext) -> None:
    other = ctx.config.other_token
    assert other is not None
    mine: set[int] = set(ctx.api.all_ids()) | set(ctx.api.all_ids(is_active=False))
    theirs: set[int] = set(ctx.api.all_ids(other)) | set(ctx.api.all_ids(other, is_active=False))
    shared = sorted(mine & theirs)
    ctx.expect.that(not shared, "no patient listed by both accounts", f"both list ids {shared[:10]}")
    if ctx.config.read_only:
        probe = ctx.expect.patient(ctx.api.get(ctx.api.sample()["id"]))
    else:
        probe = ctx.api.created(**unique_values(ctx))
    queries: list[dict[str, Any]] = []
    for field in ("first_name", "last_name", "email", "phone", "personal_no"):
        if isinstance(probe.get(field), str) and probe[field]:
            queries.append({"q": probe[field]})
            queries.append({"q": probe[field], "is_active": False})
    for field in ctx.facts.string_filters:
        if isinstance(probe.get(field), str) and probe[field]:
            queries.append({field: probe[field]})
    for params in queries:
        exchange = ctx.api.list(other, per_page=ctx.facts.per_page[2], **params)
        data, meta = ctx.expect.listing(exchange)
        leaked = sorted({item["id"] for item in data} & (mine | {probe["id"]}))
        ctx.expect.that(
            not leaked,
            f"none of account A's patients in account B's list for {params}",
            f"A's ids {leaked[:10]}",
            exchange,
        )
        if len(data) < meta["per_page"]:  # the whole answer on this page: its total counts only what it lists
            ctx.expect.that(
                meta["total"] == len(data),
                f"account B's meta.total for {params} counts only B's {len(data)} patients listed",
                f"meta.total {meta['total']}",
                exchange,
            )
