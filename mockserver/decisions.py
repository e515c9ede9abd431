"""The kit's decisions as the mock applies them, read once at start-up.

The spec's `x-decisions` names each point the guide leaves open; a profile
(`dentare-mock --profile FILE`, `MockSettings.profile`) takes one alternative
at each, the kit's own choice where it says nothing. `load_spec` applies the
overlay actions of the chosen alternatives, so whatever validation and
shaping compile from the decided document follows them with no code. The
points that need code are read here, and only here, into two frozen sets of
typed flags:

    StoreRules  the points that live in the data; every Backend honours them
    ApiRules    how the API layer reads a request, prepares a write and answers

Point and alternative names appear in this module only, each through
`Profile.chose`, which checks both names: a point or alternative renamed in
the spec stops start-up here instead of silently taking a default. Layers
read the flags where they apply them (STYLE.md, "Decisions as data, not
forks"); no other module names a point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dentare_spec import ApiSpec, Profile, SpecError, constraints, object_shape

__all__ = ["ApiRules", "Decisions", "StoreRules", "read_decisions"]


@dataclass(frozen=True, slots=True)
class StoreRules:
    """How a backend answers at the open points that live in the data. Every
    backend honours all of them; the defaults are the kit's choices. Each says
    exactly what a backend must do, so another backend (a database) can meet
    it without reading the in-memory one."""

    #: list_order=newest_first: a list is in descending `id` order (the
    #: default: ascending), for every filter; `page` counts from the newest.
    newest_first: bool = False
    #: inactive_filter=all: `PatientQuery.is_active` False selects every
    #: patient, active or archived (the default: archived ones only). True
    #: always selects active patients only.
    inactive_lists_all: bool = False
    #: search_matching=plain: `q` matches a patient when `q.casefold()` is a
    #: substring of the casefolded first name, last name, "first last",
    #: email or personal number, as stored; or, when `q` is made of phone
    #: characters (digits, space, + - ( ) . /) and has a digit, when its
    #: digits are a substring of the digits of the stored `phone` or of
    #: `phone_e164`. No accent or script folding (the default folds both, see
    #: domain/text.py `fold`, and also looks in the national form).
    plain_search: bool = False
    #: filter_case=sensitive: the `email` and `personal_no` filters are exact
    #: string equality (the default: equality after casefolding both sides).
    #: `external_id` and `legacy_id` are exact and case-sensitive either way.
    case_sensitive_filters: bool = False
    #: phone_filter=e164_only: the `phone` filter's digits must be a substring
    #: of the digits of `phone_e164` (the default: of those, or of the
    #: national form, trunk prefix and national number). A filter without a
    #: digit matches nothing either way.
    phone_e164_only: bool = False
    #: noop_patch=touches: every accepted update moves `updated_at`, even one
    #: whose values are all as stored (the default: only a real change does).
    noop_touches: bool = False
    #: timestamps=seconds: `created_at` and `updated_at` are written in whole
    #: seconds; a write keeps `updated_at` at max(now, the stored value), both
    #: in whole seconds, so it never moves back and two writes within one
    #: second leave it at that second. The default: milliseconds, and a write
    #: that moves `updated_at` makes it strictly later (stored + 1 ms at least).
    seconds: bool = False
    #: external_id_unique=not_unique: any number of an account's patients may
    #: hold one `external_id`; no write is refused as Taken for it, and
    #: `taken_external_ids` is always empty. The default: unique within an
    #: account (Taken("external_id")); other accounts may hold the same value.
    external_id_shared: bool = False


@dataclass(frozen=True)
class ApiRules:
    """How the API layer reads requests, prepares writes and answers, at the
    open points the decided document alone cannot say. The defaults are the
    kit's choices."""

    # -- reading a request ---------------------------------------------------------------------

    #: unknown_query_params=reject: a query parameter the guide does not define
    #: for the operation is 422 `is not a permitted parameter`.
    reject_unknown_parameters: bool = False
    #: repeated_params=last_wins: of a parameter given twice the last value
    #: counts (the default: 422 `must be given only once`). Either way a
    #: comma-separated list (`fields`) given twice is joined.
    last_value_wins: bool = False
    #: invalid_paging=fallback (page, per_page), boolean_values=lenient
    #: (is_active), unknown_lang=fallback (lang), unknown_fields_entry=ignore
    #: (fields): a value of these parameters that the guide's contract does not
    #: allow (each entry, for a list) is dropped, so the default applies.
    lenient_parameters: frozenset[str] = frozenset()
    #: malformed_id=invalid: a path id that is not an integer the decided
    #: document allows is 422 under `errors.id` (the default: 404).
    malformed_id_unprocessable: bool = False
    #: content_type=lenient: a write's body is read as UTF-8 JSON whatever its
    #: Content-Type says (the default: 415 unless application/json).
    any_content_type: bool = False
    #: malformed_body=unprocessable: a body that is not JSON is 422 with the
    #: problem under `errors.base` (the default: 400).
    malformed_body_unprocessable: bool = False
    #: whitespace=trimmed: leading and trailing whitespace of each string in a
    #: write is removed before the body is validated (so blank stays blank).
    trim_whitespace: bool = False
    #: type_coercion=coerce: a write's value of another JSON type is cast as
    #: Rails casts it before validation: a number or boolean for a text field
    #: becomes its text, an integer string for an integer field its number,
    #: "true"/"false" (and "1"/"0") for a boolean field its value.
    coerce_types: bool = False

    # -- preparing a write -----------------------------------------------------------------------

    #: phone_format=normalized: `phone` is stored in E.164, as `phone_e164`.
    phone_as_e164: bool = False
    #: national_without_country=keep: a national number with no region to
    #: read it in is stored as sent, `phone_e164` null (the default: 422).
    keep_national_phones: bool = False
    #: phone_country_stored=as_sent: `phone_country` is stored as sent, case
    #: included, and only when sent (the default: derived from the number).
    phone_country_as_sent: bool = False

    # -- answering -----------------------------------------------------------------------------

    #: per_page_over_max=clamp: a larger per_page is answered as this one (the
    #: maximum of the list answer's `meta.per_page`); None: the document's
    #: request maximum refuses it.
    clamp_per_page_to: int | None = None
    #: page_past_end=not_found: a page after the last (page > 1) is 404.
    page_past_end_not_found: bool = False
    #: archived_by_id=not_found: GET of an archived patient by id is 404;
    #: PATCH still finds it, so it can be reactivated.
    archived_not_found_by_id: bool = False
    #: unsupported_methods=not_found: a method the spec does not define for a
    #: path is 404 without `Allow` (the default: 405 with `Allow`).
    undefined_methods_not_found: bool = False
    #: answer_fields=as_guide_examples: operationId -> the fields its answer's
    #: `data` carries (its guide example's keys), expansion fields aside.
    #: Empty: every answer carries every field its schema lists.
    answer_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: fields_on_list=ignored: the list answers without the fields `fields`
    #: names (the parameter is still checked as the document says).
    fields_on_list: bool = True
    #: unset_expansions=omitted: a requested expansion field at its unset
    #: value (null, or the field's empty default: false, {}, []) is left out.
    omit_unset_expansions: bool = False
    #: transliteration=as_stored: `display_*` are the names as stored,
    #: whatever `lang` says (the default: written in the script of `lang`).
    transliterate: bool = True
    #: timestamps=seconds: timestamps are written without milliseconds.
    timestamps_in_seconds: bool = False
    #: error_wording=own_words: 401, 404 and 422 say `error` in the kit's own
    #: words and the 401 challenge has a realm (api/messages.py has them).
    own_error_words: bool = False


@dataclass(frozen=True)
class Decisions:
    """A profile as the mock applies it."""

    profile: Profile
    store: StoreRules
    api: ApiRules


#: answer_fields=as_guide_examples: the guide's own example of each answer
#: whose fields the guide shows (operationId -> the name of its success
#: answer's example in the spec). The list's fields are its schema's already.
GUIDE_ANSWER_EXAMPLES = {"createPatient": "minimal", "updatePatient": "contact", "getPatient": "patient"}


def read_decisions(spec: ApiSpec) -> Decisions:
    """The flags of the profile `spec` was decided by (the kit's defaults for
    the guide's contract); SpecError when the spec lacks what a chosen
    alternative reads from it."""
    profile = spec.profile or spec.catalogue.defaults
    chose = profile.chose
    seconds = chose("timestamps", "seconds")
    lenient: set[str] = set()
    if chose("invalid_paging", "fallback"):
        lenient |= {"page", "per_page"}
    if chose("boolean_values", "lenient"):
        lenient.add("is_active")
    if chose("unknown_lang", "fallback"):
        lenient.add("lang")
    if chose("unknown_fields_entry", "ignore"):
        lenient.add("fields")
    store = StoreRules(
        newest_first=chose("list_order", "newest_first"),
        inactive_lists_all=chose("inactive_filter", "all"),
        plain_search=chose("search_matching", "plain"),
        case_sensitive_filters=chose("filter_case", "sensitive"),
        phone_e164_only=chose("phone_filter", "e164_only"),
        noop_touches=chose("noop_patch", "touches"),
        seconds=seconds,
        external_id_shared=chose("external_id_unique", "not_unique"),
    )
    api = ApiRules(
        reject_unknown_parameters=chose("unknown_query_params", "reject"),
        last_value_wins=chose("repeated_params", "last_wins"),
        lenient_parameters=frozenset(lenient),
        malformed_id_unprocessable=chose("malformed_id", "invalid"),
        any_content_type=chose("content_type", "lenient"),
        malformed_body_unprocessable=chose("malformed_body", "unprocessable"),
        trim_whitespace=chose("whitespace", "trimmed"),
        coerce_types=chose("type_coercion", "coerce"),
        phone_as_e164=chose("phone_format", "normalized"),
        keep_national_phones=chose("national_without_country", "keep"),
        phone_country_as_sent=chose("phone_country_stored", "as_sent"),
        clamp_per_page_to=_listed_per_page_maximum(spec) if chose("per_page_over_max", "clamp") else None,
        page_past_end_not_found=chose("page_past_end", "not_found"),
        archived_not_found_by_id=chose("archived_by_id", "not_found"),
        undefined_methods_not_found=chose("unsupported_methods", "not_found"),
        answer_fields=_guide_answer_fields(spec) if chose("answer_fields", "as_guide_examples") else {},
        fields_on_list=chose("fields_on_list", "honoured"),
        omit_unset_expansions=chose("unset_expansions", "omitted"),
        transliterate=chose("transliteration", "scripts"),
        timestamps_in_seconds=seconds,
        own_error_words=chose("error_wording", "own_words"),
    )
    return Decisions(profile, store, api)


def _listed_per_page_maximum(spec: ApiSpec) -> int:
    """The largest `meta.per_page` a list answers, from its response schema."""
    operation = spec.operation("listPatients")
    meta = object_shape(operation.response_schema(operation.success_status)).properties.get("meta")
    per_page = object_shape(meta).properties.get("per_page")
    maximum = constraints(per_page).maximum
    if not isinstance(maximum, int):
        raise SpecError(f"{spec.source}: per_page_over_max=clamp needs a maximum of the list's meta.per_page")
    return maximum


def _guide_answer_fields(spec: ApiSpec) -> dict[str, frozenset[str]]:
    # Fields the profile adds beyond the guide's (extra_fields=allowed) come with every answer.
    added = frozenset(object_shape(spec.schema("PatientRecord")).properties) - frozenset(
        object_shape(spec.guide_contract().schema("PatientRecord")).properties
    )
    found: dict[str, frozenset[str]] = {}
    for operation_id, example in GUIDE_ANSWER_EXAMPLES.items():
        operation = spec.operation(operation_id)
        value = operation.responses[operation.success_status].examples.get(example)
        data = value.get("data") if isinstance(value, Mapping) else None
        if not isinstance(data, Mapping):
            raise SpecError(
                f"{spec.source}: answer_fields=as_guide_examples reads the example {example!r} of "
                f"{operation.label}'s {operation.success_status} answer, which has no `data` object"
            )
        found[operation_id] = frozenset(data) | added
    return found
