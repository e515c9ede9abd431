"""Lists: active patients only by default, `is_active=false` to see the
archived ones, `q` across name, email, phone and personal number, filters
that combine with AND.

How `q` matches beyond the exact value (substring, accents, scripts), the
case of the email filter and the phone digits compared are decisions
(decided.search_matching, filter_case, phone_filter); these checks send
values every alternative must match.
"""

from __future__ import annotations

import re
from typing import Any

from .._types import JsonObject
from ..context import RunContext
from ..registry import check
from ..transport import Exchange
from .scoping import unique_values

__all__: list[str] = []


def _ids(ctx: RunContext, **params: Any) -> tuple[list[int], Exchange]:
    """The ids of one page of 100, whose meta.total must count them (all of them, when the page is not full)."""
    per_page = ctx.facts.per_page[2]
    exchange = ctx.api.list(per_page=per_page, **params)
    data, meta = ctx.expect.listing(exchange)
    total = meta["total"]
    ctx.expect.that(
        total == len(data) if len(data) < per_page else total >= len(data),
        f"meta.total counting the {len(data)} patients listed for {params}",
        f"meta.total == {total}",
        exchange,
    )
    return [item["id"] for item in data], exchange


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@check("archived patients are out of the default list and in the is_active=false one", writes=True)
def archived_patients(ctx: RunContext) -> None:
    values = unique_values(ctx)
    patient = ctx.api.created(**values)
    pid, tag = patient["id"], patient["external_id"]
    ids, exchange = _ids(ctx, external_id=tag)
    ctx.expect.that(ids == [pid], "a new patient listed by its external_id", f"ids {ids}", exchange)
    archived = ctx.expect.patient(ctx.api.patch(pid, {"is_active": False}))
    ctx.expect.that(
        archived.get("is_active", False) is False, "is_active false after archiving", archived.get("is_active")
    )
    for params, listed in (
        ({"external_id": tag}, False),
        ({"external_id": tag, "is_active": True}, False),
        ({"external_id": tag, "is_active": False}, True),
        ({"q": values["first_name"]}, False),
        ({"q": values["first_name"], "is_active": False}, True),
        ({"q": f"zz{values['first_name']}zz", "is_active": False}, False),  # "combine with AND"
    ):
        ids, exchange = _ids(ctx, **params)
        ctx.expect.that(
            (pid in ids) is listed,
            f"the archived patient {'in' if listed else 'out of'} the list for {params}",
            f"ids {ids[:10]}",
            exchange,
        )
    active = ctx.api.created()
    ids, exchange = _ids(ctx, external_id=active["external_id"], is_active=True)
    ctx.expect.that(ids == [active["id"]], "is_active=true lists an active patient", f"ids {ids}", exchange)
    ctx.expect.patient(ctx.api.patch(pid, {"is_active": True}))
    ids, exchange = _ids(ctx, external_id=tag)
    ctx.expect.that(ids == [pid], "listed again once reactivated", f"ids {ids}", exchange)


@check("q finds a patient by its first name, last name, email, phone and personal number", writes=True)
def search_fields(ctx: RunContext) -> None:
    values = unique_values(ctx)
    patient = ctx.api.created(**values)
    pid = patient["id"]
    queries = [
        ("first_name", values["first_name"]),
        ("last_name", values["last_name"]),
        ("last_name", values["last_name"].lower()),  # the guide's own example: q=hoxha finds Hoxha
        ("email", values["email"]),
        ("phone", values["phone"]),
        ("personal_no", values["personal_no"]),
    ]
    for field, q in queries:
        ids, exchange = _ids(ctx, q=q)
        ctx.expect.that(pid in ids, f"q={q!r} (its {field}) to find patient {pid}", f"ids {ids[:10]}", exchange)
    ids, exchange = _ids(ctx, q=f"zz{values['first_name']}zz")
    ctx.expect.that(pid not in ids, "a q matching nothing not to find the patient", f"ids {ids[:10]}", exchange)


@check("q and the filters find existing patients by their own values")
def search_existing(ctx: RunContext) -> None:
    first, meta = ctx.expect.listing(ctx.api.list(per_page=10))
    last, _ = ctx.expect.listing(ctx.api.list(per_page=10, page=ctx.api.last_page(meta["total"], 10)))
    sampled = [i for i in first[:1] + last[-6:] if not ctx.tracker.ours(i["id"])][:4]
    patients = [ctx.expect.patient(ctx.api.get(item["id"])) for item in sampled]
    patients += _id_holders(ctx, {p["id"] for p in patients})
    for patient in patients:
        pid = patient["id"]
        searches: list[dict[str, Any]] = []
        for field in ("first_name", "last_name", "email", "personal_no"):
            if isinstance(patient.get(field), str) and patient[field].strip():
                searches.append({"q": patient[field]})
        for field in ("email", "personal_no", *_ID_FILTERS):
            if field in ctx.facts.string_filters and isinstance(patient.get(field), str) and patient[field].strip():
                searches.append({field: patient[field]})
        if isinstance(patient.get("phone_e164"), str):
            searches.append({"phone": _digits(patient["phone_e164"])[-6:]})
        for params in searches:
            ids = ctx.api.all_ids(**params)  # every page: a common name may match more than one holds
            ctx.expect.that(pid in ids, f"patient {pid} found by its own value {params}", f"{len(ids)} other ids")
            for field in set(params) & set(_ID_FILTERS):  # "narrow the result set": how exactly is not said
                value = params[field].casefold()
                outside = {p["id"] for p in patients if value not in str(p.get(field) or "").casefold()}
                listed = sorted(outside & set(ids))
                ctx.expect.that(
                    not listed, f"no patient without {field} {params[field]!r} listed for it", f"ids {listed}"
                )


#: Filters by an id from elsewhere: "Pass any of these to narrow the result set." A list
#: item need not show them, so their holders are found by reading patients one by one.
_ID_FILTERS = ("external_id", "legacy_id")
_HOLDER_READS = 40


def _id_holders(ctx: RunContext, known: set[int]) -> list[JsonObject]:
    """A patient of the first page holding each of `_ID_FILTERS`, if one of the first
    `_HOLDER_READS` does (besides those `known`)."""
    data, _ = ctx.expect.listing(ctx.api.list(per_page=ctx.facts.per_page[2]))
    wanted, found = set(_ID_FILTERS), []
    for item in [i for i in data if i["id"] not in known and not ctx.tracker.ours(i["id"])][:_HOLDER_READS]:
        if not wanted:
            break
        patient = ctx.expect.patient(ctx.api.get(item["id"]))
        holds = {f for f in wanted if isinstance(patient.get(f), str) and patient[f].strip()}
        if holds:
            wanted -= holds
            found.append(patient)
    return found


@check("each filter finds its patient, and filters and q combine with AND", writes=True)
def filters_and(ctx: RunContext) -> None:
    one_values = unique_values(ctx)
    two_values = {**unique_values(ctx), "last_name": one_values["last_name"]}
    one = ctx.api.created(**one_values)
    two = ctx.api.created(**two_values)
    a, b = one["id"], two["id"]
    cases: list[tuple[dict[str, Any], list[int] | None, int | None]] = [
        ({"email": one_values["email"]}, [a], None),
        ({"personal_no": one_values["personal_no"]}, [a], None),
        ({"external_id": one["external_id"]}, [a], None),
        ({"phone": _digits(one_values["phone"])[-6:]}, None, a),  # "Partial phone number match"
        ({"q": one_values["last_name"]}, [a, b], None),
        ({"q": one_values["last_name"], "external_id": two["external_id"]}, [b], None),
        ({"q": one_values["first_name"], "email": two_values["email"]}, [], None),
        ({"email": one_values["email"], "personal_no": one_values["personal_no"]}, [a], None),
        ({"email": one_values["email"], "personal_no": two_values["personal_no"]}, [], None),
        ({"external_id": one["external_id"], "phone": _digits(two_values["phone"])[-6:]}, [], None),
        # "Exact email match", not partial:
        ({"email": f"x{one_values['email']}"}, [], None),
        ({"email": one_values["email"][1:]}, [], None),
        ({"email": one_values["email"].partition("@")[0]}, [], None),
        ({"email": one_values["email"].partition("@")[2]}, [], None),
    ]
    for params, exactly, contains in cases:
        ids, exchange = _ids(ctx, **params)
        if exactly is not None:
            ctx.expect.that(
                sorted(ids) == sorted(exactly), f"exactly {exactly} for {params}", f"ids {ids[:10]}", exchange
            )
        else:
            ctx.expect.that(
                contains in ids, f"patient {contains} among the results for {params}", f"ids {ids[:10]}", exchange
            )
