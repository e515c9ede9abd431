"""The business logic of each operation, registered by operationId.

Handlers are plain functions of a `RequestContext`. They hold only what the
spec cannot say: scoping to the token's account, phone normalization, search,
localization. Routing, validation and response shapes come from the spec.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ._exceptions import ValidationFailed
from .models import Patient, format_timestamp
from .phones import InvalidPhone, is_phone_region, normalize_phone
from .store import PatientQuery, Principal, Store
from .text import localize

__all__ = ["HANDLERS", "Reply", "RequestContext", "operation", "prepare_create"]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


@dataclass(slots=True)
class RequestContext:
    store: Store
    principal: Principal
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    read_body: Callable[[], dict[str, Any]]

    def body(self) -> dict[str, Any]:
        """The validated JSON body (415, 400 and 422 are raised from here)."""
        return self.read_body()


Handler = Callable[[RequestContext], Reply]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    """Register `handler` as the implementation of the spec's `operation_id`."""

    def register(handler: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(f"operation {operation_id!r} has two handlers")
        HANDLERS[operation_id] = handler
        return handler

    return register


@operation("getMe")
def get_me(ctx: RequestContext) -> Reply:
    user = ctx.principal.user
    return Reply(200, {
        "id": user.id,
        "name": user.name,
        "avatar_url": user.avatar_url or f"https://dentare.io/users/{user.id}/avatar.png",
        "sgid": _signed_global_id(user.id),
    })


@operation("listPatients")
def list_patients(ctx: RequestContext) -> Reply:
    query = ctx.query
    patients, total = ctx.store.list_patients(
        ctx.principal.account_id,
        PatientQuery(
            is_active=query["is_active"],
            q=query.get("q"),
            email=query.get("email"),
            phone=query.get("phone"),
            personal_no=query.get("personal_no"),
            external_id=query.get("external_id"),
            legacy_id=query.get("legacy_id"),
        ),
        page=query["page"],
        per_page=query["per_page"],
    )
    fields, lang = query.get("fields", ()), query.get("lang")
    return Reply(200, {
        "data": [patient_view(p, lang, fields) for p in patients],
        "meta": {"page": query["page"], "per_page": query["per_page"], "total": total},
    })


@operation("getPatient")
def get_patient(ctx: RequestContext) -> Reply:
    patient = ctx.store.get_patient(ctx.principal.account_id, ctx.path["id"])
    return Reply(200, {"data": patient_view(patient, ctx.query.get("lang"), ctx.query.get("fields", ()))})


@operation("createPatient")
def create_patient(ctx: RequestContext) -> Reply:
    values = prepare_create(ctx.body())
    patient = ctx.store.create_patient(ctx.principal.account_id, values)
    return Reply(201, {"data": patient_view(patient, None, ())})


@operation("updatePatient")
def update_patient(ctx: RequestContext) -> Reply:
    account_id = ctx.principal.account_id
    existing = ctx.store.get_patient(account_id, ctx.path["id"])  # 404 before any body error
    changes = _prepare_write(ctx.body(), existing=existing)
    patient = ctx.store.update_patient(account_id, existing.id, changes)
    return Reply(200, {"data": patient_view(patient, None, ())})


_DISPLAY_LANGUAGES = frozenset({"en", "sq", "mk"})


def patient_view(p: Patient, lang: str | None, fields: Sequence[str]) -> dict[str, Any]:
    """Every field a patient answer may carry; the response schema picks its own."""
    language = lang or p.locale or "en"
    if language not in _DISPLAY_LANGUAGES:  # a spec may accept more; display falls back to Latin
        language = "en"
    first, last = _localized(p.first_name, language), _localized(p.last_name, language)
    view = {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "display_name": f"{first} {last}",
        "display_first_name": first,
        "display_last_name": last,
        "email": p.email,
        "phone": p.phone,
        "phone_e164": p.phone_e164,
        "phone_country": p.phone_country,
        "birthdate": p.birthdate,
        "gender": p.gender,
        "personal_no": p.personal_no,
        "external_id": p.external_id,
        "legacy_id": p.legacy_id,
        "preferred_doctor_id": p.preferred_doctor_id,
        "locale": p.locale,
        "is_active": p.is_active,
        "created_at": _timestamp(p.created_at),
        "updated_at": _timestamp(p.updated_at),
    }
    for name in fields:
        view[name] = getattr(p, name)
    return view


# Hot-path helpers. Formatting the two timestamps and transliterating the two
# names were two thirds of a 20-item list page (py-spy); both give exactly what
# `format_timestamp` and `localize` give (tests/mockserver/test_validation_equivalence.py).
_localized = lru_cache(maxsize=1 << 16)(localize)  # names repeat a lot; the cache is bounded
_DAY_PREFIX: dict[int, str] = {}
_CLOCK: list[str | None] = [None] * 86_400  # "HH:MM:SS." per second of the day, made when first needed
_MILLIS = [f"{millis:03d}Z" for millis in range(1000)]


@lru_cache(maxsize=1 << 16)  # a page read again formats nothing (bounded: ~6 MB at most)
def _timestamp(epoch_ms: int) -> str:
    """`format_timestamp(epoch_ms)`, from a per-day date and a per-second clock string."""
    seconds, millis = divmod(epoch_ms, 1000)
    day, second_of_day = divmod(seconds, 86_400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        if len(_DAY_PREFIX) >= 100_000:  # ~270 years of distinct days; keeps memory bounded
            _DAY_PREFIX.clear()
        midnight = format_timestamp(day * 86_400_000)
        prefix = _DAY_PREFIX[day] = midnight[: midnight.index("T") + 1]  # "YYYY-MM-DDT" (any year width)
    clock = _CLOCK[second_of_day]
    if clock is None:
        hours, rest = divmod(second_of_day, 3600)
        minutes, secs = divmod(rest, 60)
        clock = _CLOCK[second_of_day] = f"{hours:02d}:{minutes:02d}:{secs:02d}."
    return f"{prefix}{clock}{_MILLIS[millis]}"


def prepare_create(body: Mapping[str, Any]) -> dict[str, Any]:
    """A schema-valid create body as the values to store, or a 422; the POST
    handler and the CSV import (csv_import.py) both go through here."""
    values = _prepare_write(body, existing=None)
    values.setdefault("is_active", True)
    return values


def _prepare_write(body: Mapping[str, Any], existing: Patient | None) -> dict[str, Any]:
    """Checks the schema cannot express (phone validity, region codes) and the
    derived phone fields."""
    values = dict(body)
    errors: dict[str, list[str]] = {}
    country = values.get("phone_country")
    if country is not None:
        if is_phone_region(country):
            values["phone_country"] = country = country.upper()
        else:
            errors["phone_country"] = ["is not included in the list"]
    if "phone" in values and "phone_country" not in errors:
        phone = values["phone"]
        if phone is None:
            values["phone_e164"] = None
        else:
            hint = country if "phone_country" in values else (existing.phone_country if existing else None)
            try:
                values["phone_e164"], values["phone_country"] = normalize_phone(phone, hint)
            except InvalidPhone as exc:
                errors["phone"] = [exc.message]
    elif "phone_country" in values and existing is not None and existing.phone_e164:
        # The number stays, so its region stays: phone_country follows the number.
        values.pop("phone_country")
    if errors:
        raise ValidationFailed(errors)
    return values


def _signed_global_id(user_id: int) -> str:
    """A stand-in for Rails' signed global id: opaque, stable, safe to ignore."""
    payload = base64.b64encode(f'{{"gid":"gid://dentare/User/{user_id}"}}'.encode()).decode()
    digest = hashlib.sha256(f"dentare-mock:{payload}".encode()).hexdigest()[:40]
    return f"{payload}--{digest}"
