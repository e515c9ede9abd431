"""Scoping: another account's patient answers exactly like one that does not exist.

A patient of account A is `404 {"error": "Not Found"}` for account B on GET
and PATCH, and never shows up in B's list, search or filters.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..context import RunContext
from ..registry import needs, rule, writes
from ..types import JsonObject

__all__: list[str] = []


def _expect_not_found(ctx: RunContext, name: str, exchange: Any, what: str) -> None:
    want = ctx.spec.error_bodies[404]
    ctx.expect(
        name,
        exchange.status == 404 and exchange.json() == want,
        f"404 {want} for {what}",
        exchange.describe_response(),
        exchange,
    )


def _other_sample(ctx: RunContext, name: str) -> JsonObject | None:
    assert ctx.config.other_token is not None
    data, _ = ctx.expect_list(name, ctx.list_patients(ctx.config.other_token, per_page=1))
    return data[0] if data else None


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


@rule("scoping.get_other_account", "GET another account's patient: exactly 404 Not Found, both ways")
@needs("other_token")
def get_other_account(ctx: RunContext) -> None:
    name = "scoping.get_other_account"
    other = ctx.config.other_token
    mine = ctx.sample_patient(name)
    for params in ({}, {"fields": ctx.spec.expansion_fields[:2]}, {"lang": ctx.spec.langs[0]}):
        exchange = ctx.get_patient(mine["id"], other, **params)
        _expect_not_found(ctx, name, exchange, f"account B reading account A's patient {mine['id']}")
    theirs = _other_sample(ctx, name)
    if theirs is not None:
        exchange = ctx.get_patient(theirs["id"])
        _expect_not_found(ctx, name, exchange, f"account A reading account B's patient {theirs['id']}")


@rule("scoping.patch_other_account", "PATCH another account's patient: exactly 404, and nothing changes")
@writes
@needs("other_token")
def patch_other_account(ctx: RunContext) -> None:
    name = "scoping.patch_other_account"
    patient = ctx.created_patient(name)
    before = ctx.expect_patient(name, ctx.get_patient(patient["id"]))
    for body in ({"first_name": "Intruder"}, {"is_active": False}, {}):
        exchange = ctx.patch_patient(patient["id"], body, ctx.config.other_token)
        _expect_not_found(ctx, name, exchange, f"account B patching account A's patient with {body}")
    after_exchange = ctx.get_patient(patient["id"])
    after = ctx.expect_patient(name, after_exchange)
    ctx.expect(
        name,
        after == before,
        "account A's patient unchanged after B's PATCHes",
        {k: after.get(k) for k in after if after.get(k) != before.get(k)},
        after_exchange,
    )


@rule("scoping.unknown_id", "an id that names no patient: exactly 404 Not Found, like another account's")
def unknown_id(ctx: RunContext) -> None:
    name = "scoping.unknown_id"
    biggest = ctx.spec.id_maximum
    ids: list[str] = [str(biggest), str(biggest + 1), "0", "-1", "abc", "1.5"]
    answers = []
    for patient_id in ids:
        exchange = ctx.get_patient(patient_id)
        _expect_not_found(ctx, name, exchange, f"GET of id {patient_id}")
        answers.append(exchange)
        if not ctx.config.read_only:
            exchange = ctx.patch_patient(patient_id, {"first_name": "Nobody"})
            _expect_not_found(ctx, name, exchange, f"PATCH of id {patient_id}")
    if ctx.config.other_token:
        theirs = _other_sample(ctx, name)
        if theirs is not None:
            cross = ctx.get_patient(theirs["id"])
            same = (cross.status, cross.json()) == (answers[0].status, answers[0].json())
            ctx.expect(
                name,
                same,
                "another account's id answers exactly like a missing id",
                f"{cross.describe_response()} vs {answers[0].describe_response()}",
                cross,
            )


@rule("scoping.list_isolation", "another account's patients never appear in a list, search or filter")
@needs("other_token")
def list_isolation(ctx: RunContext) -> None:
    name = "scoping.list_isolation"
    other = ctx.config.other_token
    assert other is not None
    mine = set(ctx.all_ids(name)) | set(ctx.all_ids(name, is_active=False))
    theirs = set(ctx.all_ids(name, other)) | set(ctx.all_ids(name, other, is_active=False))
    shared = sorted(mine & theirs)
    ctx.expect(name, not shared, "no patient listed by both accounts", f"both list ids {shared[:10]}")
    if ctx.config.read_only:
        probe = ctx.expect_patient(name, ctx.get_patient(ctx.sample_patient(name)["id"]))
    else:
        probe = ctx.created_patient(name, **unique_values(ctx))
    queries: list[dict[str, Any]] = []
    for field in ("first_name", "last_name", "email", "phone", "personal_no"):
        if probe.get(field):
            queries.append({"q": probe[field]})
            queries.append({"q": probe[field], "is_active": False})
    for field in ctx.spec.string_filters:
        if probe.get(field):
            queries.append({field: probe[field]})
    for params in queries:
        exchange = ctx.list_patients(other, per_page=ctx.spec.per_page[2], **params)
        data, _ = ctx.expect_list(name, exchange)
        leaked = sorted({item["id"] for item in data if isinstance(item.get("id"), int)} & (mine | {probe["id"]}))
        ctx.expect(
            name,
            not leaked,
            f"none of account A's patients in account B's list for {params}",
            f"A's ids {leaked[:10]}",
            exchange,
        )
