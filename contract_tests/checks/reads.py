"""Reads: the full record by id, list items as the guide shows them,
expansion fields only when named in `fields`, and `lang` on every read.

Which fields beyond the guide's examples an answer carries, how names are
localized and what an unset expansion field looks like are decisions
(decided.answer_fields, extra_fields, transliteration, unset_expansions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._types import JsonObject
from ..context import RunContext
from ..registry import check
from ..transport import Exchange
from .schema import VALID_PHONES, is_phone_field

__all__: list[str] = []

_DISPLAY = ("display_name", "display_first_name", "display_last_name")


def _shaped_like(
    ctx: RunContext, item: JsonObject, keys: list[str], schema: str, what: str, exchange: Exchange
) -> None:
    missing = [k for k in keys if k not in item]
    ctx.expect.that(not missing, f"{what} with every field of the guide's example", f"missing {missing}", exchange)
    problems = ctx.facts.problems(schema, item)
    ctx.expect.that(not problems, f"{what} typed as the guide's {schema}", "; ".join(problems[:3]), exchange)


@check("GET /patients/{id}: the full record, every field of the guide's example, with and without Accept")
def get_record(ctx: RunContext) -> None:
    keys = ctx.facts.example_keys(ctx.facts.get_operation, "patient")
    sample = ctx.api.sample()
    for accept in (True, False):
        exchange = ctx.api.get(sample["id"], accept=accept)
        patient = ctx.expect.patient(exchange)
        ctx.expect.that(patient["id"] == sample["id"], f"patient {sample['id']}", patient["id"], exchange)
        _shaped_like(ctx, patient, keys, "Patient", "the record", exchange)
        ctx.expect.that(
            exchange.content_type.split(";")[0].strip().lower() == "application/json",  # case-insensitive (RFC 9110)
            "Content-Type: application/json",
            exchange.content_type,
            exchange,
        )


@check("GET /patients: every item with the fields of the guide's example, on every page", writes=True)
def list_items(ctx: RunContext) -> None:
    ctx.api.ensure_patients(12)
    keys = ctx.facts.example_keys(ctx.facts.list_operation, "firstPage")
    for exchange, data, _ in ctx.api.walk():
        for item in data:
            _shaped_like(ctx, item, keys, "PatientListItem", f"list item {item.get('id')}", exchange)
        problems = ctx.facts.problems("PatientList", exchange.json())
        ctx.expect.that(not problems, "a page typed as the guide's PatientList", "; ".join(problems[:3]), exchange)


@check("a list item shows its patient as GET by id does, field for field", writes=True)
def list_items_agree(ctx: RunContext) -> None:
    """ "Returns a paginated list of patients": an item is the patient, as it is; its
    display names too ("Defaults to the patient's stored locale ... Available on all read endpoints")."""
    localized = ctx.api.created(first_name="Maria", last_name="Hoxha", locale="mk")
    archived = ctx.api.created(is_active=False)
    lists: list[tuple[dict[str, Any], int]] = [
        ({"external_id": localized["external_id"]}, 1),
        ({"external_id": archived["external_id"], "is_active": False}, 1),
        ({}, _AGREE_SAMPLE),
        ({"is_active": False}, _AGREE_SAMPLE),
    ]
    for params, sample in lists:
        data, _ = ctx.expect.listing(ctx.api.list(**params))
        of_archived = params.get("is_active") is False
        for item in data[:sample]:
            exchange = ctx.api.get(item["id"])
            if of_archived and exchange.status == 404:
                continue  # an archived patient by id may be Not Found (decided.archived_by_id)
            record = ctx.expect.patient(exchange)
            differ = {
                key: (item[key], record[key])
                for key in sorted(set(item) & set(record))
                if not _same_value(ctx, key, item[key], record[key])
            }
            ctx.expect.that(
                not differ,
                f"list item {item['id']} ({params or 'the default list'}) as its record",
                f"(list, record): {differ}",
                exchange,
            )


_AGREE_SAMPLE = 5  # items of each list read back by id


def _same_value(ctx: RunContext, key: str, listed: Any, read: Any) -> bool:
    """Equal, or the same instant for a date-time (how many decimals it shows is the timestamps decision's)."""
    if listed == read:
        return True
    if isinstance(listed, str) and isinstance(read, str) and ctx.facts.is_date_time(key):
        try:
            return datetime.fromisoformat(listed) == datetime.fromisoformat(read)
        except ValueError:
            return False
    return False


@check("expansion fields only when named in `fields`, and then those asked for", writes=True)
def expansion_fields(ctx: RunContext) -> None:
    expansion = ctx.facts.expansion_fields
    writable = [name for name in expansion if name in ctx.facts.writable]
    # Plain text fields: a value every alternative stores (an enum, as the profile may decide one, is left out).
    values = {
        name: VALID_PHONES[0] if is_phone_field(name) else f"Contract {name}"  # a server may check a phone
        for name in writable
        if ctx.facts.field(name).type == "string" and not ctx.facts.field(name, decided=True).enum
    }
    patient = ctx.api.created(**values)
    exchange = ctx.api.get(patient["id"])
    base = ctx.expect.patient(exchange)
    shown = sorted(set(base) & set(expansion))
    ctx.expect.that(not shown, "no expansion field without `fields`", f"fields {shown}", exchange)
    for asked in ([writable[0]], writable[:3], list(values)):
        asked = [name for name in asked if name in values]
        exchange = ctx.api.get(patient["id"], fields=asked)
        got = ctx.expect.patient(exchange)
        wrong = {name: got.get(name) for name in asked if got.get(name) != values[name]}
        ctx.expect.that(
            not wrong, f"the fields asked for, with their values: fields={','.join(asked)}", f"{wrong}", exchange
        )
        extra = sorted((set(got) & set(expansion)) - set(asked))
        ctx.expect.that(not extra, f"no expansion field but {asked}", f"also {extra}", exchange)
    exchange = ctx.api.list(per_page=5)
    data, _ = ctx.expect.listing(exchange)
    leaked = sorted({k for item in data for k in item} & set(expansion))
    ctx.expect.that(not leaked, "no expansion field in list items without `fields`", f"fields {leaked}", exchange)


@check(
    "lang on every read: the stored names unchanged, display names defaulting to the locale, else English", writes=True
)
def lang_on_reads(ctx: RunContext) -> None:
    with_locale = ctx.api.created(first_name="Maria", last_name="Hoxha", locale="mk")
    without = ctx.api.created(first_name="Марија", last_name="Хоџа")
    for stored, default in ((with_locale, "mk"), (without, "en")):
        plain = ctx.expect.patient(ctx.api.get(stored["id"]))
        shown_in: dict[str, tuple[Any, ...]] = {}
        for lang in ctx.facts.langs:
            exchange = ctx.api.get(stored["id"], lang=lang)
            got = ctx.expect.patient(exchange)
            shown_in[lang] = tuple(got.get(k) for k in _DISPLAY)
            for field in ("first_name", "last_name"):
                ctx.expect.that(
                    got.get(field) == stored[field],
                    f"{field} as stored with lang={lang}",
                    f"{got.get(field)!r} (stored {stored[field]!r})",
                    exchange,
                )
            ctx.expect.that(
                isinstance(got.get("display_name"), str) and bool(got["display_name"]),
                f"a display_name with lang={lang}",
                got.get("display_name"),
                exchange,
            )
            if lang == default:
                shown = {k: got.get(k) for k in _DISPLAY}
                ctx.expect.that(
                    shown == {k: plain.get(k) for k in _DISPLAY},
                    f"without lang, the display names of lang={default} (the patient's locale, else English)",
                    f"{ {k: plain.get(k) for k in _DISPLAY} } vs lang={lang}: {shown}",
                    exchange,
                )
            listed = ctx.api.list(external_id=stored["external_id"], lang=lang)
            data, _ = ctx.expect.listing(listed)
            ctx.expect.that(
                len(data) == 1 and data[0].get("display_name") == got.get("display_name"),
                f"the list's display_name as the read's with lang={lang}",
                [item.get("display_name") for item in data],
                listed,
            )
        # "localize display_name, display_first_name, and display_last_name": the three together.
        # Only a change of letters is judged; an order or punctuation of its own per lang is not.
        for lang, (name, *parts) in shown_in.items():
            for other, (other_name, *other_parts) in shown_in.items():
                ctx.expect.that(
                    _letters(name) == _letters(other_name) or parts != other_parts,
                    f"display_first_name and display_last_name localized with display_name (lang={lang}, {other})",
                    f"display_name {name!r} and {other_name!r}, both with the parts {parts}",
                )


def _letters(name: Any) -> list[str]:
    """The letters of a display name, in any order."""
    return sorted(c for c in name if c.isalpha()) if isinstance(name, str) else []
