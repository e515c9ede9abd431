"""Schemathesis checks of our own, loaded by tests/reliability/schemathesis.toml.

`positive_data_acceptance` is configured to let a schema-valid request get a
422, because the spec has business rules a schema cannot say (a phone number
valid for its country, a region with a numbering plan, `external_id` unique
in the account). `rejected_only_by_business_rules` takes that back for
everything else: a schema-valid request may only be refused over those fields.
"""

from __future__ import annotations

import re

import schemathesis

# Fields whose 422 on schema-valid data the spec documents (see PatientWritable,
# Phone and CountryCode), and the messages it gives for them.
BUSINESS_RULES = {
    "phone": re.compile(r"is invalid|needs a country code or phone_country"),
    "phone_country": re.compile(r"is not included in the list"),
    "external_id": re.compile(r"has already been taken"),
}
_EMPTY_FIELDS = re.compile(r"[?&]fields=(&|$)")
INTERNALS = re.compile(r"Traceback|File \"|\.py\b|site-packages|/work/|/home/|/usr/lib", re.IGNORECASE)


@schemathesis.check
def rejected_only_by_business_rules(ctx, response, case):  # type: ignore[no-untyped-def]
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    errors = response.json().get("errors", {})
    unexpected = {
        field: messages for field, messages in errors.items()
        if field not in BUSINESS_RULES or not all(BUSINESS_RULES[field].fullmatch(m) for m in messages)
    }  # fmt: skip
    if unexpected:
        raise AssertionError(f"Schema-valid request refused for something other than a business rule: {unexpected}")
    return None


@schemathesis.check
def no_internals_in_responses(ctx, response, case):  # type: ignore[no-untyped-def]
    if INTERNALS.search(response.text or ""):
        raise AssertionError("The response shows a stack trace or an internal path")
    return None


@schemathesis.check
def errors_are_json_objects_with_a_message(ctx, response, case):  # type: ignore[no-untyped-def]
    if response.status_code < 400 or case.method == "HEAD":
        return None
    body = response.json()
    if not (isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]):
        raise AssertionError(f'An error body must be {{"error": "<message>", ...}}, got {response.text[:200]!r}')
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response):  # type: ignore[no-untyped-def]
    """Keep every failure but one serialization ambiguity: schemathesis' negative
    `fields: [""]` is sent as `?fields=`, which with `style: form, explode: false`
    is also how the empty list is written; the mock reads it as the empty list
    (no expansion field), a valid request. Any other invalid part is kept."""
    ambiguous = (
        failure.code == "ST201"
        and failure.message.count("Invalid component") == 1
        and "parameter `fields` in query" in failure.message
        and _EMPTY_FIELDS.search(str(response.request.url)) is not None
    )
    return not ambiguous
