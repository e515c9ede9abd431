"""Pagination: the default and limits of `per_page` as the spec gives them,
`meta` consistent with `data`, complete and stable walks, empty pages past the end.
"""

from __future__ import annotations

import math

from ..context import RunContext
from ..registry import rule

__all__: list[str] = []


def _expected_len(total: int, page: int, per_page: int) -> int:
    return max(0, min(per_page, total - (page - 1) * per_page))


@rule("pagination.default_page_size", "no page/per_page: page 1 of the spec's default size")
def default_page_size(ctx: RunContext) -> None:
    name = "pagination.default_page_size"
    ctx.ensure_patients(name)
    _, default, _ = ctx.spec.per_page
    exchange = ctx.list_patients()
    data, meta = ctx.expect_list(name, exchange)
    ctx.expect(
        name,
        meta["per_page"] == default,
        f"meta.per_page == {default} (the spec's default)",
        f"meta.per_page == {meta['per_page']}",
        exchange,
    )
    ctx.expect(
        name,
        meta["page"] == ctx.spec.page_min,
        f"meta.page == {ctx.spec.page_min}",
        f"meta.page == {meta['page']}",
        exchange,
    )
    want = min(default, meta["total"])
    ctx.expect(
        name,
        len(data) == want,
        f"{want} patients (min of default {default} and total {meta['total']})",
        f"{len(data)} patients",
        exchange,
    )


@rule("pagination.per_page_limits", "per_page at the spec's bounds is honoured; outside them 422")
def per_page_limits(ctx: RunContext) -> None:
    name = "pagination.per_page_limits"
    ctx.ensure_patients(name)
    low, _, high = ctx.spec.per_page
    for per_page in (low, high):
        exchange = ctx.list_patients(per_page=per_page)
        data, meta = ctx.expect_list(name, exchange)
        ctx.expect(
            name,
            meta["per_page"] == per_page,
            f"meta.per_page == {per_page}",
            f"meta.per_page == {meta['per_page']}",
            exchange,
        )
        want = min(per_page, meta["total"])
        ctx.expect(
            name, len(data) == want, f"{want} patients with per_page={per_page}", f"{len(data)} patients", exchange
        )
    bad: dict[str, list[int | str]] = {"per_page": [low - 1, high + 1, "abc"], "page": [ctx.spec.page_min - 1, "abc"]}
    for param, values in bad.items():
        for value in values:
            exchange = ctx.list_patients(None, **{param: value})
            body = exchange.json()
            errors = body.get("errors") if isinstance(body, dict) else None
            ok = (
                exchange.status == 422
                and isinstance(errors, dict)
                and isinstance(errors.get(param), list)
                and bool(errors[param])
            )
            ctx.expect(name, ok, f"422 with errors.{param} for {param}={value}", exchange.describe_response(), exchange)


@rule("pagination.meta_consistent", "meta.page/per_page echo the request and len(data) follows from meta.total")
def meta_consistent(ctx: RunContext) -> None:
    name = "pagination.meta_consistent"
    ctx.ensure_patients(name)
    _, total_meta = ctx.expect_list(name, ctx.list_patients(per_page=1))
    total = total_meta["total"]
    high = ctx.spec.per_page[2]
    pages = [(1, 1), (3, 2), (7, 1), (7, 2), (high, 1)]
    # The last page of each size is where a wrong total shows: its length follows from meta.total.
    pages += [(per_page, max(1, math.ceil(total / per_page))) for per_page in (7, 10, high)]
    for per_page, page in pages:
        exchange = ctx.list_patients(page=page, per_page=per_page)
        data, meta = ctx.expect_list(name, exchange)
        want = {"page": page, "per_page": per_page, "total": total}
        ctx.expect(name, meta == want, f"meta == {want}", f"meta == {meta}", exchange)
        n = _expected_len(total, page, per_page)
        ctx.expect(
            name,
            len(data) == n,
            f"{n} patients on page {page} of {per_page} (total {total})",
            f"{len(data)} patients",
            exchange,
        )


@rule("pagination.walk_all_pages", "walking every page yields meta.total distinct patients, no repeat or gap")
def walk_all_pages(ctx: RunContext) -> None:
    name = "pagination.walk_all_pages"
    ctx.ensure_patients(name)
    _, meta = ctx.expect_list(name, ctx.list_patients(per_page=1))
    total = meta["total"]
    high = ctx.spec.per_page[2]
    per_page = min(high, max(1, math.ceil(total / 4)))  # several pages even for a small account
    seen: list[int] = []
    for exchange, data, page_meta in ctx.walk(name, per_page=per_page):
        ctx.expect(
            name,
            page_meta["total"] == total,
            f"meta.total stays {total} while walking",
            f"meta.total == {page_meta['total']}",
            exchange,
        )
        seen.extend(item["id"] for item in data)
    repeats = sorted({i for i in seen if seen.count(i) > 1})
    ctx.expect(name, not repeats, "no patient on two pages", f"repeated ids {repeats[:10]}")
    ctx.expect(
        name, len(seen) == total, f"{total} patients (meta.total) over all pages of {per_page}", f"{len(seen)} patients"
    )
    if total <= high:
        data, _ = ctx.expect_list(name, ctx.list_patients(per_page=high))
        one_page = [item["id"] for item in data]
        ctx.expect(
            name,
            one_page == seen,
            "the pages concatenated == one page of everything",
            f"walk {seen[:20]} vs one page {one_page[:20]}",
        )


@rule("pagination.stable_order", "ascending id order, the same on every request")
def stable_order(ctx: RunContext) -> None:
    name = "pagination.stable_order"
    ctx.ensure_patients(name)
    high = ctx.spec.per_page[2]
    first = ctx.list_patients(per_page=high)
    data, _ = ctx.expect_list(name, first)
    ids = [item["id"] for item in data]
    ctx.expect(name, ids == sorted(ids), "ids in ascending order (the spec's Decided order)", f"ids {ids[:20]}", first)
    again, _ = ctx.expect_list(name, ctx.list_patients(per_page=high))
    ctx.expect(
        name,
        [item["id"] for item in again] == ids,
        "the same order on a repeated request",
        f"{[item['id'] for item in again][:20]} then {ids[:20]}",
    )
    archived = ctx.list_patients(per_page=high, is_active=False)
    data, _ = ctx.expect_list(name, archived)
    ids = [item["id"] for item in data]
    ctx.expect(name, ids == sorted(ids), "archived patients in ascending id order too", f"ids {ids[:20]}", archived)


@rule("pagination.past_end_empty", "a page past the end is 200 with empty data and the true meta.total")
def past_end_empty(ctx: RunContext) -> None:
    name = "pagination.past_end_empty"
    ctx.ensure_patients(name)
    per_page = 5
    _, meta = ctx.expect_list(name, ctx.list_patients(per_page=per_page))
    total = meta["total"]
    last = max(1, math.ceil(total / per_page))
    for page in (last + 1, last + 7, ctx.spec.page_max):
        exchange = ctx.list_patients(page=page, per_page=per_page)
        data, got = ctx.expect_list(name, exchange)
        ctx.expect(
            name, data == [], f"no patients on page {page} (last page is {last})", f"{len(data)} patients", exchange
        )
        ctx.expect(
            name,
            got["total"] == total and got["page"] == page,
            f"meta.total == {total} and meta.page == {page}",
            f"meta == {got}",
            exchange,
        )
