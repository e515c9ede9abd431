"""Probes of the writes' open points: methods the API does not have, the
fields answers carry, unknown fields, types, uniqueness, content types,
malformed bodies, limits, whitespace, timestamps."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from ..context import RunContext
from ..registry import Observed, probe
from ._support import data_of, is_error, none_of, saw


@probe("unsupported_methods", writes=True)
def unsupported_methods(ctx: RunContext) -> Observed:
    """PUT on a patient: 405 with Allow, or 404."""
    patient = ctx.api.created()
    exchange = ctx.client.request(
        "PUT",
        ctx.facts.patient_path(patient["id"]),
        token=ctx.token,
        json_body={"first_name": "Replaced", "last_name": "Replaced"},
    )
    if is_error(exchange, 405) and exchange.response_headers.get("allow"):
        return saw("method_not_allowed", f"405, Allow: {exchange.response_headers['allow']}", exchange)
    if is_error(exchange, 404):
        return saw("not_found", "404", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("answer_fields")
def answer_fields(ctx: RunContext) -> Observed:
    """The fields of the answers: the full record, or each guide example's."""
    record = set(ctx.facts.record_fields)
    read = data_of(ctx.api.get(ctx.api.sample()["id"]))
    if ctx.config.read_only:  # the reads alone tell
        if record <= set(read):
            return saw("full", "the read carries every field of the record")
        if "preferred_doctor_id" not in read:
            return saw("as_guide_examples", "the read has no preferred_doctor_id")
        return none_of(f"the read lacks {sorted(record - set(read))}")
    created = ctx.api.create()
    written = set(data_of(created))
    example = set(ctx.facts.example_keys(ctx.facts.create_operation, "minimal"))
    if record <= written and record <= set(read):
        return saw("full", "the create and the read carry every field of the record", created)
    if written & record == example and "preferred_doctor_id" not in read:  # fields beyond the record aside
        return saw("as_guide_examples", "the create answers the fields of the guide's example", created)
    return none_of(f"the create answers {sorted(written)}", created)


@probe("extra_fields")
def extra_fields(ctx: RunContext) -> Observed:
    """Fields beyond the spec's, in a record, /me, a list and its meta, an error: none, or some."""
    guide = ctx.facts.guide
    read = ctx.api.get(ctx.api.sample()["id"])
    listing = ctx.api.list(per_page=1)
    missing = ctx.api.get(2**63 - 1)
    page = listing.json()
    for exchange, extra in (
        (read, set(data_of(read)) - set(ctx.facts.record_fields) - set(ctx.facts.expansion_fields)),
        (me := ctx.api.me(), _beyond(me.json(), guide.schema("User"))),
        (listing, _beyond(page, guide.schema("PatientList"))),
        (listing, _beyond(page.get("meta") if isinstance(page, dict) else None, guide.schema("ListMeta"))),
        (missing, _beyond(missing.json(), guide.schema("ApiError"))),
    ):
        if extra:
            return saw("allowed", f"also {sorted(extra)}", exchange)
    return saw("none", "only the fields the spec lists", read)


def _beyond(body: object, schema: Mapping[str, Any]) -> set[str]:
    """The keys of a JSON object that its schema does not list."""
    return set(body) - set(schema["properties"]) if isinstance(body, dict) else set()


@probe("unknown_body_fields", writes=True)
def unknown_body_fields(ctx: RunContext) -> Observed:
    """An unknown field in a create: refused, or dropped."""
    exchange = ctx.api.create(contract_unknown_field="x")
    if is_error(exchange, 422, "contract_unknown_field"):
        return saw("reject", "422 naming the field", exchange)
    if exchange.status == 201 and "contract_unknown_field" not in data_of(exchange):
        return saw("ignore", "201 without the field", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("type_coercion", writes=True)
def type_coercion(ctx: RunContext) -> Observed:
    """A number for a name: refused, or read as its text."""
    exchange = ctx.api.create(first_name=12345)
    if is_error(exchange, 422, "first_name"):
        return saw("reject", "422 naming first_name", exchange)
    if exchange.status == 201 and data_of(exchange).get("first_name") == "12345":
        return saw("coerce", 'first_name 12345 stored as "12345"', exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("external_id_unique", writes=True)
def external_id_unique(ctx: RunContext) -> Observed:
    """Two patients with one external_id: the second refused, or both kept."""
    first = ctx.api.created()
    exchange = ctx.api.create(external_id=first["external_id"])
    if is_error(exchange, 422, "external_id"):
        return saw("per_account", "422 naming external_id", exchange)
    if exchange.status == 201:
        return saw("not_unique", "201", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("content_type", writes=True)
def content_type(ctx: RunContext) -> Observed:
    """A JSON body sent as text/plain: 415, or read as JSON."""
    body = f'{{"first_name": "Contract", "last_name": "Type", "external_id": "{ctx.tracker.new_tag()}"}}'
    exchange = ctx.client.post(
        ctx.api.list_path, token=ctx.token, raw_body=body.encode(), headers={"Content-Type": "text/plain"}
    )
    ctx.tracker.track(exchange, ctx.token)
    if is_error(exchange, 415):
        return saw("reject", "415", exchange)
    if exchange.status == 201:
        return saw("lenient", "201", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("malformed_body", writes=True)
def malformed_body(ctx: RunContext) -> Observed:
    """A body that is not JSON: 400, or 422."""
    exchange = ctx.client.post(
        ctx.api.list_path, token=ctx.token, raw_body=b"{", headers={"Content-Type": "application/json"}
    )
    if is_error(exchange, 400):
        return saw("bad_request", "400", exchange)
    if is_error(exchange, 422):
        return saw("unprocessable", "422", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("text_limits", writes=True)
def text_limits(ctx: RunContext) -> Observed:
    """A 256-character name: refused, or stored."""
    exchange = ctx.api.create(first_name="a" * 256)
    if is_error(exchange, 422, "first_name"):
        return saw("kit", "422 naming first_name", exchange)
    if exchange.status == 201:
        return saw("none", "201", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("value_ranges", writes=True)
def value_ranges(ctx: RunContext) -> Observed:
    """blood_type C+: refused, or stored."""
    exchange = ctx.api.create(blood_type="C+")
    if is_error(exchange, 422, "blood_type"):
        return saw("kit", "422 naming blood_type", exchange)
    if exchange.status == 201:
        return saw("open", "201", exchange)
    return none_of(exchange.describe_response(), exchange)


@probe("whitespace", writes=True)
def whitespace(ctx: RunContext) -> Observed:
    """A name with spaces around it: stored as sent, or trimmed."""
    exchange = ctx.api.create(first_name="  Ana  ")
    name = data_of(exchange).get("first_name")
    if exchange.status == 201 and name == "  Ana  ":
        return saw("as_sent", "stored with its spaces", exchange)
    if exchange.status == 201 and name == "Ana":
        return saw("trimmed", "stored as 'Ana'", exchange)
    return none_of(exchange.describe_response(), exchange)


_MILLIS = re.compile(r"\.[0-9]{3}Z$")
_SECONDS = re.compile(r":[0-9]{2}Z$")


@probe("timestamps")
def timestamps(ctx: RunContext) -> Observed:
    """created_at: milliseconds, or whole seconds."""
    exchange = ctx.api.create() if not ctx.config.read_only else ctx.api.get(ctx.api.sample()["id"])
    stamp = data_of(exchange).get("created_at") or data_of(exchange).get("updated_at")
    if isinstance(stamp, str) and _MILLIS.search(stamp):
        return saw("milliseconds", stamp, exchange)
    if isinstance(stamp, str) and _SECONDS.search(stamp):
        return saw("seconds", stamp, exchange)
    return none_of(f"created_at {stamp!r}", exchange)


@probe("noop_patch", writes=True)
def noop_patch(ctx: RunContext) -> Observed:
    """A PATCH that changes nothing: updated_at kept, or moved."""
    patient = ctx.api.created()
    before = ctx.expect.patient(ctx.api.get(patient["id"])).get("updated_at")
    time.sleep(1.1)  # a clock of whole seconds must be able to move
    exchange = ctx.api.patch(patient["id"], {})
    after = ctx.expect.patient(ctx.api.get(patient["id"])).get("updated_at")
    time.sleep(1.1)
    changed = ctx.api.patch(patient["id"], {"first_name": "Changed"})
    moved = ctx.expect.patient(ctx.api.get(patient["id"])).get("updated_at")
    if moved == after:  # both alternatives move it on a real change
        return none_of(f"updated_at stays {moved} even when a value changes", changed)
    if before == after:
        return saw("keeps_updated_at", f"updated_at stays {after} on an empty PATCH, moves on a change", exchange)
    return saw("touches", f"updated_at {before} -> {after} on an empty PATCH", exchange)
