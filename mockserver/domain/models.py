"""The mock's stored records: accounts, users, tokens and patients.

Patients are slotted objects with timestamps as integers (epoch milliseconds)
so that a million of them fit comfortably in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .timestamps import format_timestamp

__all__ = [
    "PATIENT_FIELDS",
    "Account",
    "Patient",
    "Token",
    "User",
]


@dataclass(slots=True)
class User:
    id: int
    name: str
    email: str | None = None
    role: str = "admin"
    avatar_url: str | None = None


@dataclass(slots=True)
class Token:
    id: int
    account_id: int
    user_id: int
    name: str
    token_sha256: str
    created_at: int
    revoked: bool = False
    hint: str = ""  # the token's first characters, to tell tokens apart in lists


@dataclass(slots=True)
class Account:
    id: int
    name: str
    country: str | None = None
    users: dict[int, User] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Patient:
    id: int
    account_id: int
    first_name: str
    last_name: str
    created_at: int
    updated_at: int
    email: str | None = None
    phone: str | None = None
    phone_e164: str | None = None
    phone_country: str | None = None
    birthdate: str | None = None
    gender: str | None = None
    personal_no: str | None = None
    external_id: str | None = None
    legacy_id: str | None = None
    preferred_doctor_id: int | None = None
    locale: str | None = None
    is_active: bool = True
    allergies: str | None = None
    medical_conditions: str | None = None
    blood_type: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_relationship: str | None = None
    emergency_contact_phone: str | None = None
    insurance_provider: str | None = None
    insurance_id: str | None = None
    vip: bool = False
    vip_start_date: str | None = None
    vip_expiration_date: str | None = None
    vip_notes: str | None = None
    preferences: dict[str, str] = field(default_factory=dict)
    medical_issues: list[str] = field(default_factory=list)
    # Derived, kept for search: the folded names (store/account.py).
    names_key: str = ""

    def to_record(self) -> dict[str, Any]:
        """The stored fields as JSON-ready values (export, fixtures)."""
        record = {name: getattr(self, name) for name in PATIENT_FIELDS}
        record["created_at"] = format_timestamp(self.created_at)
        record["updated_at"] = format_timestamp(self.updated_at)
        return record


PATIENT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Patient) if f.name != "names_key"
)
