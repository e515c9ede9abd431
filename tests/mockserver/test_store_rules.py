"""The in-memory store under every combination of the list rules (StoreRules),
against what each rule's docstring says, on a store large enough for the
indexes to answer (fixtures plus generated patients, some archived).

The checks are relations an implementation cannot satisfy by accident: a
page is the slice of the whole list it names; newest first is the ascending
list reversed; `is_active=false` under `inactive_lists_all` is both status
lists merged; a case-sensitive filter keeps exactly the exact matches of the
insensitive one; an E.164-only phone filter keeps exactly those whose E.164
digits hold the query's; a plain search is a brute-force predicate.
"""

from __future__ import annotations

import itertools
import pickle
from functools import cache
from typing import Any

import pytest

from mockserver.decisions import StoreRules
from mockserver.settings import MockSettings
from mockserver.store.documents import export_state
from mockserver.store.generate import generate_patients
from mockserver.store.memory import Store
from mockserver.store.planner import PatientQuery
from mockserver.web.app import build_backend
from tests.support import FIXTURES_DIR

ACCOUNT = 1
QUERIES = [
    PatientQuery(),
    PatientQuery(q="ana"),
    PatientQuery(q="a"),
    PatientQuery(q="ho"),
    PatientQuery(q="ski"),
    PatientQuery(q="069"),
    PatientQuery(q="+389"),
    PatientQuery(q="@gmail"),
    PatientQuery(q="Хоџа"),
    PatientQuery(q="ë"),
    PatientQuery(phone="069"),
    PatientQuery(phone="7012"),
    PatientQuery(email="MARIA@example.com"),
    PatientQuery(q="a", phone="0"),
    PatientQuery(email="maria@example.com", q="hox"),
]


@cache
def _base() -> Store:
    backend = build_backend(MockSettings(fixtures_dir=FIXTURES_DIR))
    store = backend.store
    start = max(p.id for p in store.patients()) + 1
    for record in generate_patients(800, seed=7, account_id=ACCOUNT, start_id=start, country="AL"):
        store.add_patient(store.schema.from_record(record))
    for patient in list(store.patients(ACCOUNT))[::9]:  # archive some of every kind
        store.update_patient(ACCOUNT, patient.id, {"is_active": False})
    return store


def store_with(rules: StoreRules) -> Store:
    """The one test store, answering by `rules` from now on."""
    store = _base()
    store.rules = rules
    return store


def assert_pages_slice(rules: StoreRules, query: PatientQuery, whole: list[int]) -> None:
    """The first, second, a middle, the last and a page past the end are the
    slices of the whole list they name, each with the whole list's total."""
    store = store_with(rules)
    for per_page in (1, 7, 100):
        last = max(1, -(-len(whole) // per_page))
        for page in sorted({1, 2, (last + 1) // 2, last, last + 1}):
            patients, total = store.list_patients(ACCOUNT, query, page, per_page)
            assert total == len(whole), (query, per_page, page)
            assert [p.id for p in patients] == whole[(page - 1) * per_page : page * per_page], (query, per_page, page)


def listed(rules: StoreRules, query: PatientQuery) -> list[int]:
    return [p.id for p in store_with(rules).list_patients(ACCOUNT, query, 1, 10**6)[0]]


RULE_SETS = [
    StoreRules(newest_first=n, inactive_lists_all=a, plain_search=p)
    for n, a, p in itertools.product((False, True), repeat=3)
]


@pytest.mark.parametrize("rules", RULE_SETS, ids=repr)
@pytest.mark.parametrize("is_active", [True, False])
def test_pages_slice_the_whole_list_in_the_rules_order(rules: StoreRules, is_active: bool) -> None:
    for base in QUERIES:
        query = PatientQuery(**{**_fields(base), "is_active": is_active})
        whole = listed(rules, query)
        assert len(set(whole)) == len(whole)
        assert whole == sorted(whole, reverse=rules.newest_first)
        assert_pages_slice(rules, query, whole)
        ascending = listed(
            StoreRules(inactive_lists_all=rules.inactive_lists_all, plain_search=rules.plain_search), query
        )
        assert whole == (ascending[::-1] if rules.newest_first else ascending)


@pytest.mark.parametrize("plain", [False, True])
def test_inactive_lists_all_merges_both_statuses(plain: bool) -> None:
    kit, lists_all = StoreRules(plain_search=plain), StoreRules(plain_search=plain, inactive_lists_all=True)
    for base in QUERIES:
        active, inactive = (PatientQuery(**{**_fields(base), "is_active": status}) for status in (True, False))
        everyone = listed(lists_all, inactive)
        assert everyone == sorted(listed(kit, active) + listed(kit, inactive)), base
        assert listed(lists_all, active) == listed(kit, active), base
    assert listed(lists_all, PatientQuery(is_active=False)) != listed(kit, PatientQuery(is_active=False))


def test_plain_search_is_a_casefolded_substring_of_the_stored_values() -> None:
    plain = StoreRules(plain_search=True)
    patients = {p.id: p for p in _base().patients(ACCOUNT)}
    for needle in ("ana", "A", "ho", "ski", "Хоџа", "ë", "069", "+389", "@gmail", "maria hox", "70 12"):
        folded = needle.casefold()
        digits = "".join(ch for ch in needle if ch.isdigit()) if set(needle) <= set("0123456789 +-()./") else ""

        def matches(p: Any, folded: str = folded, digits: str = digits) -> bool:
            first, last = p.first_name.casefold(), p.last_name.casefold()
            texts = [first, last, f"{first} {last}", (p.email or "").casefold(), (p.personal_no or "").casefold()]
            if any(folded in text for text in texts):
                return True
            phones = ["".join(ch for ch in (v or "") if ch.isdigit()) for v in (p.phone, p.phone_e164)]
            return bool(digits) and any(digits in d for d in phones)

        expected = sorted(i for i, p in patients.items() if p.is_active and matches(p))
        assert listed(plain, PatientQuery(q=needle)) == expected, needle
    assert listed(plain, PatientQuery(q="хоџа")) != listed(StoreRules(), PatientQuery(q="хоџа"))


def test_case_sensitive_filters_keep_the_exact_matches() -> None:
    kit, strict = StoreRules(), StoreRules(case_sensitive_filters=True)
    patients = {p.id: p for p in _base().patients(ACCOUNT)}
    emails = [p.email for p in patients.values() if p.email and p.is_active][:40]
    for email in [*emails, "MARIA@example.com", "Maria@Example.COM"]:
        for value in (email, email.upper(), email.title()):
            insensitive = listed(kit, PatientQuery(email=value))
            assert listed(strict, PatientQuery(email=value)) == [i for i in insensitive if patients[i].email == value]
    assert listed(strict, PatientQuery(email="MARIA@example.com")) == []
    assert listed(kit, PatientQuery(email="MARIA@example.com")) != []


def test_e164_only_phone_filter_keeps_those_whose_e164_holds_the_digits() -> None:
    kit, strict = StoreRules(), StoreRules(phone_e164_only=True)
    patients = {p.id: p for p in _base().patients(ACCOUNT)}
    for phone in ("069", "0691", "355", "6912", "0", "+355 69", "7012"):
        digits = "".join(ch for ch in phone if ch.isdigit())
        expected = [i for i in listed(kit, PatientQuery(phone=phone)) if digits in (patients[i].phone_e164 or "")]
        assert listed(strict, PatientQuery(phone=phone)) == expected, phone
    assert listed(strict, PatientQuery(phone="069")) != listed(kit, PatientQuery(phone="069"))


def test_rules_are_not_part_of_a_pickled_store() -> None:
    """A pickled store holds data; whoever loads it gives it its own rules."""
    store = Store(_base().schema, StoreRules(newest_first=True))
    assert pickle.loads(pickle.dumps(store)).rules == StoreRules()


def _fields(query: PatientQuery) -> dict[str, object]:
    return {name: getattr(query, name) for name in PatientQuery.__dataclass_fields__}


@pytest.mark.parametrize("chunk", [None, 700], ids=["one chunk", "chunks of 700"])
def test_a_bulk_load_builds_the_indexes_one_by_one_would(chunk: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Store.add_rows (generated rows, in bulk) gives the store add_patient gives, record by record."""
    from mockserver.store import account, indexes
    from mockserver.store.generate import ROW_FIELDS, generate_rows

    if chunk is not None:  # a load indexed chunk by chunk, each trigram index too
        monkeypatch.setattr(account, "CHUNK", chunk)
        monkeypatch.setattr(indexes, "CHUNK", chunk // 3)

    one_by_one, bulk = (build_backend(MockSettings(fixtures_dir=FIXTURES_DIR)).store for _ in range(2))
    start = max(p.id for p in one_by_one.patients()) + 1
    args: dict[str, Any] = {"seed": 11, "account_id": ACCOUNT, "start_id": start, "country": None}
    for record in generate_patients(3000, **args):
        one_by_one.add_patient(one_by_one.schema.from_record(record))
    assert bulk.add_rows(ROW_FIELDS, generate_rows(3000, **args)) == 3000
    assert export_state(bulk) == export_state(one_by_one)
    mine, theirs = bulk._scope(ACCOUNT), one_by_one._scope(ACCOUNT)
    for name, index in vars(theirs).items():
        if name in ("version", "by_id"):
            continue
        state = {slot: getattr(index, slot) for slot in getattr(index, "__slots__", ())} or index
        built = {slot: getattr(vars(mine)[name], slot) for slot in getattr(index, "__slots__", ())} or vars(mine)[name]
        if name.startswith(("email_words", "email_domains", "names")):  # which value a gram lists first may differ
            state = {**state, "_grams": {g: sorted(v) for g, v in state["_grams"].items()}}
            built = {**built, "_grams": {g: sorted(v) for g, v in built["_grams"].items()}}
        assert built == state, name
    for query in (PatientQuery(q="stojan"), PatientQuery(q="gmail"), PatientQuery(phone="70 1"), PatientQuery(q="07")):
        (found, total), (expected, expected_total) = (
            store.list_patients(ACCOUNT, query, 1, 100) for store in (bulk, one_by_one)
        )
        assert ([p.id for p in found], total) == ([p.id for p in expected], expected_total)


def test_a_search_by_index_finds_what_a_scan_finds() -> None:
    """Needles cut from stored emails, phones and personal numbers (letters, digits, ".",
    "@" and around it), looked up through the indexes, against every patient checked."""
    import random

    from mockserver.domain.text import fold
    from mockserver.store.planner import TextSearch, _digits

    store = store_with(StoreRules())
    patients = list(store.patients(ACCOUNT))
    rng = random.Random(5)
    texts = [t for p in patients for t in (p.email, p.personal_no, p.phone) if t]
    needles = {"@gmail.com", "gmail", "@", "a@", "@t-home", ".com", "ski@", "_", "1@", "@yahoo.com"}
    for text in rng.sample(texts, 300):
        start = rng.randrange(len(text))
        needles.add(text[start : start + rng.randrange(3, 12)])
    for needle in sorted(needles):
        for status in (True, False):
            q = needle.casefold()
            search = TextSearch(fold(q), q, _digits(q) if set(q) <= set("0123456789 +-()./") else "")
            expected = [p.id for p in patients if p.is_active is status and search.matches(p)]
            found, total = store.list_patients(ACCOUNT, PatientQuery(is_active=status, q=needle), 1, 10_000)
            assert ([p.id for p in found], total) == (sorted(expected), len(expected)), needle


def test_rows_not_past_every_id_are_checked_one_by_one() -> None:
    from mockserver.store.generate import ROW_FIELDS, generate_rows

    store = build_backend(MockSettings(fixtures_dir=FIXTURES_DIR)).store
    start = max(p.id for p in store.patients()) + 1
    rows = list(generate_rows(30, seed=3, account_id=ACCOUNT, start_id=start))
    assert store.add_rows(ROW_FIELDS, rows[10:20]) == 10
    assert store.add_rows(ROW_FIELDS, rows[:10] + rows[20:]) == 20  # ids below the last one: one by one
    assert sorted(p.id for p in store.patients(ACCOUNT) if p.id >= start) == list(range(start, start + 30))
    with pytest.raises(ValueError, match="already taken"):
        store.add_rows(ROW_FIELDS, rows[25:] + rows[5:6])
    assert store.create_patient(ACCOUNT, {"first_name": "Next", "last_name": "One"}).id == start + 30
