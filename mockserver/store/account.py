"""One clinic account's patients and the indexes over them, and how a patient
is indexed.

What `q` matches is, for each patient, the text
    fold(first) SEP fold(last) SEP fold(first + " " + last)
(its `names_key`, one string shared by every patient of the same name), the
case-folded email and personal number, and the phone digits
(`phone_search_digits`). Only the names key is kept on the patient; the rest
is derived when a candidate is checked.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from ..domain.phones import phone_search_digits
from ..domain.records import Patient
from ..domain.text import fold
from .columnar import CHUNK
from .indexes import SEPARATOR, ExactIndex, Rows, Trigrams, ValueGroups, insert_sorted, remove_sorted

__all__ = ["AccountPatients", "NamesKeys", "digits_text", "email_parts", "folded_key", "next_version"]

# Letter runs of an email (3+ letters: the shortest needle looked up). A
# needle of letters only lies inside one of them, so they answer it exactly.
EMAIL_WORD = re.compile(r"[^\W\d_]{3,}")

#: Data versions (api/answers.py): drawn from one counter, so no two states of
#: any account of any store in this process share one.
_VERSIONS = itertools.count(1)

_fold_name: Callable[[str], str] = lru_cache(maxsize=1 << 16)(fold)  # names repeat; fold is pure


class NamesKeys:
    """(first, last) -> names key, shared by the patients of one store: a
    million patients hold ~20k distinct names. Bounded."""

    __slots__ = ("_keys",)
    _LIMIT = 1 << 17

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], str] = {}

    def __call__(self, first: str, last: str) -> str:
        pair = (first, last)
        key = self._keys.get(pair)
        if key is None:
            if len(self._keys) >= self._LIMIT:
                self._keys.clear()
            parts = (first, last, f"{first} {last}")
            key = self._keys[pair] = SEPARATOR.join(_fold_name(part) for part in parts)
        return key


def folded_key(value: str) -> str:
    """`value.casefold()`, sharing the stored string when folding changes nothing."""
    key = value.casefold()
    return value if key == value else key


def email_parts(email: str) -> tuple[str, str | None]:
    """(local part, domain) of a case-folded email; (whole, None) unless it has exactly one "@"."""
    local, at, domain = email.partition("@")
    if not at or "@" in domain:
        return email, None
    return local, domain


def digits_text(p: Patient) -> str:
    return phone_search_digits(p.phone_e164)


def next_version() -> int:
    return next(_VERSIONS)


@dataclass
class AccountPatients:
    #: Moves on every write to the account's patients (`Store.answers_version`).
    version: int = field(default_factory=next_version)
    by_id: Rows[Patient] = field(default_factory=Rows)
    active: list[int] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)
    by_email: ExactIndex = field(default_factory=ExactIndex)
    by_personal_no: ExactIndex = field(default_factory=ExactIndex)
    by_external_id: ExactIndex = field(default_factory=ExactIndex)  # one holder, unless StoreRules share them
    by_legacy_id: ExactIndex = field(default_factory=ExactIndex)
    names: ValueGroups = field(default_factory=ValueGroups)
    # Email: its words (letter runs) and its domain by value, the local part by
    # trigrams (the whole address when it has no single "@").
    email_words: ValueGroups = field(default_factory=ValueGroups)
    email_domains: ValueGroups = field(default_factory=ValueGroups)
    email_locals: Trigrams = field(default_factory=lambda: Trigrams(SEPARATOR, letters=False))
    personal_nos: Trigrams = field(default_factory=lambda: Trigrams(SEPARATOR))
    digits: Trigrams = field(default_factory=lambda: Trigrams(" "))

    def index(self, p: Patient) -> None:
        self.version = next(_VERSIONS)
        insert_sorted(self.active if p.is_active else self.archived, p.id)
        if p.email:
            self.by_email.add(folded_key(p.email), p.id)
        if p.personal_no:
            self.by_personal_no.add(folded_key(p.personal_no), p.id)
        if p.external_id:
            self.by_external_id.add(p.external_id, p.id)
        if p.legacy_id:
            self.by_legacy_id.add(p.legacy_id, p.id)
        self.names.add(p.names_key, p.id, p.is_active)
        if p.email:
            email = p.email.casefold()
            for word in set(EMAIL_WORD.findall(email)):
                self.email_words.add(word, p.id, p.is_active)
            local, domain = email_parts(email)
            if domain is not None:
                self.email_domains.add(domain, p.id, p.is_active)
            if local:
                self.email_locals.add(p.id, local)
        if p.personal_no:
            self.personal_nos.add(p.id, p.personal_no.casefold())
        digits = digits_text(p)
        if digits:
            self.digits.add(p.id, digits)

    def index_many(self, patients: Sequence[Patient]) -> None:
        """`by_id[p.id] = p` and `index(p)` for each of `patients` (a load of a
        million: bench/README.md). Ids must rise past every id here; otherwise
        each is indexed on its own."""
        top = max(self.active[-1] if self.active else 0, self.archived[-1] if self.archived else 0)
        if not patients or patients[0].id <= top or any(b.id <= a.id for a, b in pairwise(patients)):
            for p in patients:
                self.by_id[p.id] = p
                self.index(p)
            return
        self.version = next(_VERSIONS)
        for start in range(0, len(patients), CHUNK):
            self._index_chunk(patients[start : start + CHUNK])

    def _index_chunk(self, patients: Sequence[Patient]) -> None:
        """One pass gathers each index's entries, then each index takes them at
        once (`add_many`). A chunk at a time: the entries gathered (a local
        part, an email word) live only until their chunk is indexed, so the
        memory they took is reused by the next chunk's instead of staying in
        the process after the load (bench/README.md)."""
        active, archived = self.active.append, self.archived.append
        emails: list[str] = []
        email_ids: list[int] = []
        external_ids: list[str] = []
        external_owners: list[int] = []
        legacy_ids: list[str] = []
        legacy_owners: list[int] = []
        names: list[str] = []
        actives: list[bool] = []
        words: list[str] = []
        word_ids: list[int] = []
        word_actives: list[bool] = []
        domains: list[str] = []
        domain_ids: list[int] = []
        domain_actives: list[bool] = []
        local_ids: list[int] = []
        locals_: list[str] = []
        personal_ids: list[int] = []
        personal_nos: list[str] = []
        digit_ids: list[int] = []
        digit_texts: list[str] = []
        words_of = EMAIL_WORD.findall
        for p in patients:
            pid, is_active = p.id, p.is_active
            (active if is_active else archived)(pid)
            names.append(p.names_key)
            actives.append(is_active)
            email = p.email
            if email:
                folded = email.casefold()
                emails.append(email if folded == email else folded)
                email_ids.append(pid)
                for word in set(words_of(folded)):
                    words.append(word)
                    word_ids.append(pid)
                    word_actives.append(is_active)
                local, domain = email_parts(folded)
                if domain is not None:
                    domains.append(domain)
                    domain_ids.append(pid)
                    domain_actives.append(is_active)
                if local:
                    local_ids.append(pid)
                    locals_.append(local)
            personal_no = p.personal_no
            if personal_no:
                folded = personal_no.casefold()
                personal_ids.append(pid)
                personal_nos.append(personal_no if folded == personal_no else folded)
            if p.external_id:
                external_ids.append(p.external_id)
                external_owners.append(pid)
            if p.legacy_id:
                legacy_ids.append(p.legacy_id)
                legacy_owners.append(pid)
            if p.phone_e164:
                text = digits_text(p)
                if text:
                    digit_ids.append(pid)
                    digit_texts.append(text)
        ids = [p.id for p in patients]
        self.by_id.extend(ids, patients)
        self.by_email.add_many(emails, email_ids)
        self.by_personal_no.add_many(personal_nos, personal_ids)
        self.by_external_id.add_many(external_ids, external_owners)
        self.by_legacy_id.add_many(legacy_ids, legacy_owners)
        self.names.add_many(names, ids, actives)
        self.email_words.add_many(words, word_ids, word_actives)
        self.email_domains.add_many(domains, domain_ids, domain_actives)
        self.email_locals.add_many(local_ids, locals_)
        self.personal_nos.add_many(personal_ids, personal_nos)
        self.digits.add_many(digit_ids, digit_texts)

    def unindex(self, p: Patient) -> None:
        """Remove from the exact indexes; trigram postings go stale harmlessly."""
        self.version = next(_VERSIONS)
        remove_sorted(self.active if p.is_active else self.archived, p.id)
        self.names.remove(p.names_key, p.id, p.is_active)
        if p.email:
            email = p.email.casefold()
            for word in set(EMAIL_WORD.findall(email)):
                self.email_words.remove(word, p.id, p.is_active)
            domain = email_parts(email)[1]
            if domain is not None:
                self.email_domains.remove(domain, p.id, p.is_active)
            self.by_email.discard(email, p.id)
        if p.personal_no:
            self.by_personal_no.discard(p.personal_no.casefold(), p.id)
        if p.external_id:
            self.by_external_id.discard(p.external_id, p.id)
        if p.legacy_id:
            self.by_legacy_id.discard(p.legacy_id, p.id)
