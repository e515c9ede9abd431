"""What a write stores: a body that passed the schema, as the values to keep.

The checks a schema cannot express (a phone valid for its region, a region
with a numbering plan) and the derived phone fields, as `ApiRules` say
(phone_format, national_without_country, phone_country_stored). POST, PATCH
and the CSV import all go through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import InvalidPhone, ValidationFailed
from ..decisions import ApiRules
from ..domain.phones import is_phone_region, normalize_phone
from ..domain.records import Patient
from . import messages

__all__ = ["prepare_create", "prepare_update"]

_KIT = ApiRules()


def prepare_create(body: Mapping[str, Any], rules: ApiRules = _KIT) -> dict[str, Any]:
    values = _prepare(body, None, rules)
    values.setdefault("is_active", True)
    return values


def prepare_update(body: Mapping[str, Any], existing: Patient, rules: ApiRules = _KIT) -> dict[str, Any]:
    return _prepare(body, existing, rules)


def _prepare(body: Mapping[str, Any], existing: Patient | None, rules: ApiRules) -> dict[str, Any]:
    values = dict(body)
    errors: dict[str, list[str]] = {}
    country = values.get("phone_country")
    if country is not None:
        if is_phone_region(country):
            country = country.upper()
            if not rules.phone_country_as_sent:
                values["phone_country"] = country
        else:
            errors["phone_country"] = [messages.NOT_IN_LIST]
    if "phone" in values and "phone_country" not in errors:
        phone = values["phone"]
        if phone is None:
            values["phone_e164"] = None
        else:
            hint = country if "phone_country" in values else (existing.phone_country if existing else None)
            try:
                e164, region = normalize_phone(phone, hint)
            except InvalidPhone as exc:
                if exc.reason == "no_country" and rules.keep_national_phones:
                    values["phone_e164"] = None  # stored as sent: nothing to read it in
                else:
                    errors["phone"] = [messages.phone_message(exc.reason)]
            else:
                values["phone_e164"] = e164
                if not rules.phone_country_as_sent:
                    values["phone_country"] = region
                if rules.phone_as_e164:
                    values["phone"] = e164
    elif "phone_country" in values and existing is not None and existing.phone_e164 and not rules.phone_country_as_sent:
        # The number stays, so its region stays: phone_country follows the number.
        values.pop("phone_country")
    if errors:
        raise ValidationFailed(errors)
    return values
