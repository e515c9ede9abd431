"""Probes of the reads' open points: unknown `fields` and `lang` values,
unset expansion fields, how names are localized, ids that cannot be ids,
archived patients by id."""

from __future__ import annotations

import re

from ..context import RunContext
from ..registry import Observed, probe
from ._support import data_of, is_error, none_of, saw

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@probe("unknown_fields_entry")
def unknown_fields_entry(ctx: RunContext) -> Observed:
    """fields=<unknown>: refused, or ignored."""
    exchange = ctx.api.get(ctx.api.sample()["id"], fields=["contract_not_a_field"])
    if is_error(exchange, 422, "fields"):
        return saw("reject", "422 naming fields", exchange)
    if exchange.status == 200:
        return saw("ignore", "200", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("unset_expansions")
def unset_expansions(ctx: RunContext) -> Observed:
    """A requested expansion field without a value: null, or left out."""
    field = ctx.facts.expansion_fields[0]
    candidates = [ctx.api.sample()["id"]] if ctx.config.read_only else [ctx.api.created()["id"]]
    for patient_id in candidates:
        exchange = ctx.api.get(patient_id, fields=[field])
        data = data_of(exchange)
        if field not in data:
            return saw("omitted", f"{field} absent", exchange)
        if data[field] is None:
            return saw("null", f"{field}: null", exchange)
    return none_of(f"every patient looked at has a {field}", exchange)


@probe("unknown_lang")
def unknown_lang(ctx: RunContext) -> Observed:
    """lang=xx: refused, or the default language."""
    exchange = ctx.api.get(ctx.api.sample()["id"], lang="xx")
    if is_error(exchange, 422, "lang"):
        return saw("reject", "422 naming lang", exchange)
    if exchange.status == 200:
        return saw("fallback", "200", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("lang_on_me")
def lang_on_me(ctx: RunContext) -> Observed:
    """lang=xx on /me.json: checked as on every read, or ignored."""
    exchange = ctx.api.me(lang="xx")
    refused_on_reads = unknown_lang(ctx).alternative == "reject"
    if not refused_on_reads:
        # Where every read takes an unknown lang, checked and ignored look the same.
        expected = ctx.expected("lang_on_me")
        return Observed(
            expected,
            "no read refuses an unknown lang: both alternatives answer alike",
            exchange,
            alike=frozenset({"validated", "ignored"} - {expected}),
        )
    if is_error(exchange, 422, "lang"):
        return saw("validated", "422 naming lang", exchange)
    if exchange.status == 200:
        return saw("ignored", "200 while the patient reads refuse it", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("transliteration")
def transliteration(ctx: RunContext) -> Observed:
    """lang=mk on a Latin name: Cyrillic, or as stored."""
    if ctx.config.read_only:
        patient_id = ctx.api.sample()["id"]
    else:
        patient_id = ctx.api.created(first_name="Maria", last_name="Hoxha")["id"]
    exchange = ctx.api.get(patient_id, lang="mk")
    data = data_of(exchange)
    stored, shown = data.get("first_name"), data.get("display_first_name")
    if not isinstance(stored, str) or not isinstance(shown, str) or _CYRILLIC.search(stored):
        return none_of("no Latin first name and display_first_name to compare", exchange)
    if shown == stored:
        return saw("as_stored", f"display_first_name {shown!r} as stored", exchange)
    if _CYRILLIC.search(shown):
        return saw("scripts", f"{stored!r} shown as {shown!r}", exchange)
    return none_of(f"{stored!r} shown as {shown!r}", exchange)


@probe("malformed_id")
def malformed_id(ctx: RunContext) -> Observed:
    """/patients/abc: 404, or 422."""
    exchange = ctx.api.get("abc")
    if is_error(exchange, 404):
        return saw("not_found", "404", exchange)
    if is_error(exchange, 422, "id"):
        return saw("invalid", "422 naming id", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("archived_by_id")
def archived_by_id(ctx: RunContext) -> Observed:
    """An archived patient by id: read, or 404."""
    if ctx.config.read_only:
        data, _ = ctx.expect.listing(ctx.api.list(is_active=False, per_page=20))
        archived = [item["id"] for item in data if item.get("is_active") is False]
        if not archived:
            return none_of("no archived patient to read (read-only run)")
        patient_id = archived[0]
    else:
        patient_id = ctx.api.created()["id"]
        ctx.expect.patient(ctx.api.patch(patient_id, {"is_active": False}))
    exchange = ctx.api.get(patient_id)
    if exchange.status == 200 and data_of(exchange).get("id") == patient_id:
        return saw("readable", "200", exchange)
    if is_error(exchange, 404):
        return saw("not_found", "404", exchange)
    return none_of(exchange.describe_response(), exchange)
