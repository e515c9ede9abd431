"""Pagination: "Default page size is 20, maximum is 100", `meta` consistent
with `data`, and walks through every page that give each match once.

Which order, what a page past the end, an invalid value or a per_page above
100 gets are decisions (decided.list_order, page_past_end, invalid_paging,
per_page_over_max); these checks hold under each of their alternatives.
"""

from __future__ import annotations

import math
from typing import Any

from ..context import RunContext
from ..registry import check

__all__: list[str] = []


def _expected_len(total: int, page: int, per_page: int) -> int:
    return max(0, min(per_page, total - (page - 1) * per_page))


@check("no per_page: pages of 20 patients, with or without page, a filter or q", writes=True)
def default_page_size(ctx: RunContext) -> None:
    ctx.api.ensure_patients(25)
    _, default, _ = ctx.facts.per_page
    first = ctx.facts.page_min
    data, _ = ctx.expect.listing(ctx.api.list(per_page=1))
    narrowed = {"q": data[0]["last_name"]} if data and isinstance(data[0].get("last_name"), str) else {}
    # "Default page size is 20": of every list, not only of one without parameters.
    lists: list[tuple[dict[str, Any], bool]] = [({}, True), ({}, False), ({"page": first + 1}, True)]
    lists += [({"is_active": True}, True)] + ([(narrowed, True)] if narrowed else [])
    for params, accept in lists:
        exchange = ctx.api.list(accept=accept, **params)
        data, meta = ctx.expect.listing(exchange)
        page = params.get("page", first)
        ctx.expect.that(
            meta["per_page"] == default,
            f"meta.per_page == {default} (the guide's default) for {params or 'no parameters'}",
            f"meta.per_page == {meta['per_page']}",
            exchange,
        )
        ctx.expect.that(meta["page"] == page, f"meta.page == {page}", f"meta.page == {meta['page']}", exchange)
        want = _expected_len(meta["total"], page - first + 1, default)
        ctx.expect.that(
            len(data) == want,
            f"{want} patients on page {page} of {default} (total {meta['total']}) for {params or 'no parameters'}",
            f"{len(data)} patients",
            exchange,
        )


@check("per_page 1 to 100 is honoured, and no page is ever longer than 100", writes=True)
def per_page_bounds(ctx: RunContext) -> None:
    ctx.api.ensure_patients(12)
    low, _, high = ctx.facts.per_page
    for per_page in (low, 7, high):
        exchange = ctx.api.list(per_page=per_page)
        data, meta = ctx.expect.listing(exchange)
        ctx.expect.that(
            meta["per_page"] == per_page,
            f"meta.per_page == {per_page}",
            f"meta.per_page == {meta['per_page']}",
            exchange,
        )
        want = min(per_page, meta["total"])
        ctx.expect.that(
            len(data) == want, f"{want} patients with per_page={per_page}", f"{len(data)} patients", exchange
        )
    for per_page in (high + 1, 10 * high):
        exchange = ctx.api.list(per_page=per_page)
        if exchange.status == 422:  # refused, as the kit decides
            ctx.expect.error_body(exchange, f"per_page={per_page}")
            continue
        data, meta = ctx.expect.listing(exchange)
        ctx.expect.that(
            len(data) <= high and meta["per_page"] <= high,
            f"at most {high} patients and meta.per_page <= {high} for per_page={per_page} "
            f'(the guide: "maximum is {high}")',
            f"{len(data)} patients, meta {meta}",
            exchange,
        )


@check("meta.page and meta.per_page echo the request; len(data) follows from meta.total", writes=True)
def meta_consistent(ctx: RunContext) -> None:
    ctx.api.ensure_patients(12)
    total = ctx.api.total()
    high = ctx.facts.per_page[2]
    pages = [(1, 1), (3, 2), (7, 1), (7, 2), (high, 1)]
    # The last page of each size is where a wrong total shows: its length follows from meta.total.
    pages += [(per_page, max(1, math.ceil(total / per_page))) for per_page in (7, 10, high)]
    for per_page, page in pages:
        exchange = ctx.api.list(page=page, per_page=per_page)
        data, meta = ctx.expect.listing(exchange)
        want = {"page": page, "per_page": per_page, "total": total}
        # Only the keys the guide shows: more in meta are the extra_fields decision point's.
        shown = {key: meta[key] for key in want}
        ctx.expect.that(shown == want, f"meta with {want}", f"meta == {meta}", exchange)
        n = _expected_len(total, page, per_page)
        ctx.expect.that(
            len(data) == n,
            f"{n} patients on page {page} of {per_page} (total {total})",
            f"{len(data)} patients",
            exchange,
        )


@check("walking every page gives meta.total distinct patients, none twice, in a stable order", writes=True)
def walk_all_pages(ctx: RunContext) -> None:
    ctx.api.ensure_patients(12)
    high = ctx.facts.per_page[2]
    for is_active in (True, False):
        total = ctx.api.total(is_active=is_active)
        per_page = min(high, max(1, math.ceil(total / 4)))  # several pages even for a small account
        seen: list[int] = []
        for exchange, data, page_meta in ctx.api.walk(per_page=per_page, is_active=is_active):
            ctx.expect.that(
                page_meta["total"] == total,
                f"meta.total stays {total} on every page",
                f"meta.total == {page_meta['total']}",
                exchange,
            )
            ctx.expect.that(
                page_meta["per_page"] == per_page and len(data) <= per_page,
                f"every page of {per_page} at most {per_page} long",
                f"{len(data)}, meta {page_meta}",
                exchange,
            )
            seen.extend(item["id"] for item in data)
        repeats = sorted({i for i in seen if seen.count(i) > 1})
        ctx.expect.that(not repeats, f"no patient on two pages (is_active={is_active})", f"repeated ids {repeats[:10]}")
        ctx.expect.that(
            len(seen) == total, f"{total} patients (meta.total) over all pages of {per_page}", f"{len(seen)} patients"
        )
        if total <= high:
            data, _ = ctx.expect.listing(ctx.api.list(per_page=high, is_active=is_active))
            one_page = [item["id"] for item in data]
            ctx.expect.that(
                one_page == seen,
                "the pages, one after another, == one page of everything",
                f"walk {seen[:20]} vs one page {one_page[:20]}",
            )
        again = ctx.api.all_ids(per_page=per_page, is_active=is_active)
        ctx.expect.that(again == seen, "the same order when walked again", f"{again[:20]} then {seen[:20]}")
