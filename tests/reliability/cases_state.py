"""Values a state document may not hold, because the API could not answer them:
the loader took each before (then every read of it was a 500, or the save at
exit failed). Each is (the change to one patient record, the field the 422
names, its message). Data only; used by tests/mockserver/test_control_api.py
and cases_control.py.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNANSWERABLE_PATIENTS"]


def _nested(depth: int) -> Any:
    value: Any = "v"
    for _ in range(depth):
        value = {"k": value}
    return value


# A value the loader took before, then every read of it was a 500 (or the save at exit failed).
UNANSWERABLE_PATIENTS: dict[str, tuple[dict[str, Any], str, str]] = {
    "created_at-year-10000": ({"created_at": "9999-12-31T23:00:00-05:00"}, "created_at", "is invalid"),
    "updated_at-year-10000": ({"updated_at": "9999-12-31T23:30:00-01:00"}, "updated_at", "is invalid"),
    "preferences-300-deep": ({"preferences": _nested(300)}, "preferences", "is invalid"),
    "preferences-not-an-object": ({"preferences": ["sms"]}, "preferences", "is invalid"),
    "medical_issues-not-strings": ({"medical_issues": [{"a": 1}]}, "medical_issues", "is invalid"),
    "birthdate-year-0000": ({"birthdate": "0000-01-01"}, "birthdate", "is invalid"),
    "birthdate-negative-year": ({"birthdate": "-001-01-01"}, "birthdate", "is invalid"),
    "vip_start_date-year-10000": ({"vip_start_date": "10000-01-01"}, "vip_start_date", "is invalid"),
    "vip_expiration_date-year-0000": ({"vip_expiration_date": "0000-12-31"}, "vip_expiration_date", "is invalid"),
    "phone_country-non-geographic": ({"phone_country": "001"}, "phone_country", "is invalid"),
    "phone_e164-not-e164": ({"phone_e164": "12"}, "phone_e164", "is invalid"),
    "first_name-a-number": ({"first_name": 5}, "first_name", "is invalid"),
    "first_name-blank": ({"first_name": "  "}, "first_name", "can't be blank"),
    "first_name-300-deep": ({"first_name": _nested(300)}, "first_name", "is invalid"),
    "allergies-too-long": ({"allergies": "a" * 5001}, "allergies", "is too long (maximum is 5000 characters)"),
    "preferred_doctor_id-too-big": (
        {"preferred_doctor_id": 2**40},
        "preferred_doctor_id",
        "must be less than or equal to 2147483647",
    ),
    "gender-unknown": ({"gender": "x"}, "gender", "is not included in the list"),
    "vip-a-string": ({"vip": "yes"}, "vip", "is not included in the list"),  # booleans, as the API says
    "legacy_id-a-number": ({"legacy_id": 7}, "legacy_id", "is invalid"),
}
