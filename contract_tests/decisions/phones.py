"""Probes of the phones' open points: what `phone` holds, a national number
without phone_country, what phone_country holds, which digits the phone
filter looks in."""

from __future__ import annotations

from ..context import RunContext
from ..registry import Observed, probe
from ._support import data_of, is_error, listed_ids, none_of, saw


@probe("phone_format", writes=True)
def phone_format(ctx: RunContext) -> Observed:
    """phone after a write: as sent, or in E.164."""
    exchange = ctx.api.create(phone="+355 69 123 4567")
    phone = data_of(exchange).get("phone")
    if phone == "+355 69 123 4567":
        return saw("as_sent", "phone as sent", exchange)
    if phone == "+355691234567":
        return saw("normalized", "phone in E.164", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("national_without_country", writes=True)
def national_without_country(ctx: RunContext) -> Observed:
    """069 123 4567 without phone_country: refused, or kept unnormalized."""
    exchange = ctx.api.create(phone="069 123 4567")
    if is_error(exchange, 422, "phone"):
        return saw("reject", "422 naming phone", exchange)
    if exchange.status == 201 and data_of(exchange).get("phone_e164") is None:
        return saw("keep", "201 with phone_e164 null", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("phone_country_stored", writes=True)
def phone_country_stored(ctx: RunContext) -> Observed:
    """phone_country AL with a +389 number: the number's region, or as sent."""
    exchange = ctx.api.create(phone="+38970123456", phone_country="AL")
    patient = data_of(exchange)
    country = (
        patient.get("phone_country")
        if "phone_country" in patient
        else data_of(ctx.api.get(patient.get("id", 0))).get("phone_country")
    )
    if country == "MK":
        return saw("derived", "phone_country MK, the number's region", exchange)
    if country == "AL":
        return saw("as_sent", "phone_country AL, as sent", exchange)
    return none_of(f"phone_country {country!r}", exchange)


@probe("phone_filter", writes=True)
def phone_filter(ctx: RunContext) -> Observed:
    """The phone filter with national digits (069123): found, or not."""
    patient = ctx.api.created(phone="+355691234567")
    exchange = ctx.api.list(phone="0691234", external_id=patient["external_id"])
    ids = listed_ids(ctx, exchange)
    if ids == [patient["id"]]:
        return saw("e164_or_national", "the national form 0691234 finds +355691234567", exchange)
    if ids == []:
        return saw("e164_only", "the national form 0691234 finds nothing", exchange)
    return none_of(f"ids {ids}", exchange)
