"""Tests of the committed fixtures: accounts.json, patients.json and the script that writes it."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import phonenumbers
import pytest

from mockserver.domain.text import is_cyrillic
from mockserver.settings import MockSettings
from mockserver.store.generate import embg_check_digit
from mockserver.web.app import build_backend

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TOKEN = re.compile(r"^dnt_[A-Za-z0-9]{40}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

#: The guide's example patient, as the guide shows it (plus its expansion data).
MARIA = {
    "id": 4821, "account_id": 1, "first_name": "Maria", "last_name": "Hoxha",
    "email": "maria@example.com", "phone": "+355691234567", "phone_e164": "+355691234567",
    "phone_country": "AL", "birthdate": "1990-05-15", "gender": "female", "personal_no": None,
    "external_id": None, "legacy_id": None, "preferred_doctor_id": None, "locale": "sq",
    "is_active": True, "created_at": "2026-04-25T14:32:00.000Z",
    "updated_at": "2026-04-25T14:32:00.000Z", "allergies": "Penicillin",
    "medical_conditions": "Asthma", "blood_type": "A+", "emergency_contact_name": "Arben Hoxha",
    "emergency_contact_relationship": "spouse", "emergency_contact_phone": "+355682345678",
    "insurance_provider": "Sigal Uniqa", "insurance_id": "AL-2025-004821", "vip": False,
    "vip_start_date": None, "vip_expiration_date": None, "vip_notes": None,
    "preferences": {"contact_channel": "sms", "reminder_hours_before": "24"},
    "medical_issues": ["bruxism"],
}  # fmt: skip

#: The keys of a stored patient record, from the spec.
RECORD_KEYS = build_backend(MockSettings(fixtures_dir=None)).schema.record_keys


@pytest.fixture(scope="module")
def accounts() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "accounts.json").read_text(encoding="utf-8"))["accounts"]


@pytest.fixture(scope="module")
def patients() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "patients.json").read_text(encoding="utf-8"))["patients"]


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixtures_build", FIXTURES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_reproduces_patients_json() -> None:
    build = _build_script()
    committed = (FIXTURES / "patients.json").read_text(encoding="utf-8")
    assert build.render(build.build()) == committed, "run: .venv/bin/python fixtures/build.py"


# -- accounts -----------------------------------------------------------------------------


def test_three_clinics(accounts: list[dict[str, Any]]) -> None:
    assert [(a["id"], a["country"]) for a in accounts] == [(1, "AL"), (2, "MK"), (3, "XK")]
    assert all(a["name"] for a in accounts)


def test_each_account_has_an_admin(accounts: list[dict[str, Any]]) -> None:
    for account, user_id in zip(accounts, (1, 2, 3), strict=True):
        (user,) = account["users"]
        assert set(user) == {"id", "name", "email", "role", "avatar_url"}
        assert user["id"] == user_id and user["role"] == "admin" and user["name"]
        assert user["avatar_url"] == f"https://dentare.io/users/{user_id}/avatar.png"


def test_tokens_two_live_one_revoked(accounts: list[dict[str, Any]]) -> None:
    every = [t for a in accounts for t in a["tokens"]]
    assert len({t["token"] for t in every}) == len(every)
    assert len({t["id"] for t in every}) == len(every)
    assert len({t["token"][:8] for t in every}) == len(every)  # the mock's hints tell them apart
    for account in accounts:
        users = {u["id"] for u in account["users"]}
        assert Counter(t["revoked"] for t in account["tokens"]) == {False: 2, True: 1}
        for token in account["tokens"]:
            assert set(token) == {"id", "name", "user_id", "token", "revoked", "created_at"}
            assert TOKEN.match(token["token"]), token["token"]
            assert token["user_id"] in users
            assert STAMP.match(token["created_at"])
        assert {t["name"] for t in account["tokens"] if t["revoked"]} == {"Old integration"}


# -- patients -----------------------------------------------------------------------------


def test_guide_patient_is_exact(patients: list[dict[str, Any]]) -> None:
    (maria,) = [p for p in patients if p["id"] == 4821]
    assert maria == MARIA
    assert tuple(maria) == RECORD_KEYS


def test_keys_and_accounts(patients: list[dict[str, Any]]) -> None:
    for p in patients:
        assert tuple(p) == RECORD_KEYS
        assert p["account_id"] in {1, 2, 3}


def test_ids_unique_and_in_creation_order(patients: list[dict[str, Any]]) -> None:
    ids = [p["id"] for p in patients]
    assert ids == sorted(set(ids))
    created = [p["created_at"] for p in patients]
    assert created == sorted(created) and len(set(created)) == len(created)
    for p in patients:
        assert STAMP.match(p["created_at"]) and p["created_at"] <= p["updated_at"]
        assert p["updated_at"] < "2026-07-01", "fixtures must stay before any real 'now'"
        if not p["is_active"]:
            assert p["updated_at"] > p["created_at"]


def test_accounts_are_interleaved(patients: list[dict[str, Any]]) -> None:
    first_ten = {p["account_id"] for p in patients[:10]}
    assert len(first_ten) >= 2


def test_account_sizes(patients: list[dict[str, Any]]) -> None:
    counts = Counter((p["account_id"], p["is_active"]) for p in patients)
    assert counts[(1, True)] == 137  # the guide's `total: 137`
    assert counts[(1, False)] >= 1 and counts[(2, False)] >= 1 and counts[(3, False)] >= 1
    assert 35 <= counts[(2, True)] + counts[(2, False)] <= 45
    assert 25 <= counts[(3, True)] + counts[(3, False)] <= 35


@pytest.mark.parametrize("account", [1, 2, 3])
@pytest.mark.parametrize("field", ["personal_no", "external_id", "legacy_id", "phone", "email"])
def test_every_filter_finds_something(patients: list[dict[str, Any]], account: int, field: str) -> None:
    assert any(p[field] for p in patients if p["account_id"] == account and p["is_active"])


def test_external_ids_unique_per_account(patients: list[dict[str, Any]]) -> None:
    for account in (1, 2, 3):
        external = [p["external_id"] for p in patients if p["account_id"] == account and p["external_id"]]
        assert len(external) == len(set(external))
    # The guide's create example sends external_id "ext_2841": it must be free.
    assert all(p["external_id"] != "ext_2841" for p in patients)


def test_guide_email_is_only_maria(patients: list[dict[str, Any]]) -> None:
    assert [p["id"] for p in patients if p["email"] == "maria@example.com"] == [4821]


def test_phones_valid(patients: list[dict[str, Any]]) -> None:
    for p in patients:
        if p["phone"] is None:
            assert p["phone_e164"] is None
            continue
        number = phonenumbers.parse(p["phone"], p["phone_country"])
        assert phonenumbers.is_valid_number(number), p["phone"]
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == p["phone_e164"]
        assert phonenumbers.region_code_for_number(number) == p["phone_country"]


def test_embgs_valid(patients: list[dict[str, Any]]) -> None:
    embgs = [p["personal_no"] for p in patients if p["personal_no"] and len(p["personal_no"]) == 13]
    assert embgs
    for embg in embgs:
        assert embg.isdigit() and embg_check_digit(embg[:12]) == int(embg[12]), embg


def test_macedonian_clinic_has_both_scripts(patients: list[dict[str, Any]]) -> None:
    names = [f"{p['first_name']} {p['last_name']}" for p in patients if p["account_id"] == 2]
    assert {"Марија Стојановска", "Горан Трајковски"} <= set(names)
    cyrillic = sum(is_cyrillic(n) for n in names)
    assert 5 <= cyrillic < len(names) - 10
