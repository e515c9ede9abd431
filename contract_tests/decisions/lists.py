"""Probes of the list's open points: order, paging edges, the archived
filter, query parameters the guide does not define, `fields` on the list."""

from __future__ import annotations

from typing import Any

from ..context import RunContext
from ..registry import Observed, probe
from ._support import is_error, listed_ids, none_of, saw


@probe("list_order")
def list_order(ctx: RunContext) -> Observed:
    """Ascending id, or newest first."""
    ctx.api.ensure_patients(3)
    exchange = ctx.api.list(per_page=ctx.facts.per_page[2])
    ids = listed_ids(ctx, exchange)
    if len(ids) < 2:
        return none_of(f"fewer than two patients to order ({ids})", exchange)
    if ids == sorted(ids) and len(set(ids)) == len(ids):
        return saw("id_ascending", f"ids rise: {ids[:5]}...", exchange)
    if ids == sorted(ids, reverse=True):
        return saw("newest_first", f"ids fall: {ids[:5]}...", exchange)
    return none_of(f"ids neither rise nor fall: {ids[:8]}", exchange)


@probe("per_page_over_max")
def per_page_over_max(ctx: RunContext) -> Observed:
    """per_page=101: refused, or answered as 100."""
    high = ctx.facts.per_page[2]
    exchange = ctx.api.list(per_page=high + 1)
    if is_error(exchange, 422, "per_page"):
        return saw("reject", "422 naming per_page", exchange)
    if exchange.status == 200:
        data, meta = ctx.expect.listing(exchange)
        if meta["per_page"] == high and len(data) <= high:
            return saw("clamp", f"200 with meta.per_page {high}", exchange)
        return none_of(f"200 with meta.per_page {meta['per_page']} and {len(data)} patients", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("invalid_paging")
def invalid_paging(ctx: RunContext) -> Observed:
    """page=0 and per_page=abc: refused, or the defaults."""
    seen = []
    for param, value in (("page", 0), ("per_page", "abc")):
        bad: dict[str, Any] = {param: value}
        exchange = ctx.api.list(None, **bad)
        if is_error(exchange, 422, param):
            seen.append(("reject", exchange))
        elif exchange.status == 200:
            _, meta = ctx.expect.listing(exchange)
            fallback = meta["page"] == ctx.facts.page_min and meta["per_page"] == ctx.facts.per_page[1]
            seen.append(("fallback" if fallback else f"200 with meta {meta}", exchange))
        else:
            seen.append((exchange.describe_response(), exchange))
    kinds = {kind for kind, _ in seen}
    if len(kinds) == 1 and kinds <= {"reject", "fallback"}:
        return saw(kinds.pop(), f"page=0 and per_page=abc both {seen[0][0]}", seen[-1][1])
    return none_of("; ".join(f"{kind}" for kind, _ in seen), seen[-1][1])


@probe("page_past_end")
def page_past_end(ctx: RunContext) -> Observed:
    """A page past the last: empty, or 404."""
    total = ctx.api.total()
    page = ctx.api.last_page(total, 5) + 5
    exchange = ctx.api.list(page=page, per_page=5)
    if exchange.status == 200:
        data, meta = ctx.expect.listing(exchange)
        if not data and meta["total"] == total:
            return saw("empty", f"200, no patients, meta.total {total}", exchange)
        return none_of(f"200 with {len(data)} patients and meta {meta}", exchange)
    if is_error(exchange, 404):
        return saw("not_found", "404", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("inactive_filter")
def inactive_filter(ctx: RunContext) -> Observed:
    """is_active=false: archived only, or everyone."""
    if not ctx.config.read_only:
        archived = ctx.api.created()
        ctx.expect.patient(ctx.api.patch(archived["id"], {"is_active": False}))
        ctx.api.created()
    active_total = ctx.api.total()
    flags: set[object] = set()
    listed = 0
    exchange = None
    for page, (seen_page, data, _) in enumerate(ctx.api.walk(is_active=False)):
        exchange = seen_page
        flags |= {item.get("is_active") for item in data}
        listed += len(data)
        if True in flags or page >= 4:  # enough to tell, and bounded
            break
    if True in flags:
        return saw("all", "active patients listed with is_active=false", exchange)
    if listed and flags == {False}:
        return saw("archived_only", f"{listed} archived patients listed, none active", exchange)
    if not listed and active_total:
        return saw("archived_only", "no patient listed with is_active=false, active ones exist", exchange)
    return none_of("no patient to tell by", exchange)


@probe("boolean_values")
def boolean_values(ctx: RunContext) -> Observed:
    """is_active=maybe: refused, or the default."""
    exchange = ctx.api.list(is_active="maybe", per_page=ctx.facts.per_page[2])
    if is_error(exchange, 422, "is_active"):
        return saw("strict", "422 naming is_active", exchange)
    if exchange.status == 200:
        data, _ = ctx.expect.listing(exchange)
        if all(item.get("is_active", True) is True for item in data):
            return saw("lenient", "200, active patients (the default)", exchange)
        return none_of("200 with archived patients listed", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("unknown_query_params")
def unknown_query_params(ctx: RunContext) -> Observed:
    """A parameter the API does not define: ignored, or refused."""
    exchange = ctx.api.list(contract_unknown="1")
    if exchange.status == 200:
        return saw("ignore", "200", exchange)
    if is_error(exchange, 422):
        return saw("reject", "422", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("repeated_params")
def repeated_params(ctx: RunContext) -> Observed:
    """page given twice: refused, or the last one counts."""
    exchange = ctx.client.get(ctx.api.list_path, token=ctx.token, params={"page": ["1", "2"], "per_page": "1"})
    if is_error(exchange, 422, "page"):
        return saw("reject", "422 naming page", exchange)
    if exchange.status == 200:
        _, meta = ctx.expect.listing(exchange)
        if meta["page"] == 2:
            return saw("last_wins", "page=1&page=2 answered as page 2", exchange)
        return none_of(f"page=1&page=2 answered as page {meta['page']}", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("fields_on_list")
def fields_on_list(ctx: RunContext) -> Observed:
    """fields on the list: honoured, or ignored."""
    field = ctx.facts.expansion_fields[0]
    params: dict[str, Any] = {}
    if not ctx.config.read_only:
        patient = ctx.api.created(**{field: "Contract expansion"})
        params["external_id"] = patient["external_id"]
    exchange = ctx.api.list(None, fields=[field], per_page=20, **params)
    data, _ = ctx.expect.listing(exchange)
    if any(item.get(field) is not None for item in data):
        return saw("honoured", f"listed patients carry {field}", exchange)
    if data and not any(field in item for item in data) and params:
        return saw("ignored", f"no listed patient carries {field}, though it is set", exchange)
    return none_of(f"no listed patient with {field} set to tell by", exchange)
