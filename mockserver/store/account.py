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
from .indexes import SEPARATOR, ExactIndex, Rows, Trigrams, ValueGroups, insert_sorted, remove_sorted

__all__ = ["AccountPatients", "NamesKeys", "digit_grams", "digits_text", "email_parts", "folded_key", "next_version"]

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


def digit_grams(text: str) -> set[str]:
    """`trigrams(text, " ")` of a `digits_text`, faster: its national form (trunk
    prefix + national number) repeats the end of its E.164 digits, whose
    trigrams hold all of the form's but the first."""
    digits, _, national = text.partition(" ")
    grams = {digits[i : i + 3] for i in range(len(digits) - 2)}
    if national:
        if national[1:] in digits:
            if len(national) >= 3:
                grams.add(national[:3])
        else:
            grams.update([national[i : i + 3] for i in range(len(national) - 2)])
    return grams


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
        """`by_id[p.id] = p` and `index(p)` for each of `patients`, in one loop
        with every append at hand (a load of a million: bench/README.md). Ids
        must rise past every id here; otherwise each is indexed on its own.
        Nothing is cached across patients: what a cache keeps alive while
        loading stays in the process's memory after it (bench/README.md)."""
        top = max(self.active[-1] if self.active else 0, self.archived[-1] if self.archived else 0)
        if not patients or patients[0].id <= top or any(b.id <= a.id for a, b in pairwise(patients)):
            for p in patients:
                self.by_id[p.id] = p
                self.index(p)
            return
        self.version = next(_VERSIONS)
        by_id, active, archived = self.by_id, self.active.append, self.archived.append
        by_email, by_personal_no = self.by_email.add, self.by_personal_no.add
        by_external_id, by_legacy_id = self.by_external_id.add, self.by_legacy_id.add
        names, email_words, email_domains = self.names.add, self.email_words.add, self.email_domains.add
        email_locals, personal_nos, digits = self.email_locals.add, self.personal_nos.add, self.digits.add
        words_of = EMAIL_WORD.findall
        for p in patients:
            pid, is_active = p.id, p.is_active
            by_id[pid] = p
            (active if is_active else archived)(pid)
            email = p.email
            if email:
                folded = email.casefold()
                by_email(email if folded == email else folded, pid)
                for word in set(words_of(folded)):
                    email_words(word, pid, is_active)
                local, domain = email_parts(folded)
                if domain is not None:
                    email_domains(domain, pid, is_active)
                if local:
                    email_locals(pid, local)
            personal_no = p.personal_no
            if personal_no:
                folded = personal_no.casefold()
                by_personal_no(personal_no if folded == personal_no else folded, pid)
                personal_nos(pid, folded)
            if p.external_id:
                by_external_id(p.external_id, pid)
            if p.legacy_id:
                by_legacy_id(p.legacy_id, pid)
            names(p.names_key, pid, is_active)
            if p.phone_e164:
                text = digits_text(p)
                if text:
                    digits(pid, text, digit_grams(text))

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
