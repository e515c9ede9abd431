"""What a write stores: a body that passed the schema, as the values to keep.

The checks a schema cannot express (a phone valid for its region, a region
with a numbering plan) and the derived phone fields. POST, PATCH and the CSV
import all go through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import InvalidPhone, ValidationFailed
from ..domain.phones import is_phone_region, normalize_phone
from ..domain.records import Patient
from . import messages

__all__ = ["prepare_create", "prepare_update"]


def prepare_create(body: Mapping[str, Any]) -> dict[str, Any]:
    values = _prepare(body, existing=None)
    values.setdefault("is_active", True)
    return values


def prepare_update(body: Mapping[str, Any], existing: Patient) -> dict[str, Any]:
    return _prepare(body, existing=existing)


def _prepare(body: Mapping[str, Any], existing: Patient | None) -> dict[str, Any]:
    values = dict(body)
    errors: dict[str, list[str]] = {}
    country = values.get("phone_country")
    if country is not None:
        if is_phone_region(country):
            values["phone_country"] = country = country.upper()
        else:
            errors["phone_country"] = [messages.NOT_IN_LIST]
    if "phone" in values and "phone_country" not in errors:
        phone = values["phone"]
        if phone is None:
            values["phone_e164"] = None
        else:
            hint = country if "phone_country" in values else (existing.phone_country if existing else None)
            try:
                values["phone_e164"], values["phone_country"] = normalize_phone(phone, hint)
            except InvalidPhone as exc:
                errors["phone"] = [messages.phone_message(exc.reason)]
    elif "phone_country" in values and existing is not None and existing.phone_e164:
        # The number stays, so its region stays: phone_country follows the number.
        values.pop("phone_country")
    if errors:
        raise ValidationFailed(errors)
    return values
