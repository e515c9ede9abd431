"""Writes: create with the two required names, PATCH that changes only what
it is sent and clears with null, 422 for what is missing or malformed (and
nothing stored), archive with is_active=false, phones normalized to E.164,
no PUT and no DELETE, UTF-8 stored exactly.

Which fields the answers carry, what unknown fields, wrong JSON types, a
national number without phone_country, whitespace and limits the guide does
not state get, and how `updated_at` moves, are decisions; these checks hold
under each of their alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .._types import JsonObject
from ..context import RunContext
from ..registry import check
from ..transport import Exchange
from .scoping import unique_values

__all__ = ["invalid_values"]

#: Values each format refuses: the guide's date is "ISO 8601 date: YYYY-MM-DD", whatever else a date cast reads.
_FORMAT_VIOLATIONS = {"email": ("not-an-email",), "date": ("2021-02-30", "15.05.1990", "1990/05/15")}
_PATTERN_CANDIDATES = ["ABC", "A1", "!", "   "]
#: Fields a patient keeps beside its own values: derived (display_*, phone_e164, phone_country) or clocks.
_DERIVED = {"updated_at", "phone_e164", "phone_country", "display_name", "display_first_name", "display_last_name"}
#: Each country the guide names, with a mobile number as written there and its E.164 form.
COUNTRY_PHONES = {
    "AL": ("+355 69 123 4567", "069 123 4567", "+355691234567"),
    "MK": ("+389 70 123 456", "070 123 456", "+38970123456"),
    "XK": ("+383 44 123 456", "044 123 456", "+38344123456"),
}


def invalid_values(ctx: RunContext, field: str) -> Iterator[tuple[str, Any]]:
    """(class of invalid value, value) for one writable field, from what the
    guide states of it: the required names, enums, formats, patterns. Wrong
    JSON types are a decision (decided.type_coercion) and are not sent here."""
    found = ctx.facts.field(field)
    if not found.nullable:
        yield "null for a field that cannot be blank", None
    if found.enum:
        yield "a value outside the list", "not-in-the-list"
    for violation in _FORMAT_VIOLATIONS.get(found.format or "", ()):
        yield f"not a valid {found.format} ({violation})", violation
    if found.min_length:
        yield "empty", ""
    if found.patterns:
        for candidate in _PATTERN_CANDIDATES:
            if any(not re.search(p, candidate) for p in found.patterns):
                yield f"not matching {list(found.patterns)}", candidate
                break


def _own(ctx: RunContext, *patients: JsonObject) -> set[str]:
    """The guide's fields of these patients: what else a server answers (a lock_version, a
    request's timing) is its own and may move on every write or read (decided.extra_fields)."""
    known = {*ctx.facts.record_fields, *ctx.facts.expansion_fields}
    return {k for patient in patients for k in patient if k in known}


def _check_422(ctx: RunContext, exchange: Exchange, fields: list[str], what: str) -> None:
    ctx.expect.status(exchange, 422, what=f"for {what}")
    body = exchange.json()
    problems = ctx.facts.problems("ValidationError", body)
    ctx.expect.that(
        not problems,
        "the guide's 422 shape: `error`, and `errors` mapping fields to lists of messages",
        "; ".join(problems[:3]),
        exchange,
    )
    for field in fields:
        messages = body["errors"].get(field)
        ok = isinstance(messages, list) and bool(messages) and all(isinstance(m, str) and m for m in messages)
        ctx.expect.that(
            ok, f"errors.{field} as a non-empty list of messages for {what}", f"errors == {body['errors']}", exchange
        )


def _expect_not_created(ctx: RunContext, tag: str, what: str) -> None:
    for active in (True, False):
        exchange = ctx.api.list(external_id=tag, is_active=active)
        data, meta = ctx.expect.listing(exchange)
        ctx.tracker.track_listed(data, ctx.token)
        ctx.expect.that(
            meta["total"] == 0,
            f"nothing created by the refused {what}",
            f"{meta['total']} patient(s) with external_id {tag}",
            exchange,
        )


def _try_create(ctx: RunContext, body: JsonObject, fields: list[str], what: str) -> None:
    tag = body.get("external_id") if "external_id" not in fields else None
    exchange = ctx.client.post(ctx.api.list_path, token=ctx.token, json_body=body)
    ctx.tracker.track(exchange, ctx.token)
    _check_422(ctx, exchange, fields, what)
    if isinstance(tag, str):
        _expect_not_created(ctx, tag, what)


def _required(ctx: RunContext) -> JsonObject:
    return {field: "Contract" for field in ctx.facts.create_required}


@check("create: 201 with the guide's fields and the values sent, readable and listed", writes=True)
def create_patient(ctx: RunContext) -> None:
    keys = ctx.facts.example_keys(ctx.facts.create_operation, "minimal")
    for example in ({"first_name": "Maria", "last_name": "Hoxha"}, ctx.facts.create_operation.body_examples["full"]):
        for headers in ({}, {"Content-Type": "application/json; charset=utf-8"}):  # as the guide advises
            body = {**example, "external_id": ctx.tracker.new_tag()}
            exchange = ctx.api.create(headers=headers, **body)
            created = ctx.expect.patient(exchange, 201)
            missing = [k for k in keys if k not in created]
            ctx.expect.that(not missing, "every field of the guide's create answer", f"missing {missing}", exchange)
            wrong = {
                k: (v, created.get(k))
                for k, v in body.items()
                if k in created and k not in _DERIVED and k != "phone" and created.get(k) != v
            }
            ctx.expect.that(not wrong, "the values sent, in the answer", f"(sent, answered) {wrong}", exchange)
            ctx.expect.that(
                created.get("is_active", True) is True,
                '"is_active: Defaults to true"',
                created.get("is_active"),
                exchange,
            )
            read = ctx.expect.patient(ctx.api.get(created["id"]))
            mismatched = {k: (created[k], read.get(k)) for k in _own(ctx, created) if read.get(k) != created[k]}
            ctx.expect.that(not mismatched, "GET reads back what the create answered", mismatched)
    # "is_active | boolean | Defaults to true": a create may send false, and gets an archived patient
    # (found by the lists: reading an archived patient by id is a decision, archived_by_id).
    tag = ctx.tracker.new_tag()
    ctx.expect.patient(ctx.api.create(is_active=False, external_id=tag), 201)
    for is_active, count in ((False, 1), (True, 0)):
        exchange = ctx.api.list(external_id=tag, is_active=is_active)
        _, meta = ctx.expect.listing(exchange)
        ctx.expect.that(
            meta["total"] == count,
            f"a patient created with is_active: false is listed {count} time(s) with is_active={is_active}",
            f"meta.total {meta['total']}",
            exchange,
        )


@check("a missing, null or blank required name: 422 naming it, nothing created", writes=True)
def required_fields(ctx: RunContext) -> None:
    for field in ctx.facts.create_required:
        for what, value in (("missing", ...), ("null", None), ("empty", ""), ("blank", "   ")):
            body = {**_required(ctx), "external_id": ctx.tracker.new_tag()}
            if value is ...:
                del body[field]
            else:
                body[field] = value
            _try_create(ctx, body, [field], f"{what} {field} on create")
    _try_create(
        ctx, {"external_id": ctx.tracker.new_tag()}, ctx.facts.create_required, "a create without any required field"
    )


@check(
    "each malformed value the guide names (list, format, pattern) on create: 422 naming it, nothing created",
    writes=True,
)
def invalid_on_create(ctx: RunContext) -> None:
    total_before = ctx.api.total() + ctx.api.total(is_active=False)
    for field in ctx.facts.writable:
        for what, value in invalid_values(ctx, field):
            body = {**_required(ctx), "external_id": ctx.tracker.new_tag(), field: value}
            _try_create(ctx, body, [field], f"{field}: {what}")
    fields = [f for f in ctx.facts.writable if ctx.facts.field(f).enum][:2]
    body = {**_required(ctx), "external_id": ctx.tracker.new_tag(), **{f: "not-in-the-list" for f in fields}}
    _try_create(ctx, body, fields, f"two invalid fields {fields}")
    body = {**_required(ctx), "external_id": ctx.tracker.new_tag(), "phone": "+3551"}
    _try_create(ctx, body, ["phone"], "a phone number too short for any country")
    total_after = ctx.api.total() + ctx.api.total(is_active=False)
    ctx.expect.that(
        total_after == total_before,
        "no refused create added a patient",
        f"the account went from {total_before} to {total_after} patients",
    )


@check("PATCH changes only what it is sent, null clears, created_at stays; the answer is what GET reads", writes=True)
def patch_partial(ctx: RunContext) -> None:
    keys = ctx.facts.example_keys(ctx.facts.update_operation, "contact")
    values = unique_values(ctx)
    created = ctx.api.created(**values, gender="female", birthdate="1990-05-15", allergies="Latex")
    pid = created["id"]
    before = ctx.expect.patient(ctx.api.get(pid, fields=["allergies"]))
    steps: list[JsonObject] = [
        {"email": f"new-{values['email']}"},
        {"gender": None, "birthdate": None},
        {"phone": None},
        {"allergies": None},
        {"first_name": "Renamed"},
        {},
    ]
    for body in steps:
        exchange = ctx.api.patch(pid, body)
        answer = ctx.expect.patient(exchange)
        missing = [k for k in keys if k not in answer]
        ctx.expect.that(not missing, "every field of the guide's update answer", f"missing {missing}", exchange)
        read_exchange = ctx.api.get(pid, fields=["allergies"])
        after = ctx.expect.patient(read_exchange)
        for field, value in body.items():
            ctx.expect.that(
                after.get(field) == value,
                f"{field} == {value!r} after PATCH {body}",
                f"{field} == {after.get(field)!r}",
                read_exchange,
            )
        if body.get("phone", "") is None:
            ctx.expect.that(
                after.get("phone_e164") is None,
                "phone_e164 cleared with the phone",
                after.get("phone_e164"),
                read_exchange,
            )
        changed = {
            k: (before.get(k), after.get(k))
            for k in _own(ctx, before, after)
            if k not in body and k not in _DERIVED and before.get(k) != after.get(k)
        }
        ctx.expect.that(
            not changed, f"only {sorted(body)} changed by PATCH {body}", f"also changed {changed}", read_exchange
        )
        differs = {
            k: (answer[k], after.get(k)) for k in _own(ctx, answer) if k not in _DERIVED and answer[k] != after.get(k)
        }
        ctx.expect.that(not differs, "the PATCH answer holds what GET then reads", differs, exchange)
        before = after
    for field in ctx.facts.create_required:
        exchange = ctx.api.patch(pid, {field: None})
        _check_422(ctx, exchange, [field], f"PATCH clearing the required {field}")


@check("each malformed value on PATCH: 422 naming the field, the patient unchanged", writes=True)
def patch_invalid(ctx: RunContext) -> None:
    patient = ctx.api.created()
    before = ctx.expect.patient(ctx.api.get(patient["id"]))
    for field in ctx.facts.writable:
        for what, value in invalid_values(ctx, field):
            _check_422(ctx, ctx.api.patch(patient["id"], {field: value}), [field], f"PATCH {field}: {what}")
    field = next(f for f in ctx.facts.writable if ctx.facts.field(f).enum)
    exchange = ctx.api.patch(patient["id"], {"first_name": "Changed", field: "not-in-the-list"})
    _check_422(ctx, exchange, [field], "a PATCH mixing a valid and an invalid field")
    after_exchange = ctx.api.get(patient["id"])
    after = ctx.expect.patient(after_exchange)
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    ctx.expect.that(not changed, "the patient unchanged after refused PATCHes", f"changed {changed}", after_exchange)


@check("phones of each country the guide names are normalized to E.164, with or without phone_country", writes=True)
def phone_e164(ctx: RunContext) -> None:
    for country, (international, national, e164) in COUNTRY_PHONES.items():
        cases: list[dict[str, Any]] = [
            {"phone": e164},
            {"phone": international},
            {"phone": national, "phone_country": country},
        ]
        for fields in cases:
            exchange = ctx.api.create(**fields)
            got = ctx.expect.patient(exchange, 201)
            ctx.expect.that(
                got.get("phone_e164") == e164, f"phone_e164 {e164} for {fields}", got.get("phone_e164"), exchange
            )
            ctx.expect.that(
                got.get("phone") in (fields["phone"], e164),
                f"phone as sent, or normalized, for {fields}",
                got.get("phone"),
                exchange,
            )
    patient = ctx.api.created(phone=COUNTRY_PHONES["AL"][2])
    exchange = ctx.api.patch(patient["id"], {"phone": "+355 69 222 3344"})
    got = ctx.expect.patient(exchange)
    ctx.expect.that(
        got.get("phone_e164") == "+355692223344", "phone_e164 follows a changed phone", got.get("phone_e164"), exchange
    )


@check("no PUT and no DELETE: neither replaces nor deletes a patient", writes=True)
def no_put_or_delete(ctx: RunContext) -> None:
    patient = ctx.api.created()
    # Only on a patient this run created: a broken server must not get to DELETE anything else.
    before = ctx.expect.patient(ctx.api.get(patient["id"]))
    path = ctx.facts.patient_path(patient["id"])
    for method, body in (("PUT", {"first_name": "Replaced", "last_name": "Replaced"}), ("DELETE", None)):
        exchange = ctx.client.request(method, path, token=ctx.token, json_body=body)
        ctx.tracker.track(exchange, ctx.token)
        ctx.expect.that(
            400 <= exchange.status < 500, f"a refusal (4xx) for {method}", exchange.describe_response(), exchange
        )
        read = ctx.api.get(patient["id"])
        after = ctx.expect.patient(read)
        ctx.expect.that(
            after == before,
            f"the patient untouched by {method}",
            {k: (before.get(k), after.get(k)) for k in after if after.get(k) != before.get(k)},
            read,
        )


@check("names in any script are stored and returned exactly, as UTF-8", writes=True)
def utf8_round_trip(ctx: RunContext) -> None:
    for first, last in (("Марија", "Стојановска"), ("Ëndrit", "Çela"), ("Mária", "Ћирић-Hoxha")):
        exchange = ctx.api.create(
            first_name=first, last_name=last, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        created = ctx.expect.patient(exchange, 201)
        read = ctx.expect.patient(ctx.api.get(created["id"]))
        ctx.expect.that(
            (read.get("first_name"), read.get("last_name")) == (first, last),
            f"{first} {last} as sent",
            (read.get("first_name"), read.get("last_name")),
        )
        # A PATCH is a write request too: the same Content-Type, as the guide advises.
        renamed = f"{first}-{last}"
        exchange = ctx.api.patch(
            created["id"], {"first_name": renamed}, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        ctx.expect.patient(exchange)
        read = ctx.expect.patient(ctx.api.get(created["id"]))
        ctx.expect.that(read.get("first_name") == renamed, f"PATCH (charset=utf-8) renames {first} to {renamed}", read)
