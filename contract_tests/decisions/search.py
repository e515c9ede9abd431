"""Probes of the search's open points: how `q` folds, the case of the filters."""

from __future__ import annotations

import secrets

from ..context import RunContext
from ..registry import Observed, probe
from ._support import listed_ids, none_of, saw


@probe("search_matching", writes=True)
def search_matching(ctx: RunContext) -> Observed:
    """q=cela... for Çela...: found (accents folded), or not."""
    mark = secrets.token_hex(3)
    patient = ctx.api.created(first_name="Contract", last_name=f"Çela{mark}")
    exchange = ctx.api.list(q=f"cela{mark}")
    ids = listed_ids(ctx, exchange)
    if patient["id"] in ids:
        return saw("folded", "q without the accent finds the name with it", exchange)
    plain = listed_ids(ctx, ctx.api.list(q=f"çela{mark}"))
    if patient["id"] in plain:
        return saw("plain", "only q with the accent finds it", exchange)
    return none_of("q finds the name neither with nor without its accent", exchange)


@probe("filter_case", writes=True)
def filter_case(ctx: RunContext) -> Observed:
    """The email filter in capitals: found, or not."""
    email = f"contract-{secrets.token_hex(4)}@example.com"
    patient = ctx.api.created(email=email)
    exchange = ctx.api.list(email=email.upper())
    ids = listed_ids(ctx, exchange)
    if ids == [patient["id"]]:
        return saw("insensitive", "the email in capitals finds it", exchange)
    if ids == []:
        return saw("sensitive", "the email in capitals finds nothing", exchange)
    return none_of(f"ids {ids}", exchange)
