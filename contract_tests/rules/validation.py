"""The 422 format: every invalid input is refused the same way, and changes nothing.

The invalid values are derived from the spec's schemas: for each writable
field, one value per constraint it declares (type, enum, format, maxLength,
pattern, minimum/maximum, not-null), plus unknown and read-only fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..client import Exchange
from ..context import RunContext
from ..registry import rule, writes
from ..types import JsonObject

__all__ = ["invalid_values"]

_WRONG_TYPE = {"string": 12345, "integer": "abc", "boolean": "maybe", "number": "abc"}
_FORMAT_VIOLATIONS = {"email": "not-an-email", "date": "2021-02-30", "date-time": "yesterday"}
_PATTERN_CANDIDATES = ["A1", "ABC", "x\x01y", "   ", "!"]


def invalid_values(ctx: RunContext, field: str) -> Iterator[tuple[str, Any]]:
    """(class of invalid value, value) pairs for one writable field, from its schema."""
    schema = ctx.spec.field_schema(field)
    kind = schema.get("type")
    if kind in _WRONG_TYPE:
        yield f"wrong type ({type(_WRONG_TYPE[kind]).__name__} for {kind})", _WRONG_TYPE[kind]
    if not schema["nullable"]:
        yield "null for a field that cannot be blank", None
    if "enum" in schema:
        yield "a value outside the enum", "not-in-the-list"
    if schema.get("format") in _FORMAT_VIOLATIONS:
        yield f"not a valid {schema['format']}", _FORMAT_VIOLATIONS[schema["format"]]
    if "maxLength" in schema:
        yield f"longer than maxLength {schema['maxLength']}", "x" * (int(schema["maxLength"]) + 1)
    if schema.get("minLength"):
        yield "empty (minLength)", ""
    patterns = schema.get("patterns", [])
    if patterns:
        for candidate in _PATTERN_CANDIDATES:
            if any(not re.search(p, candidate) for p in patterns) and len(candidate) <= schema.get("maxLength", 99):
                yield f"not matching the pattern {patterns}", candidate
                break
    if "minimum" in schema:
        yield f"below the minimum {schema['minimum']}", int(schema["minimum"]) - 1
    if "maximum" in schema:
        yield f"above the maximum {schema['maximum']}", int(schema["maximum"]) + 1


def _check_422(ctx: RunContext, name: str, exchange: Exchange, fields: list[str], what: str) -> None:
    body = exchange.json()
    ctx.expect(name, exchange.status == 422, f"422 for {what}", exchange.describe_response(), exchange)
    errors = ctx.spec.component_validator("ValidationError").iter_errors(body)
    problems = [f"{e.message} at /{'/'.join(map(str, e.instance_path))}" for e in errors]
    ctx.expect(
        name,
        not problems,
        f"the ValidationError shape: error '{ctx.spec.validation_error_message}', errors "
        "mapping fields to non-empty lists of strings",
        "; ".join(problems[:3]),
        exchange,
    )
    for field in fields:
        messages = body["errors"].get(field)
        ok = isinstance(messages, list) and bool(messages) and all(isinstance(m, str) and m for m in messages)
        ctx.expect(
            name,
            ok,
            f"errors.{field} as a non-empty list of messages for {what}",
            f"errors == {body['errors']}",
            exchange,
        )


def _required(ctx: RunContext) -> JsonObject:
    return {field: "Contract" for field in ctx.spec.create_required}


def _expect_not_created(ctx: RunContext, name: str, tag: str, what: str) -> None:
    for active in (True, False):
        exchange = ctx.list_patients(external_id=tag, is_active=active)
        data, meta = ctx.expect_list(name, exchange)
        ctx.track_list(data)
        ctx.expect(
            name,
            meta["total"] == 0,
            f"nothing created by the refused {what}",
            f"{meta['total']} patient(s) with external_id {tag}",
            exchange,
        )


def _try_create(ctx: RunContext, name: str, body: JsonObject, fields: list[str], what: str) -> None:
    # The tag finds a wrongly created patient, unless external_id is the field under test.
    tag = body["external_id"] if "external_id" not in fields and isinstance(body.get("external_id"), str) else None
    exchange = ctx.client.post(ctx.list_path, token=ctx.token, json_body=body)
    ctx.track(exchange, ctx.token)
    _check_422(ctx, name, exchange, fields, what)
    if tag is not None:
        _expect_not_created(ctx, name, tag, what)


@rule("validation.required_fields", "a missing, null or blank required field: 422 naming it, nothing created")
@writes
def required_fields(ctx: RunContext) -> None:
    name = "validation.required_fields"
    for field in ctx.spec.create_required:
        for what, value in (("missing", ...), ("null", None), ("empty", ""), ("blank", "   ")):
            body = {**_required(ctx), "external_id": ctx.new_tag()}
            if value is ...:
                del body[field]
            else:
                body[field] = value
            _try_create(ctx, name, body, [field], f"{what} {field} on create")
    body = {"external_id": ctx.new_tag()}
    _try_create(ctx, name, body, ctx.spec.create_required, "a create without any required field")


@rule("validation.invalid_values", "each class of invalid value on create: 422 naming the field, nothing created")
@writes
def invalid_values_on_create(ctx: RunContext) -> None:
    name = "validation.invalid_values"
    total_before = _grand_total(ctx, name)
    for field in ctx.spec.writable:
        for what, value in invalid_values(ctx, field):
            body = {**_required(ctx), "external_id": ctx.new_tag(), field: value}
            _try_create(ctx, name, body, [field], f"{field}: {what}")
    for field in ["contract_unknown_field", *ctx.spec.read_only_fields]:
        body = {**_required(ctx), "external_id": ctx.new_tag(), field: "1"}
        _try_create(ctx, name, body, [field], f"the not permitted field {field}")
    # Two bad fields at once: both are named.
    fields = [f for f in ctx.spec.writable if ctx.spec.field_schema(f).get("enum")][:2]
    body = {**_required(ctx), "external_id": ctx.new_tag(), **{f: "not-in-the-list" for f in fields}}
    _try_create(ctx, name, body, fields, f"two invalid fields {fields}")
    # A body that is JSON but not an object: reported under `base`.
    exchange = ctx.client.post(ctx.list_path, token=ctx.token, json_body=[])
    _check_422(ctx, name, exchange, ["base"], "a JSON array as the body")
    # A duplicate external_id within the account.
    taken = ctx.created_patient(name)["external_id"]
    exchange = ctx.client.post(ctx.list_path, token=ctx.token, json_body={**_required(ctx), "external_id": taken})
    ctx.track(exchange, ctx.token)
    _check_422(ctx, name, exchange, ["external_id"], "an external_id already taken in the account")
    total_after = _grand_total(ctx, name)
    ctx.expect(
        name,
        total_after == total_before + 1,
        "only the one valid create added a patient",
        f"meta.total went from {total_before} to {total_after}",
    )


def _grand_total(ctx: RunContext, name: str) -> int:
    totals = []
    for active in (True, False):
        _, meta = ctx.expect_list(name, ctx.list_patients(per_page=1, is_active=active))
        totals.append(meta["total"])
    return sum(totals)


@rule("validation.patch_invalid", "each class of invalid value on PATCH: 422 naming the field, nothing changed")
@writes
def patch_invalid(ctx: RunContext) -> None:
    name = "validation.patch_invalid"
    patient = ctx.created_patient(name)
    before = ctx.expect_patient(name, ctx.get_patient(patient["id"]))
    for field in ctx.spec.writable:
        for what, value in invalid_values(ctx, field):
            exchange = ctx.patch_patient(patient["id"], {field: value})
            _check_422(ctx, name, exchange, [field], f"PATCH {field}: {what}")
    for field in ["contract_unknown_field", *ctx.spec.read_only_fields]:
        exchange = ctx.patch_patient(patient["id"], {field: "1"})
        _check_422(ctx, name, exchange, [field], f"PATCH of the not permitted field {field}")
    # A valid change next to an invalid one is not applied either.
    exchange = ctx.patch_patient(patient["id"], {"first_name": "Changed", "contract_unknown_field": 1})
    _check_422(ctx, name, exchange, ["contract_unknown_field"], "a PATCH mixing a valid and an invalid field")
    after_exchange = ctx.get_patient(patient["id"])
    after = ctx.expect_patient(name, after_exchange)
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    ctx.expect(name, not changed, "the patient unchanged after refused PATCHes", f"changed {changed}", after_exchange)


@rule("validation.query_params", "invalid query parameters on every read: 422 naming the parameter")
def query_params(ctx: RunContext) -> None:
    name = "validation.query_params"
    sample = ctx.sample_patient(name)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (ctx.list_path, {"is_active": "maybe"}, "is_active"),
        (ctx.list_path, {"fields": "contract_not_a_field"}, "fields"),
        (ctx.list_path, {"lang": "xx"}, "lang"),
        (ctx.patient_path(sample["id"]), {"fields": "contract_not_a_field"}, "fields"),
        (ctx.patient_path(sample["id"]), {"lang": "xx"}, "lang"),
        (ctx.spec.me_operation.path, {"lang": "xx"}, "lang"),
    ]
    for path, params, field in cases:
        exchange = ctx.client.get(path, token=ctx.token, params=params)
        _check_422(ctx, name, exchange, [field], f"GET {path} with {params}")
