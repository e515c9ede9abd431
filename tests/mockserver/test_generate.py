"""Tests of mockserver.generate: shape, determinism and validity of generated patients."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date

import phonenumbers
import pytest

from mockserver.domain.text import is_cyrillic
from mockserver.settings import MockSettings
from mockserver.store.generate import embg_check_digit, generate_patients
from mockserver.web.app import build_backend

BLOOD_TYPES = {"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ASCII_EMAIL = re.compile(r"^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}$")

#: The keys of a stored patient record, from the spec.
RECORD_KEYS = build_backend(MockSettings(fixtures_dir=None)).schema.record_keys


def _records(n: int = 3000, **kwargs: object) -> list[dict]:
    args: dict = {"seed": 42, "account_id": 1, "start_id": 1000, **kwargs}
    return list(generate_patients(n, **args))


@pytest.fixture(scope="module", params=["AL", "XK", "MK", None])
def records(request: pytest.FixtureRequest) -> list[dict]:
    return _records(country=request.param)


def test_same_seed_same_bytes() -> None:
    a = json.dumps(_records(2000, country=None), ensure_ascii=False)
    b = json.dumps(_records(2000, country=None), ensure_ascii=False)
    assert a == b


def test_another_seed_other_patients() -> None:
    assert _records(50, seed=1) != _records(50, seed=2)


def test_keys_and_ids(records: list[dict]) -> None:
    for offset, record in enumerate(records):
        assert tuple(record) == RECORD_KEYS
        assert record["id"] == 1000 + offset
        assert record["account_id"] == 1


def test_values_have_their_types(records: list[dict]) -> None:
    for r in records:
        assert r["first_name"].strip() and r["last_name"].strip()
        assert r["gender"] in {"male", "female", "other", None}
        assert r["locale"] in {"en", "sq", "mk", None}
        assert r["blood_type"] in BLOOD_TYPES | {None}
        assert isinstance(r["is_active"], bool) and isinstance(r["vip"], bool)
        assert isinstance(r["preferences"], dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in r["preferences"].items())
        assert isinstance(r["medical_issues"], list)
        assert all(isinstance(x, str) for x in r["medical_issues"])
        if r["birthdate"] is not None:
            date.fromisoformat(r["birthdate"])
        if r["vip"]:
            assert r["vip_start_date"] < r["vip_expiration_date"]
            assert r["vip_notes"]
        else:
            assert r["vip_start_date"] is r["vip_expiration_date"] is r["vip_notes"] is None
        if r["email"] is not None:
            assert ASCII_EMAIL.match(r["email"]), r["email"]
        if r["legacy_id"] is not None:
            assert re.fullmatch(r"LEG-\d{5}", r["legacy_id"])
        if r["preferred_doctor_id"] is not None:
            assert isinstance(r["preferred_doctor_id"], int)


def test_mutable_values_are_not_shared(records: list[dict]) -> None:
    assert len({id(r["preferences"]) for r in records}) == len(records)
    assert len({id(r["medical_issues"]) for r in records}) == len(records)


def test_timestamps_rise_with_id(records: list[dict]) -> None:
    previous = ""
    for r in records:
        assert STAMP.match(r["created_at"]) and STAMP.match(r["updated_at"])
        assert r["created_at"] > previous
        assert r["updated_at"] >= r["created_at"]
        assert "2026-07-01T00:00:00.000Z" <= r["created_at"] < "2026-11-01T00:00:00.000Z"
        assert r["updated_at"] <= "2026-11-01T00:00:00.000Z"
        if not r["is_active"]:
            assert r["updated_at"] > r["created_at"]  # archiving is an edit
        previous = r["created_at"]


def test_window_is_configurable() -> None:
    rs = _records(100, since="2025-01-01T00:00:00Z", until="2025-02-01T00:00:00Z")
    assert all("2025-01-01" <= r["created_at"] <= r["updated_at"] <= "2025-02-01" for r in rs)


def test_edits_may_follow_the_creation_window() -> None:
    rs = _records(200, since="2025-01-01T00:00:00Z", until="2025-01-02T00:00:00Z",
                  updated_until="2025-06-01T00:00:00Z")  # fmt: skip
    assert all(r["created_at"] < "2025-01-02" for r in rs)
    assert all(r["updated_at"] <= "2025-06-01T00:00:00.000Z" for r in rs)
    assert any(r["updated_at"] > "2025-01-02" for r in rs)


def test_phones_are_valid_and_normalized(records: list[dict]) -> None:
    """phonenumbers agrees with every number; the generator never calls it."""
    for r in records:
        if r["phone"] is None:
            assert r["phone_e164"] is r["phone_country"] is None
            continue
        assert r["phone_country"] in {"AL", "XK", "MK"}
        number = phonenumbers.parse(r["phone"], r["phone_country"])
        assert phonenumbers.is_valid_number(number), r["phone"]
        assert phonenumbers.region_code_for_number(number) == r["phone_country"]
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == r["phone_e164"]
        if r["emergency_contact_phone"] is not None:
            contact = phonenumbers.parse(r["emergency_contact_phone"], None)
            assert phonenumbers.is_valid_number(contact), r["emergency_contact_phone"]


def test_phone_notations_vary() -> None:
    phones = [r["phone"] for r in _records(2000) if r["phone"]]
    assert any(p.startswith("+") and " " not in p for p in phones)
    assert any(p.startswith("0") and " " in p for p in phones)


def _embg_valid(number: str) -> bool:
    return len(number) == 13 and number.isdigit() and embg_check_digit(number[:12]) == int(number[12])


@pytest.mark.parametrize(
    ("first12", "digit"),
    [
        ("010100650000", 6),  # the textbook example 0101006500006
        ("000000000005", 1),  # sum 10: 11 - 10
        ("000000000000", 0),  # remainder 0: 11 becomes 0
        ("000000000006", None),  # remainder 1 would need a 10: never issued
    ],
)
def test_embg_check_digit(first12: str, digit: int | None) -> None:
    assert embg_check_digit(first12) == digit


def test_personal_numbers_match_birthdate_and_sex() -> None:
    seen: Counter[str] = Counter()
    for r in _records(4000, country=None):
        pn, born = r["personal_no"], r["birthdate"]
        if pn is None:
            continue
        assert born is not None
        year, month, day = (int(x) for x in born.split("-"))
        if pn.isdigit() and len(pn) == 13:
            seen["MK"] += 1
            assert _embg_valid(pn), pn
            assert pn[:7] == f"{day:02d}{month:02d}{year % 1000:03d}"
            if r["gender"] in ("male", "female"):
                assert (int(pn[9:12]) >= 500) == (r["gender"] == "female")
        elif pn.isdigit():
            seen["XK"] += 1
            assert len(pn) == 10
        else:
            seen["AL"] += 1
            assert re.fullmatch(r"[A-W]\d{8}[A-W]", pn), pn
            assert pn[0] == "ABCDEFGHIJKLMNOPQRSTUVW"[(year - 1900) // 10]
            assert pn[1] == str(year % 10)
            assert pn[4:6] == f"{day:02d}"
            if r["gender"] in ("male", "female"):
                assert int(pn[2:4]) == month + (50 if r["gender"] == "female" else 0)
    assert min(seen.values()) > 50, seen


def test_shares_are_realistic() -> None:
    rs = _records(10000, country="MK")
    n = len(rs)
    archived = sum(not r["is_active"] for r in rs) / n
    expanded = sum(r["allergies"] is not None or r["insurance_provider"] is not None
                   or bool(r["preferences"]) or r["emergency_contact_name"] is not None
                   or r["vip"] for r in rs) / n  # fmt: skip
    vip = sum(r["vip"] for r in rs) / n
    assert 0.07 < archived < 0.13
    assert 0.15 < expanded < 0.30
    assert 0.015 < vip < 0.05
    emails = [r["email"] for r in rs if r["email"]]
    assert len(set(emails)) / len(emails) > 0.8  # mostly unique
    external = [r["external_id"] for r in rs if r["external_id"]]
    assert len(external) == len(set(external)) > 0


def test_macedonian_names_partly_in_cyrillic() -> None:
    rs = _records(10000, country="MK")
    cyrillic = sum(is_cyrillic(r["first_name"] + r["last_name"]) for r in rs)
    # ~62% of an MK clinic's patients have Macedonian names; ~30% of those are in Cyrillic.
    assert 0.12 < cyrillic / len(rs) < 0.25
    assert all(is_cyrillic(r["first_name"]) == is_cyrillic(r["last_name"]) for r in rs)


def test_albanian_letters_appear() -> None:
    names = " ".join(r["first_name"] + " " + r["last_name"] for r in _records(3000, country="AL"))
    assert "ë" in names
    assert "ç" in names.lower()


def test_country_sets_the_phone_region() -> None:
    for country in ("AL", "XK", "MK"):
        regions = Counter(r["phone_country"] for r in _records(1000, country=country) if r["phone"])
        assert regions.most_common(1)[0][0] == country


@pytest.mark.parametrize("bad", ["DE", "al", ""])
def test_unknown_country(bad: str) -> None:
    with pytest.raises(ValueError):
        next(generate_patients(1, seed=1, account_id=1, start_id=1, country=bad))


def test_zero() -> None:
    assert list(generate_patients(0, seed=1, account_id=1, start_id=1)) == []


# The output of the generator as it was first written (sha256 of the records as JSON, first 32 hex
# digits): a faster generator must give the same patients for the same arguments.
PINNED = {
    ("AL", 3000, 42): "dcc10b5a27e3cd9aa74aaaf0eebcd8da",
    ("AL", 1, 7): "e2f8cef951e0a5117fdabaa55443e446",
    ("XK", 3000, 42): "e4e6e2aa1179f6e452ef86d565f56e13",
    ("XK", 1, 7): "1d82018a5a38c5dc1bc6b1ef72720a5c",
    ("MK", 3000, 42): "03c67e815e6853328f130562a687ebeb",
    ("MK", 1, 7): "58993a407e12d84a9e3481b3c720d79e",
    (None, 3000, 42): "2e27a9e1dc941c214c9f78a16975221d",
    (None, 1, 7): "e2f8cef951e0a5117fdabaa55443e446",
}


@pytest.mark.parametrize(("country", "n", "seed"), list(PINNED))
def test_the_same_seed_gives_the_patients_it_always_gave(country: str | None, n: int, seed: int) -> None:
    start = 1000 if n > 1 else 5
    records = list(generate_patients(n, seed=seed, account_id=3, start_id=start, country=country))
    digest = hashlib.sha256(json.dumps(records, ensure_ascii=False).encode()).hexdigest()[:32]
    assert digest == PINNED[(country, n, seed)]


def test_an_edit_window_gives_the_patients_it_always_gave() -> None:
    records = list(generate_patients(200, seed=3, account_id=1, start_id=10, country="AL",
                                     since="2025-01-01T00:00:00Z", until="2025-01-02T00:00:00Z",
                                     updated_until="2025-06-01T00:00:00Z"))  # fmt: skip
    digest = hashlib.sha256(json.dumps(records, ensure_ascii=False).encode()).hexdigest()[:32]
    assert digest == "f1acb7b5ab538d1fa5dbc5fe9159389b"


def test_rows_are_the_records() -> None:
    """generate_rows gives what generate_patients does, timestamps as epoch ms."""
    from mockserver.domain.timestamps import parse_timestamp
    from mockserver.store.generate import ROW_FIELDS, generate_rows

    args: dict = {"seed": 9, "account_id": 2, "start_id": 50, "country": None}
    for record, row in zip(generate_patients(500, **args), generate_rows(500, **args), strict=True):
        expected = {
            **record,
            "created_at": parse_timestamp(record["created_at"]),
            "updated_at": parse_timestamp(record["updated_at"]),
        }
        assert dict(zip(ROW_FIELDS, row, strict=True)) == expected
