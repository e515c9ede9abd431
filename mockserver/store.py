"""In-memory state: accounts, tokens and patients, kept per clinic account.

Every read and write of a patient is scoped to one account. Lists are served
from per-account indexes so that a page, a filter or a search does not scan
the whole store: ids sorted by status (ids only grow, so ascending id is
creation order), hash indexes for the exact filters, and for substring search
the values patients share (names, email words and domains) indexed by value,
with trigram postings for the rest (email local parts, personal numbers,
phone digits). bench/RESULTS.md has what this gives at a million patients.

The mock serves requests on one event loop and store calls never await, so
each call is atomic; the lock makes that hold for threads too (CLI import,
tests driving the store directly).
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._exceptions import NotFound, Unauthorized, ValidationFailed
from .auth import hash_token, new_token
from .models import Account, Patient, Token, User
from .phones import phone_search_digits
from .text import fold

__all__ = ["PatientQuery", "Principal", "Store", "now_ms"]

_SEPARATOR = "\x1f"  # joins the searchable parts so no match spans two of them


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the token's account and user."""

    account_id: int
    user: User
    token_id: int


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """A list request's filters; all combine with AND."""

    is_active: bool = True
    q: str | None = None
    email: str | None = None
    phone: str | None = None
    personal_no: str | None = None
    external_id: str | None = None
    legacy_id: str | None = None


class _Trigrams:
    """Substring index: trigram -> ids (appended in write order; stale ids are
    filtered out by checking the candidate's current text).

    Texts are indexed part by part (`separator` splits them), so no trigram
    spans two parts; a needle holding the separator is not looked up (None:
    the caller scans), which keeps `needle in text` exact. Ids are stored as
    4-byte integers until one does not fit (memory: ~60 postings a patient).
    """

    __slots__ = ("_last", "_postings", "_separator", "_typecode")

    def __init__(self, separator: str) -> None:
        self._postings: dict[str, array[int]] = {}
        self._separator = separator
        self._typecode = "i"
        self._last = -1  # the largest id added: at or past it, every posting takes an append

    def add(self, patient_id: int, text: str) -> None:
        if patient_id > _INT32_MAX and self._typecode == "i":
            self._widen()
        grams = _trigrams(text, self._separator)
        postings = self._postings
        get = postings.get
        typecode = self._typecode
        if patient_id >= self._last:  # loading, creating: the hot case, ~25 grams a patient
            self._last = patient_id
            for gram in grams:
                bucket = get(gram)
                if bucket is None:
                    postings[gram] = bucket = array(typecode)
                bucket.append(patient_id)
            return
        for gram in grams:  # an edit re-indexes an older id: keep postings sorted (see _intersect)
            bucket = get(gram)
            if bucket is None:
                postings[gram] = bucket = array(typecode)
            insort(bucket, patient_id)

    def postings(self, needle: str) -> list[array[int]] | None:
        """The postings of every trigram of `needle`, smallest first ([] if one
        has none: nothing matches), or None when the needle cannot be looked up."""
        if len(needle) < 3 or self._separator in needle:
            return None
        found = []
        for gram in {needle[i : i + 3] for i in range(len(needle) - 2)}:
            bucket = self._postings.get(gram)
            if bucket is None:
                return []
            found.append(bucket)
        found.sort(key=len)
        return found

    def _widen(self) -> None:
        self._typecode = "q"
        for gram, bucket in self._postings.items():
            self._postings[gram] = array("q", bucket)


_INT32_MAX = 2**31 - 1


class _MultiIndex:
    """Exact-match index: key -> ids. A key held by one patient (nearly every
    email) maps to the bare id; a set is made only on a second holder, which
    saves ~200 bytes a patient at a million."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map: dict[str, int | set[int]] = {}

    def add(self, key: str, patient_id: int) -> None:
        held = self._map.get(key)
        if held is None:
            self._map[key] = patient_id
        elif isinstance(held, set):
            held.add(patient_id)
        elif held != patient_id:
            self._map[key] = {held, patient_id}

    def discard(self, key: str, patient_id: int) -> None:
        held = self._map.get(key)
        if held is None:
            return
        if isinstance(held, set):
            held.discard(patient_id)
            if not held:
                del self._map[key]
        elif held == patient_id:
            del self._map[key]

    def get(self, key: str) -> Collection[int]:
        held = self._map.get(key)
        if held is None:
            return ()
        return held if isinstance(held, set) else (held,)


def _folded_key(value: str) -> str:
    """`value.casefold()`, sharing the stored string when folding changes nothing."""
    key = value.casefold()
    return value if key == value else key


class _NameGroups:
    """Exact index of shared values, by value: a value (a names key, an email
    word, an email domain) -> the sorted ids of its active and its archived
    patients, and trigram -> values.

    Patients share names: a million generated patients hold ~20k distinct
    (first, last) pairs, and their emails are made of the same words. A search
    checks the few values that can contain the needle and takes their ids as
    they are: no patient is read, so it costs about its matches (set and sort
    in C), not the store's size. Ids are 4-byte until one does not fit.
    """

    __slots__ = ("_grams", "_groups")

    def __init__(self) -> None:
        self._groups: dict[str, list[array[int]]] = {}  # value -> [active ids, archived ids]
        self._grams: dict[str, list[str]] = {}  # lists, not sets: most grams have few values

    def add(self, key: str, patient_id: int, active: bool) -> None:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = [array("i"), array("i")]
            for gram in _trigrams(key, _SEPARATOR):
                self._grams.setdefault(gram, []).append(key)
        side = 0 if active else 1
        ids = group[side]
        if patient_id > _INT32_MAX and ids.typecode == "i":
            ids = group[side] = array("q", ids)
        if not ids or ids[-1] < patient_id:
            ids.append(patient_id)
        else:
            insort(ids, patient_id)

    def remove(self, key: str, patient_id: int, active: bool) -> None:
        group = self._groups.get(key)
        if group is not None:
            ids = group[0 if active else 1]
            index = bisect_left(ids, patient_id)
            if index < len(ids) and ids[index] == patient_id:
                del ids[index]

    def matching(self, needle: str) -> list[str] | None:
        """The values that contain `needle`, or None when it is too short to look up."""
        if len(needle) < 3 or _SEPARATOR in needle:
            return None
        keys: set[str] | None = None
        for gram in sorted(_trigrams(needle, _SEPARATOR), key=lambda g: len(self._grams.get(g, ()))):
            found = self._grams.get(gram)
            if not found:
                return []
            if keys is None:
                keys = set(found)
            else:
                keys.intersection_update(found)
        return [key for key in keys or () if needle in key]

    def starting(self, prefix: str) -> list[str]:
        """The values that start with `prefix` (a walk over the values: for the few email domains)."""
        return [key for key in self._groups if key.startswith(prefix)]

    def ids(self, keys: list[str], active: bool) -> set[int]:
        side = 0 if active else 1
        found: set[int] = set()
        for key in keys:
            found.update(self._groups[key][side])
        return found


def _trigrams(text: str, separator: str) -> set[str]:
    if separator not in text:
        return {text[i : i + 3] for i in range(len(text) - 2)}
    grams: set[str] = set()
    for part in text.split(separator):
        grams.update([part[i : i + 3] for i in range(len(part) - 2)])
    return grams


class _Rows:
    """id -> patient for one account: a list indexed by id while ids come
    dense and rising (generated and created patients), a dict for the rest.
    8 bytes a patient instead of a dict entry's ~50 (50 MB at a million)."""

    __slots__ = ("_dict", "_list")

    _MAX_GAP = 4096  # ids further than this past the list's end go to the dict

    def __init__(self) -> None:
        self._list: list[Patient | None] = []
        self._dict: dict[int, Patient] = {}

    def get(self, patient_id: int) -> Patient | None:
        if 0 <= patient_id < len(self._list):
            found = self._list[patient_id]
            if found is not None:
                return found
        return self._dict.get(patient_id)

    def __getitem__(self, patient_id: int) -> Patient:
        found = self.get(patient_id)
        if found is None:
            raise KeyError(patient_id)
        return found

    def many(self, ids: list[int]) -> list[Patient]:
        """`[self[i] for i in ids]` without a method call per id (a list page)."""
        rows, size, rest = self._list, len(self._list), self._dict
        return [found if 0 <= i < size and (found := rows[i]) is not None else rest[i] for i in ids]

    def __contains__(self, patient_id: int) -> bool:
        return self.get(patient_id) is not None

    def __setitem__(self, patient_id: int, patient: Patient) -> None:
        rows = self._list
        if 0 <= patient_id < len(rows) and patient_id not in self._dict:
            rows[patient_id] = patient
        elif len(rows) <= patient_id <= len(rows) + self._MAX_GAP:
            rows.extend([None] * (patient_id - len(rows)))
            rows.append(patient)
        else:
            self._dict[patient_id] = patient

    def __len__(self) -> int:
        return len(self._list) - self._list.count(None) + len(self._dict)

    def values(self) -> Iterator[Patient]:
        yield from (p for p in self._list if p is not None)
        yield from self._dict.values()


@dataclass
class _AccountPatients:
    by_id: _Rows = field(default_factory=_Rows)
    active: list[int] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)
    by_email: _MultiIndex = field(default_factory=_MultiIndex)
    by_personal_no: _MultiIndex = field(default_factory=_MultiIndex)
    by_external_id: dict[str, int] = field(default_factory=dict)
    by_legacy_id: _MultiIndex = field(default_factory=_MultiIndex)
    names: _NameGroups = field(default_factory=_NameGroups)
    # Email: its words (letter runs) and its domain by value, the local part by
    # trigrams (the whole address when it has no single "@").
    email_words: _NameGroups = field(default_factory=_NameGroups)
    email_domains: _NameGroups = field(default_factory=_NameGroups)
    text: _Trigrams = field(default_factory=lambda: _Trigrams(_SEPARATOR))
    personal_nos: _Trigrams = field(default_factory=lambda: _Trigrams(_SEPARATOR))
    digits: _Trigrams = field(default_factory=lambda: _Trigrams(" "))

    def index(self, p: Patient) -> None:
        _insert_sorted(self.active if p.is_active else self.archived, p.id)
        if p.email:
            self.by_email.add(_folded_key(p.email), p.id)
        if p.personal_no:
            self.by_personal_no.add(_folded_key(p.personal_no), p.id)
        if p.external_id:
            self.by_external_id[p.external_id] = p.id
        if p.legacy_id:
            self.by_legacy_id.add(p.legacy_id, p.id)
        self.names.add(p.search_text, p.id, p.is_active)
        if p.email:
            email = p.email.casefold()
            for word in set(_EMAIL_WORD.findall(email)):
                self.email_words.add(word, p.id, p.is_active)
            local, domain = _email_parts(email)
            if domain is not None:
                self.email_domains.add(domain, p.id, p.is_active)
            if local:
                self.text.add(p.id, local)
        if p.personal_no:
            self.personal_nos.add(p.id, p.personal_no.casefold())
        digits = _digits_text(p)
        if digits:
            self.digits.add(p.id, digits)

    def unindex(self, p: Patient) -> None:
        """Remove from the exact indexes; trigram postings go stale harmlessly."""
        _remove_sorted(self.active if p.is_active else self.archived, p.id)
        self.names.remove(p.search_text, p.id, p.is_active)
        if p.email:
            email = p.email.casefold()
            for word in set(_EMAIL_WORD.findall(email)):
                self.email_words.remove(word, p.id, p.is_active)
            domain = _email_parts(email)[1]
            if domain is not None:
                self.email_domains.remove(domain, p.id, p.is_active)
        if p.email:
            self.by_email.discard(p.email.casefold(), p.id)
        if p.personal_no:
            self.by_personal_no.discard(p.personal_no.casefold(), p.id)
        if p.external_id and self.by_external_id.get(p.external_id) == p.id:
            del self.by_external_id[p.external_id]
        if p.legacy_id:
            self.by_legacy_id.discard(p.legacy_id, p.id)


class Store:
    """All of the mock's state. Create one, then `load` fixtures or a state dump."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[int, Account] = {}
        self._patients: dict[int, _AccountPatients] = {}
        self._tokens: dict[int, Token] = {}
        self._token_by_hash: dict[str, Token] = {}
        self._next_patient_id = 1
        self._next_token_id = 1

    def __getstate__(self) -> dict[str, Any]:
        # Pickled as a start-up snapshot (snapshot.py); a lock cannot be.
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- accounts and tokens ----------------------------------------------------------------

    def add_account(self, account: Account) -> None:
        with self._lock:
            self._accounts[account.id] = account
            self._patients.setdefault(account.id, _AccountPatients())

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def account(self, account_id: int) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise NotFound() from None

    def add_token(self, token: Token) -> None:
        with self._lock:
            self._tokens[token.id] = token
            self._token_by_hash[token.token_sha256] = token
            self._next_token_id = max(self._next_token_id, token.id + 1)

    def create_token(self, account_id: int, name: str, user_id: int | None = None) -> tuple[Token, str]:
        """A new live token; its secret is returned once and only its hash is kept."""
        with self._lock:
            account = self.account(account_id)
            if user_id is None:
                user_id = next(iter(account.users), 0)
            secret = new_token()
            token = Token(
                id=self._next_token_id,
                account_id=account_id,
                user_id=user_id,
                name=name,
                token_sha256=hash_token(secret),
                created_at=now_ms(),
                hint=secret[:8],
            )
            self.add_token(token)
            return token, secret

    def revoke_token(self, token_id: int) -> Token:
        """Revoked for good: the next request with it is a 401."""
        with self._lock:
            token = self._tokens.get(token_id)
            if token is None:
                raise NotFound()
            token.revoked = True
            return token

    def tokens(self, account_id: int | None = None) -> list[Token]:
        return [t for t in self._tokens.values() if account_id is None or t.account_id == account_id]

    def authenticate(self, secret: str) -> Principal:
        # The lookup is by SHA-256 of the secret, so response time reveals
        # nothing about how close a guess is to a real token.
        token = self._token_by_hash.get(hash_token(secret))
        if token is None or token.revoked:
            raise Unauthorized()
        account = self._accounts.get(token.account_id)
        user = account.users.get(token.user_id) if account else None
        if user is None:
            raise Unauthorized()
        return Principal(account_id=token.account_id, user=user, token_id=token.id)

    # -- patients ---------------------------------------------------------------------------

    def get_patient(self, account_id: int, patient_id: int) -> Patient:
        """The account's patient, else 404 (another account's id included)."""
        patient = self._scope(account_id).by_id.get(patient_id)
        if patient is None:
            raise NotFound()
        return patient

    def add_patient(self, patient: Patient) -> Patient:
        """Insert a fully-formed patient (fixtures, generated data, state loads)."""
        with self._lock:
            scope = self._scope(patient.account_id)
            if any(patient.id in other.by_id for other in self._patients.values()):  # ids are global
                raise ValueError(f"patient id {patient.id} is already taken")
            _compact(patient)
            _refresh_search_keys(patient)
            scope.by_id[patient.id] = patient
            scope.index(patient)
            self._next_patient_id = max(self._next_patient_id, patient.id + 1)
            return patient

    def create_patient(self, account_id: int, values: Mapping[str, Any]) -> Patient:
        with self._lock:
            scope = self._scope(account_id)
            self._check_unique(scope, values, None)
            stamp = now_ms()
            patient = Patient(
                id=self._next_patient_id,
                account_id=account_id,
                first_name=values["first_name"],
                last_name=values["last_name"],
                created_at=stamp,
                updated_at=stamp,
            )
            for name, value in values.items():
                setattr(patient, name, value)
            _compact(patient)
            _refresh_search_keys(patient)
            scope.by_id[patient.id] = patient
            scope.index(patient)
            self._next_patient_id += 1
            return patient

    def update_patient(self, account_id: int, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        """Apply the changed fields; `updated_at` moves only if a value really changed."""
        with self._lock:
            scope = self._scope(account_id)
            patient = self.get_patient(account_id, patient_id)
            changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
            if not changed:
                return patient
            self._check_unique(scope, changed, patient.id)
            scope.unindex(patient)
            for name, value in changed.items():
                setattr(patient, name, value)
            patient.updated_at = max(now_ms(), patient.updated_at + 1)
            _refresh_search_keys(patient)
            scope.index(patient)
            return patient

    def list_patients(
        self, account_id: int, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        """One page of matching patients in ascending id order, and the total."""
        scope = self._scope(account_id)
        ordered = scope.active if query.is_active else scope.archived
        predicate, candidates, confirmed = _plan(scope, query)
        start = (page - 1) * per_page
        if predicate is None:
            ids = ordered[start : start + per_page]
            return scope.by_id.many(ids), len(ordered)
        by_id = scope.by_id
        want = query.is_active
        if candidates is None:
            # A scan of the status list: already in id order and without repeats.
            matches = [i for i in ordered if predicate(by_id[i])]
        else:
            # `confirmed` ids are known to match (a name search's own groups):
            # only the other candidates are read and checked.
            if confirmed:
                candidates = set(candidates).difference(confirmed)
            get = by_id.get
            matches = [i for i in candidates if (p := get(i)) is not None and p.is_active is want and predicate(p)]
            matches.extend(confirmed)
            matches.sort()
        return by_id.many(matches[start : start + per_page]), len(matches)

    def patients(self, account_id: int | None = None) -> Iterator[Patient]:
        scopes = self._patients.values() if account_id is None else [self._scope(account_id)]
        for scope in scopes:
            yield from scope.by_id.values()

    def count(self, account_id: int) -> int:
        return len(self._scope(account_id).by_id)

    def check_create(self, account_id: int, values: Mapping[str, Any]) -> None:
        """Raise the 422 `create_patient` would raise for `values` (a taken
        `external_id`), creating nothing."""
        self._check_unique(self._scope(account_id), values, None)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock across several calls (an all-or-nothing import)."""
        with self._lock:
            yield

    # -- internals --------------------------------------------------------------------------

    def _scope(self, account_id: int) -> _AccountPatients:
        scope = self._patients.get(account_id)
        if scope is None:
            raise NotFound()
        return scope

    @staticmethod
    def _check_unique(scope: _AccountPatients, values: Mapping[str, Any], own_id: int | None) -> None:
        external_id = values.get("external_id")
        if external_id and scope.by_external_id.get(external_id, own_id) != own_id:
            raise ValidationFailed({"external_id": ["has already been taken"]})


# Memory at a million patients (bench/RESULTS.md): values drawn from small
# sets are shared, not copied once per patient.
_NO_PREFERENCES: dict[str, str] = {}
_NO_MEDICAL_ISSUES: list[str] = []
_SHARED_FIELDS = ("first_name", "last_name", "birthdate", "gender", "locale", "phone_country")
_fold_name = lru_cache(maxsize=1 << 16)(fold)  # names repeat; fold is pure


def _compact(p: Patient) -> None:
    """Share what many patients hold alike: interned short strings, one empty
    `preferences` and `medical_issues` (read-only in the API, replaced and
    never changed in place), one int for equal timestamps."""
    if not p.preferences:
        p.preferences = _NO_PREFERENCES
    if not p.medical_issues:
        p.medical_issues = _NO_MEDICAL_ISSUES
    for name in _SHARED_FIELDS:
        value = getattr(p, name)
        if type(value) is str:
            setattr(p, name, sys.intern(value))
    if p.updated_at == p.created_at:
        p.updated_at = p.created_at


# What `q` matches is, for each patient, the text
#     fold(first) SEP fold(last) SEP fold(first + " " + last), and email.casefold() and personal_no.casefold()
# and the phone digits (`phone_search_digits`). Only the names part is kept on
# the patient (`search_text`), one string shared by every patient of the same
# name; the rest is derived when a candidate is checked, which saves ~170 bytes
# a patient at a million (bench/RESULTS.md).
_NAMES_KEYS: dict[tuple[str, str], str] = {}


def _refresh_search_keys(p: Patient) -> None:
    pair = (p.first_name, p.last_name)
    key = _NAMES_KEYS.get(pair)
    if key is None:
        if len(_NAMES_KEYS) >= 1 << 17:  # bounded: shared among ~20k names, or just computed
            _NAMES_KEYS.clear()
        parts = [p.first_name, p.last_name, f"{p.first_name} {p.last_name}"]
        key = _NAMES_KEYS[pair] = _SEPARATOR.join(_fold_name(part) for part in parts)
    p.search_text = key
    p.search_digits = ""


# Letter runs of an email (3+ letters: the shortest needle looked up). A
# needle of letters only lies inside one of them, so they answer it exactly.
_EMAIL_WORD = re.compile(r"[^\W\d_]{3,}")


def _email_parts(email: str) -> tuple[str, str | None]:
    """(local part, domain) of a case-folded email; (whole, None) unless it has exactly one "@"."""
    local, at, domain = email.partition("@")
    if not at or "@" in domain:
        return email, None
    return local, domain


def _digits_text(p: Patient) -> str:
    return phone_search_digits(p.phone_e164, p.phone_country)


def _text_has(p: Patient, needle: str, plain: str) -> bool:
    """The folded `needle` in the names, or the case-folded `plain` query in the
    email or personal number (see above)."""
    if needle in p.search_text:
        return True
    email, personal_no = p.email, p.personal_no  # unrolled: this runs per candidate
    return bool((email and plain in email.casefold()) or (personal_no and plain in personal_no.casefold()))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


_PHONE_CHARS = set("0123456789 +-()./")


def _email_plan(
    scope: _AccountPatients, plain: str, active: bool
) -> tuple[set[int], Callable[[set[int]], set[int]]] | None:
    """Patients whose email contains `plain`: (ids known to, a function giving
    further candidates to check beyond some known ids), or None: scan."""
    if len(plain) < 3 or _SEPARATOR in plain:
        return None
    if plain.isalpha():  # inside one word of the email: exact
        return scope.email_words.ids(scope.email_words.matching(plain) or [], active), lambda known: set()
    whole = scope.text.postings(plain)  # in a local part, or anywhere in an address without one "@"
    assert whole is not None
    if "@" not in plain:  # in the local part or in the domain, never across the "@"
        domains = scope.email_domains.matching(plain) or []
        return scope.email_domains.ids(domains, active), lambda known: _intersect(whole, known)
    before, _, after = plain.partition("@")
    by_domain = None
    if after and "@" not in after:
        by_domain = scope.email_domains.ids(scope.email_domains.starting(after), active)
    by_local = scope.text.postings(before) if len(before) >= 3 else None
    if by_domain is None and by_local is None and after:
        return None  # "x@y": nothing short enough to narrow by
    if by_domain is None:
        # after is empty ("name@") or holds another "@": the local part must end with `before`
        # (whole addresses with two "@" are in `whole`).
        by_domain = scope.email_domains.ids(scope.email_domains.starting(""), active) if not after else set()

    def candidates(known: set[int]) -> set[int]:
        found = by_domain if by_local is None else _intersect(by_local, known) & by_domain
        return (found - known) | _intersect(whole, known)

    return set(), candidates


def _plan(
    scope: _AccountPatients, query: PatientQuery
) -> tuple[Callable[[Patient], bool] | None, Collection[int] | None, Collection[int]]:
    """A predicate for the query's filters; a set of candidate ids that holds
    every match (None: walk the status list); and the ids among them already
    known to match with the query's status. The candidates come from the
    indexes: the exact ones first, then names by value and the intersection
    of trigram postings, so a search costs about its matches, not the store."""
    checks: list[Callable[[Patient], bool]] = []
    exact: list[Collection[int]] = []
    lazy: list[Callable[[], Collection[int]]] = []
    confirmed: Collection[int] = ()

    if query.email:
        email = query.email.casefold()
        exact.append(scope.by_email.get(email))
        checks.append(lambda p: (p.email or "").casefold() == email)
    if query.personal_no:
        personal_no = query.personal_no.casefold()
        exact.append(scope.by_personal_no.get(personal_no))
        checks.append(lambda p: (p.personal_no or "").casefold() == personal_no)
    if query.external_id:
        found = scope.by_external_id.get(query.external_id)
        exact.append(() if found is None else (found,))
        external_id = query.external_id
        checks.append(lambda p: p.external_id == external_id)
    if query.legacy_id:
        exact.append(scope.by_legacy_id.get(query.legacy_id))
        legacy_id = query.legacy_id
        checks.append(lambda p: p.legacy_id == legacy_id)
    if query.phone is not None:
        phone = _digits(query.phone)
        if phone:
            phone_postings = scope.digits.postings(phone)
            if phone_postings is not None:
                lazy.append(lambda: _intersect(phone_postings))
            checks.append(lambda p: phone in _digits_text(p))
        else:
            exact.append(())  # no digits: nothing can match
            checks.append(lambda p: False)
    if query.q:
        # Names match by their cross-script key; email and personal number
        # as written, ignoring case (folding would turn "x" in an email into "dz").
        needle, plain = fold(query.q), query.q.casefold()
        digits = _digits(query.q) if set(query.q) <= _PHONE_CHARS else ""
        name_keys = scope.names.matching(needle)
        email_plan = _email_plan(scope, plain, query.is_active)
        personal_postings = scope.personal_nos.postings(plain)
        digit_postings = scope.digits.postings(digits) if digits else []
        if (name_keys is not None and email_plan is not None and personal_postings is not None
                and digit_postings is not None):
            exact_emails, email_candidates = email_plan
            # Name groups, email words and domains are exact and split by status.
            known = scope.names.ids(name_keys, query.is_active) | exact_emails
            if not checks:
                confirmed = known

            def q_candidates() -> Collection[int]:
                return (known | email_candidates(known) | _intersect(personal_postings, known)
                        | _intersect(digit_postings, known))

            lazy.append(q_candidates)
        if digits:
            checks.append(lambda p: _text_has(p, needle, plain) or digits in _digits_text(p))
        else:
            checks.append(lambda p: _text_has(p, needle, plain))

    if not checks:
        return None, None, ()
    candidates: Collection[int] | None = min(exact, key=len) if exact else None
    if candidates is None or len(candidates) > _FEW:
        for source in lazy:  # index sets only when no exact index narrowed it enough
            found_set = set(source())
            candidates = found_set if candidates is None else found_set.intersection(candidates)
    if candidates is None:
        confirmed = ()
    if len(checks) == 1:
        return checks[0], candidates, confirmed

    def predicate(p: Patient) -> bool:
        return all(check(p) for check in checks)

    return predicate, candidates, confirmed


_FEW = 64  # candidates checked one by one rather than narrowed further


def _intersect(postings: list[array[int]], known: Collection[int] = ()) -> set[int]:
    """Ids in every posting (smallest first) and not in `known` (matches
    already), narrowed while it pays. Walking a posting in C costs ~30 ns an
    id, binary-searching it ~600 ns a candidate (postings are sorted), and
    checking a candidate against its patient ~2 us at a million patients: a
    posting up to 16 times the candidates left is walked, a longer one (a
    gram every "-ski" email holds) is searched for each candidate."""
    if not postings:
        return set()
    found = set(postings[0])
    if known:
        found.difference_update(known)
    for bucket in postings[1:]:
        if len(found) <= _FEW:
            break
        if len(bucket) <= 16 * len(found):
            found.intersection_update(bucket)
        else:
            size = len(bucket)
            found = {i for i in found if (at := bisect_left(bucket, i)) < size and bucket[at] == i}
    return found


def _insert_sorted(ids: list[int], patient_id: int) -> None:
    if not ids or ids[-1] < patient_id:
        ids.append(patient_id)
    else:
        insort(ids, patient_id)


def _remove_sorted(ids: list[int], patient_id: int) -> None:
    index = bisect_left(ids, patient_id)
    if index < len(ids) and ids[index] == patient_id:
        del ids[index]
