"""How a list query is answered from an account's indexes: a typed plan.

`plan(scope, query)` gives a `QueryPlan`: the filters every match satisfies,
the candidate ids that hold every match (None: walk the status list) and the
ids among them already known to match. Candidates come from the indexes, the
exact ones first, then shared values (names, email words and domains) and the
intersection of trigram postings, so a search costs about its matches, not
the store's size.

The store's rules (`StoreRules`) change what a filter matches, never which
candidates hold every match: an index keyed by a folded value still holds the
exact one, so a stricter filter only checks the same candidates differently.
A plain (unfolded) search is a scan with a predicate.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from ..decisions import StoreRules
from ..domain.records import Patient
from ..domain.text import fold
from .account import AccountPatients, digits_text
from .indexes import SEPARATOR

__all__ = ["Filter", "PatientQuery", "QueryPlan", "plan"]

#: Candidates checked one by one rather than narrowed further.
FEW = 64
_PHONE_CHARS = frozenset("0123456789 +-()./")


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """A list request's filters; all combine with AND. What `is_active` False
    selects, and how each filter matches, is the backend's `StoreRules`."""

    is_active: bool = True
    q: str | None = None
    email: str | None = None
    phone: str | None = None
    personal_no: str | None = None
    external_id: str | None = None
    legacy_id: str | None = None


class Filter(Protocol):
    def matches(self, p: Patient) -> bool: ...


@dataclass(frozen=True, slots=True)
class EqualsIgnoringCase:
    """`email`, `personal_no`: exact, case-insensitive."""

    field: str
    value: str  # case-folded

    def matches(self, p: Patient) -> bool:
        return (getattr(p, self.field) or "").casefold() == self.value


@dataclass(frozen=True, slots=True)
class Equals:
    """`external_id`, `legacy_id` (and `email`, `personal_no` when case counts): exact."""

    field: str
    value: str

    def matches(self, p: Patient) -> bool:
        return bool(getattr(p, self.field) == self.value)


@dataclass(frozen=True, slots=True)
class PhoneDigits:
    """The query's digits anywhere in the E.164 or national form (none: nothing matches)."""

    digits: str

    def matches(self, p: Patient) -> bool:
        return bool(self.digits) and self.digits in digits_text(p)


@dataclass(frozen=True, slots=True)
class E164Digits:
    """The query's digits anywhere in the E.164 number (none: nothing matches)."""

    digits: str

    def matches(self, p: Patient) -> bool:
        return bool(self.digits) and self.digits in (p.phone_e164 or "")


@dataclass(frozen=True, slots=True)
class TextSearch:
    """`q`: the folded needle in the names, the case-folded query in the email
    or personal number (folding would turn "x" in an email into "dz"), or its
    digits in the phone when the query looks like a phone number."""

    needle: str
    plain: str
    digits: str

    def matches(self, p: Patient) -> bool:
        if self.needle in p.names_key:
            return True
        email, personal_no, plain = p.email, p.personal_no, self.plain
        if (email and plain in email.casefold()) or (personal_no and plain in personal_no.casefold()):
            return True
        return bool(self.digits) and self.digits in digits_text(p)


@dataclass(frozen=True, slots=True)
class PlainSearch:
    """`q` under `StoreRules.plain_search`: the case-folded query in the values
    as stored (names, "first last", email, personal number), or its digits in
    the digits of the stored phone or of its E.164 form."""

    plain: str
    digits: str

    def matches(self, p: Patient) -> bool:
        plain = self.plain
        first, last = p.first_name.casefold(), p.last_name.casefold()
        if plain in first or plain in last or plain in f"{first} {last}":
            return True
        email, personal_no = p.email, p.personal_no
        if (email and plain in email.casefold()) or (personal_no and plain in personal_no.casefold()):
            return True
        return bool(self.digits) and self.digits in f"{_digits(p.phone or '')} {_digits(p.phone_e164 or '')}"


@dataclass(frozen=True, slots=True)
class QueryPlan:
    filters: tuple[Filter, ...]
    candidates: Collection[int] | None  # ids holding every match; None: walk the status list
    confirmed: Collection[int] = ()  # among the candidates, ids known to match

    @property
    def predicate(self) -> Callable[[Patient], bool] | None:
        """One call per candidate: the filter itself when there is one."""
        if not self.filters:
            return None
        if len(self.filters) == 1:
            return self.filters[0].matches
        return self.matches

    def matches(self, p: Patient) -> bool:
        return all(f.matches(p) for f in self.filters)


def plan(
    scope: AccountPatients, query: PatientQuery, status: bool | None = True, rules: StoreRules | None = None
) -> QueryPlan:
    """The plan for `query` among the patients of `status` (True: active,
    False: archived, None: both), matching as `rules` say."""
    rules = rules or StoreRules()
    filters: list[Filter] = []
    exact: list[Collection[int]] = []
    lazy: list[Callable[[], Collection[int]]] = []
    confirmed: Collection[int] = ()

    if query.email:
        email = query.email.casefold()
        exact.append(scope.by_email.get(email))
        filters.append(
            Equals("email", query.email) if rules.case_sensitive_filters else EqualsIgnoringCase("email", email)
        )
    if query.personal_no:
        personal_no = query.personal_no.casefold()
        exact.append(scope.by_personal_no.get(personal_no))
        filters.append(
            Equals("personal_no", query.personal_no)
            if rules.case_sensitive_filters
            else EqualsIgnoringCase("personal_no", personal_no)
        )
    if query.external_id:
        exact.append(scope.by_external_id.get(query.external_id))
        filters.append(Equals("external_id", query.external_id))
    if query.legacy_id:
        exact.append(scope.by_legacy_id.get(query.legacy_id))
        filters.append(Equals("legacy_id", query.legacy_id))
    if query.phone is not None:
        phone = _digits(query.phone)
        if phone:
            phone_postings = scope.digits.postings(phone)
            if phone_postings is not None:
                lazy.append(lambda: intersect(phone_postings))
        else:
            exact.append(())  # no digits: nothing can match
        filters.append(E164Digits(phone) if rules.phone_e164_only else PhoneDigits(phone))
    if query.q and rules.plain_search:
        filters.append(PlainSearch(query.q.casefold(), _digits(query.q) if set(query.q) <= _PHONE_CHARS else ""))
    elif query.q:
        search = TextSearch(fold(query.q), query.q.casefold(), _digits(query.q) if set(query.q) <= _PHONE_CHARS else "")
        name_values = scope.names.containing(search.needle)
        email_plan = _email_candidates(scope, search.plain, status)
        personal_postings = scope.personal_nos.postings(search.plain)
        digit_postings = scope.digits.postings(search.digits) if search.digits else []
        if (
            name_values is not None
            and email_plan is not None
            and personal_postings is not None
            and digit_postings is not None
        ):
            exact_emails, email_candidates = email_plan
            # Name groups, email words and domains are exact and split by status.
            known = scope.names.ids(name_values, status)
            known |= exact_emails
            if not filters:
                confirmed = known

            def q_candidates() -> Collection[int]:
                more = email_candidates(known)
                more |= intersect(personal_postings, known)
                more |= intersect(digit_postings, known)
                return known | more if more else known  # most searches: the known ids alone, not a copy

            lazy.append(q_candidates)
        filters.append(search)

    if not filters:
        return QueryPlan((), None)
    candidates: Collection[int] | None = min(exact, key=len) if exact else None
    if candidates is None or len(candidates) > FEW:
        for source in lazy:  # index sets only when no exact index narrowed it enough
            found = source()
            found_set = found if isinstance(found, set) else set(found)
            candidates = found_set if candidates is None else found_set.intersection(candidates)
    if candidates is None:
        confirmed = ()
    return QueryPlan(tuple(filters), candidates, confirmed)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _email_candidates(
    scope: AccountPatients, plain: str, active: bool | None
) -> tuple[set[int], Callable[[set[int]], set[int]]] | None:
    """Patients whose email contains `plain`: (ids known to, a function giving
    further candidates to check beyond some known ids), or None: scan."""
    if len(plain) < 3 or SEPARATOR in plain:
        return None
    if plain.isalpha():  # inside one word of the email: exact
        return scope.email_words.ids(scope.email_words.containing(plain) or [], active), lambda known: set()
    whole = scope.email_locals.postings(plain)  # in a local part, or anywhere in an address without one "@"
    assert whole is not None
    if "@" not in plain:  # in the local part or in the domain, never across the "@"
        domains = scope.email_domains.containing(plain) or []
        return scope.email_domains.ids(domains, active), lambda known: intersect(whole, known)
    before, _, after = plain.partition("@")
    by_domain = None
    if after and "@" not in after:
        by_domain = scope.email_domains.ids(scope.email_domains.starting(after), active)
    by_local: list[array[int]] | None = None
    by_word: set[int] | None = None  # `before` all letters: inside one word of the local part
    if len(before) >= 3 and before.isalpha():
        by_word = scope.email_words.ids(scope.email_words.containing(before) or [], active)
    elif len(before) >= 3:
        by_local = scope.email_locals.postings(before)
    if by_domain is None and by_local is None and by_word is None and after:
        return None  # "x@y": nothing short enough to narrow by
    if by_domain is None:
        # after is empty ("name@") or holds another "@": the local part must end with `before`
        # (whole addresses with two "@" are in `whole`).
        by_domain = scope.email_domains.ids(scope.email_domains.starting(""), active) if not after else set()

    def candidates(known: set[int]) -> set[int]:
        if by_word is not None:
            found = by_word & by_domain
        else:
            found = by_domain if by_local is None else intersect(by_local, known) & by_domain
        return (found - known) | intersect(whole, known)

    return set(), candidates


def intersect(postings: list[array[int]], known: Collection[int] = ()) -> set[int]:
    """Ids in every posting (smallest first) and not in `known` (matches
    already), narrowed while it pays: a posting up to 16 times the candidates
    left is intersected in C, a longer one (a gram every "-ski" email holds)
    binary-searched for each candidate (bench/README.md has the costs)."""
    if not postings:
        return set()
    found = set(postings[0])
    if known:
        found.difference_update(known)
    for bucket in postings[1:]:
        if len(found) <= FEW:
            break
        if len(bucket) <= 16 * len(found):
            found.intersection_update(bucket)
        else:
            size = len(bucket)
            found = {i for i in found if (at := bisect_left(bucket, i)) < size and bucket[at] == i}
    return found
