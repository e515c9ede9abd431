"""The in-memory store: accounts, tokens and patients, kept per clinic account.

Every read and write of a patient is scoped to one account. Lists are served
from per-account indexes (account.py, planner.py) so that a page, a filter or
a search does not scan the whole store.

The mock serves requests on one event loop and store calls never await, so
each call is atomic; the lock makes that hold for threads too (CLI import,
tests driving the store directly).

At the open points that live in the data the store answers by its
`StoreRules` (mockserver/decisions.py documents each). They are not part of
the state: a pickled store or state document loaded into a store gets the rules of
the store it is loaded for.
"""

from __future__ import annotations

import dataclasses
import heapq
import sys
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from .._exceptions import Missing, Taken, TokenRefused
from ..decisions import StoreRules
from ..domain.models import Account, Token
from ..domain.records import Patient, PatientSchema
from ..domain.timestamps import now_ms
from ..domain.tokens import hash_token, new_token
from .account import AccountPatients, NamesKeys, next_version
from .backend import Principal
from .planner import PatientQuery, plan

__all__ = ["Principal", "Store"]


class Store:
    """All of the mock's state. Create one, then load fixtures or a state document into it."""

    def __init__(self, schema: PatientSchema, rules: StoreRules | None = None) -> None:
        #: The stored fields of a patient (from the spec) and how records are made.
        self.schema = schema
        #: How lists, writes and timestamps answer at the spec's open points.
        self.rules = rules or StoreRules()
        self._lock = threading.RLock()
        self._accounts: dict[int, Account] = {}
        self._patients: dict[int, AccountPatients] = {}
        self._tokens: dict[int, Token] = {}
        self._token_by_hash: dict[str, Token] = {}
        self._next_patient_id = 1
        self._next_token_id = 1
        self._names_key = NamesKeys()

    def __getstate__(self) -> dict[str, Any]:
        # A store can be pickled (a test's copy, a process's); a lock cannot be,
        # and the rules are not data (the loader sets its own).
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "rules")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self.rules = StoreRules()
        for scope in self._patients.values():  # a copy is another state: its answers are not the original's
            scope.version = next_version()

    # -- accounts and tokens ----------------------------------------------------------------

    def add_account(self, account: Account) -> None:
        with self._lock:
            if account.id in self._accounts:
                raise ValueError(f"account id {account.id} is already taken")
            self._accounts[account.id] = account
            self._patients.setdefault(account.id, AccountPatients()).version = next_version()  # its users may differ

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def account(self, account_id: int) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise Missing("account", account_id) from None

    def add_token(self, token: Token) -> None:
        with self._lock:
            if token.id in self._tokens:
                raise ValueError(f"token id {token.id} is already taken")
            holder = self._token_by_hash.get(token.token_sha256)
            if holder is not None:
                raise ValueError(f"token {token.id} has the secret of token {holder.id}")
            self._tokens[token.id] = token
            self._token_by_hash[token.token_sha256] = token
            self._next_token_id = max(self._next_token_id, token.id + 1)

    def new_token(self, account_id: int, name: str, user_id: int | None = None) -> tuple[Token, str]:
        """A new live token and its secret, not yet added (a durable backend records it
        first); only the hash of the secret is kept."""
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
        return token, secret

    def create_token(self, account_id: int, name: str, user_id: int | None = None) -> tuple[Token, str]:
        """A new live token; its secret is returned once and only its hash is kept."""
        with self._lock:
            token, secret = self.new_token(account_id, name, user_id)
            self.add_token(token)
            return token, secret

    def token(self, token_id: int) -> Token:
        token = self._tokens.get(token_id)
        if token is None:
            raise Missing("token", token_id)
        return token

    def revoke_token(self, token_id: int) -> Token:
        """Revoked for good: the next request with it is a 401."""
        with self._lock:
            token = self.token(token_id)
            token.revoked = True
            scope = self._patients.get(token.account_id)
            if scope is not None:  # what was kept for its requests is given no more (api/answers.py `recall`)
                scope.version = next_version()
            return token

    def carry_tokens_from(self, old: Store) -> None:
        """After a reset: every token of `old` stays as it was (a revoked one stays
        revoked, as the spec says it always does), where its account still exists;
        a token whose id is taken here gets a new one."""
        with self._lock:
            for token in old.tokens():
                mine = self._token_by_hash.get(token.token_sha256)
                if mine is not None:
                    mine.revoked = mine.revoked or token.revoked
                elif token.account_id in self._accounts:
                    kept = dataclasses.replace(token)
                    if kept.id in self._tokens:
                        kept.id = self._next_token_id
                    self.add_token(kept)

    def tokens(self, account_id: int | None = None) -> list[Token]:
        return [t for t in self._tokens.values() if account_id is None or t.account_id == account_id]

    def authenticate(self, secret: str) -> Principal:
        # The lookup is by SHA-256 of the secret, so response time reveals
        # nothing about how close a guess is to a real token.
        return self.principal_of(hash_token(secret))

    def principal_of(self, token_sha256: str) -> Principal:
        """The principal of the live token with this hash; TokenRefused otherwise."""
        token = self._token_by_hash.get(token_sha256)
        if token is None or token.revoked:
            raise TokenRefused()
        account = self._accounts.get(token.account_id)
        user = account.users.get(token.user_id) if account else None
        if user is None:
            raise TokenRefused()
        return Principal(account_id=token.account_id, user=user, token_id=token.id)

    # -- patients ---------------------------------------------------------------------------

    def get_patient(self, account_id: int, patient_id: int) -> Patient:
        """The account's patient; another account's id is as missing as an unknown one."""
        patient = self._scope(account_id).by_id.get(patient_id)
        if patient is None:
            raise Missing("patient", patient_id)
        return patient

    def add_patient(self, patient: Patient) -> Patient:
        """Insert a fully-formed patient (fixtures, generated data, state loads)."""
        with self._lock:
            scope = self._scope(patient.account_id)
            # Ids are global; one past every id in the store (a create's) is free.
            if patient.id < self._next_patient_id and any(patient.id in o.by_id for o in self._patients.values()):
                raise ValueError(f"patient id {patient.id} is already taken")
            self._insert(scope, patient)
            self._next_patient_id = max(self._next_patient_id, patient.id + 1)
            return patient

    def add_rows(self, names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert fully-formed patients given as tuples of the fields `names`
        (store/generate.py's rows: values as stored, equal ones shared), in bulk:
        how a million are loaded (bench/README.md). Those whose id is not past
        every id in the store are added one by one, with `add_patient`'s check."""
        make = self.schema.maker(names)
        names_key = self._names_key
        pending: dict[int, list[Patient]] = {}  # account -> patients made, not yet indexed

        def index_pending() -> None:
            for account, patients in pending.items():
                self._scope(account).index_many(patients)
            pending.clear()

        count = 0
        with self._lock:
            next_id, account_id, batch = self._next_patient_id, None, []
            for row in rows:
                patient = make(row)
                count += 1
                if patient.id < next_id:  # not past every id: checked and indexed on its own
                    index_pending()
                    self._next_patient_id, account_id = next_id, None
                    self.add_patient(patient)
                    next_id = self._next_patient_id
                    continue
                if patient.account_id != account_id:  # rows come account by account
                    account_id = patient.account_id
                    self._scope(account_id)
                    batch = pending.setdefault(account_id, [])
                patient.names_key = names_key(patient.first_name, patient.last_name)
                batch.append(patient)
                next_id = patient.id + 1
            self._next_patient_id = next_id
            index_pending()
        return count

    def new_patient(self, account_id: int, values: Mapping[str, Any]) -> Patient:
        """The patient `create_patient` would store, not yet stored (a durable
        backend records it first, then adds it with `add_patient`)."""
        scope = self._scope(account_id)
        self._check_unique(scope, values, None)
        stamp = self.rules.now()
        return self.schema.new(
            **values, id=self._next_patient_id, account_id=account_id, created_at=stamp, updated_at=stamp
        )

    def create_patient(self, account_id: int, values: Mapping[str, Any]) -> Patient:
        with self._lock:
            return self.add_patient(self.new_patient(account_id, values))

    def plan_update(
        self, account_id: int, patient_id: int, changes: Mapping[str, Any]
    ) -> tuple[Patient, dict[str, Any]]:
        """The patient and the values an update really changes, `updated_at`
        included ({} when nothing changes, unless `rules.noop_touches`);
        nothing is changed yet."""
        scope = self._scope(account_id)
        patient = self.get_patient(account_id, patient_id)
        changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
        if not changed and not self.rules.noop_touches:
            return patient, {}
        self._check_unique(scope, changed, patient.id)
        changed["updated_at"] = self.rules.stamp_after(patient.updated_at)
        return patient, changed

    def apply_update(self, account_id: int, patient: Patient, changed: Mapping[str, Any]) -> Patient:
        """Set what `plan_update` found changed, re-indexing the patient."""
        with self._lock:
            scope = self._scope(account_id)
            scope.unindex(patient)
            for name, value in changed.items():
                setattr(patient, name, value)
            patient.names_key = self._names_key(patient.first_name, patient.last_name)
            scope.index(patient)
            return patient

    def update_patient(self, account_id: int, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        """Apply the changed fields; `updated_at` moves only if a value really
        changed (on every update under `rules.noop_touches`)."""
        with self._lock:
            patient, changed = self.plan_update(account_id, patient_id, changes)
            return self.apply_update(account_id, patient, changed) if changed else patient

    def list_patients(
        self, account_id: int, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        """One page of matching patients, and the total: in ascending id order
        (descending under `rules.newest_first`); `is_active` False lists the
        archived ones (everyone under `rules.inactive_lists_all`)."""
        scope = self._scope(account_id)
        rules = self.rules
        status: bool | None = None if not query.is_active and rules.inactive_lists_all else query.is_active
        chosen = plan(scope, query, status, rules)
        predicate = chosen.predicate
        start = (page - 1) * per_page
        newest_first = rules.newest_first
        if predicate is None:
            return scope.by_id.many(_window(scope, status, newest_first, start, per_page)), _count(scope, status)
        by_id = scope.by_id
        candidates, confirmed = chosen.candidates, chosen.confirmed
        if candidates is None:
            # A scan of the status lists: already in order and without repeats.
            matches = [i for i in _in_order(scope, status, newest_first) if predicate(by_id[i])]
        else:
            # `confirmed` ids are known to match (a name search's own groups):
            # only the other candidates are read and checked.
            if confirmed:
                candidates = () if candidates is confirmed else set(candidates).difference(confirmed)
            get = by_id.get
            if status is None:
                matches = [i for i in candidates if (p := get(i)) is not None and predicate(p)]
            else:
                matches = [
                    i for i in candidates if (p := get(i)) is not None and p.is_active is status and predicate(p)
                ]
            matches.extend(confirmed)
            end = start + per_page
            if end * 16 < len(matches):  # an early page of many matches: pick it, do not sort them all
                pick = heapq.nlargest if newest_first else heapq.nsmallest
                return by_id.many(pick(end, matches)[start:]), len(matches)
            matches.sort(reverse=newest_first)
        return by_id.many(matches[start : start + per_page]), len(matches)

    def answers_version(self, account_id: int) -> int | None:
        """The version of the account's patients: it moves on every write to them
        (each insert and index change, every update) and when one of the account's
        tokens is revoked; a new store's are new numbers."""
        scope = self._patients.get(account_id)
        return None if scope is None else scope.version

    def patients(self, account_id: int | None = None) -> Iterator[Patient]:
        scopes = self._patients.values() if account_id is None else [self._scope(account_id)]
        for scope in scopes:
            yield from scope.by_id.values()

    def count(self, account_id: int) -> int:
        return len(self._scope(account_id).by_id)

    def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        """Those of `values` a new patient may not take (none while they may be shared)."""
        scope = self._scope(account_id)
        if self.rules.external_id_shared:
            return set()
        return {value for value in values if scope.by_external_id.get(value)}

    def new_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        """The patients `create_patients` would store, each row checked before
        any is made; none is stored yet."""
        scope = self._scope(account_id)
        claimed: set[str] = set()
        for values in rows:
            self._check_unique(scope, values, None)
            external_id = values.get("external_id")
            if external_id and external_id in claimed and not self.rules.external_id_shared:
                raise Taken("external_id", external_id)
            if external_id:
                claimed.add(external_id)
        stamp = self.rules.now()
        return [
            self.schema.new(
                **values, id=self._next_patient_id + n, account_id=account_id, created_at=stamp, updated_at=stamp
            )
            for n, values in enumerate(rows)
        ]

    def create_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        """Every row or none: each is checked before the first is created."""
        with self._lock:
            return [self.add_patient(p) for p in self.new_patients(account_id, rows)]

    # -- internals --------------------------------------------------------------------------

    def _scope(self, account_id: int) -> AccountPatients:
        scope = self._patients.get(account_id)
        if scope is None:
            raise Missing("account", account_id)
        return scope

    def _insert(self, scope: AccountPatients, patient: Patient) -> None:
        _compact(patient)
        patient.names_key = self._names_key(patient.first_name, patient.last_name)
        scope.by_id[patient.id] = patient
        scope.index(patient)

    def _check_unique(self, scope: AccountPatients, values: Mapping[str, Any], own_id: int | None) -> None:
        external_id = values.get("external_id")
        if not external_id or self.rules.external_id_shared:
            return
        if any(holder != own_id for holder in scope.by_external_id.get(external_id)):
            raise Taken("external_id", external_id)


def _count(scope: AccountPatients, status: bool | None) -> int:
    if status is None:
        return len(scope.active) + len(scope.archived)
    return len(scope.active if status else scope.archived)


def _in_order(scope: AccountPatients, status: bool | None, newest_first: bool) -> Iterable[int]:
    """The ids of a status (None: both) in list order."""
    if status is not None:
        ids = scope.active if status else scope.archived
        return reversed(ids) if newest_first else ids
    if newest_first:
        return heapq.merge(reversed(scope.active), reversed(scope.archived), reverse=True)
    return heapq.merge(scope.active, scope.archived)


def _window(scope: AccountPatients, status: bool | None, newest_first: bool, start: int, size: int) -> list[int]:
    """One page of the ids of a status (None: both) in list order, without a filter."""
    if status is not None and not newest_first:
        return (scope.active if status else scope.archived)[start : start + size]
    if status is not None:
        ids = scope.active if status else scope.archived
        end = len(ids) - start
        return ids[max(end - size, 0) : end][::-1] if end > 0 else []
    return list(islice(_in_order(scope, status, newest_first), start, start + size))


# Memory at a million patients (bench/README.md): values drawn from small sets
# are shared, not copied once per patient.
_NO_DICT: dict[str, str] = {}
_NO_LIST: list[str] = []
_SHARED_FIELDS = ("first_name", "last_name", "birthdate", "gender", "locale", "phone_country")


_CONTAINERS: dict[type, tuple[str, ...]] = {}  # record type -> its fields whose default is a dict or a list


def _compact(p: Patient) -> None:
    """Share what many patients hold alike: interned short strings, one empty
    dict and one empty list (container fields are read-only in the API,
    replaced and never changed in place), one int for equal timestamps."""
    containers = _CONTAINERS.get(type(p))
    if containers is None:
        blank = type(p)()  # every field at its default
        slots: tuple[str, ...] = p.__slots__  # type: ignore[attr-defined]
        containers = _CONTAINERS[type(p)] = tuple(name for name in slots if type(getattr(blank, name)) in (dict, list))
    for name in containers:
        value = getattr(p, name)
        if type(value) is dict and not value:
            setattr(p, name, _NO_DICT)
        elif type(value) is list and not value:
            setattr(p, name, _NO_LIST)
    for name in _SHARED_FIELDS:
        value = getattr(p, name, None)
        if type(value) is str:
            setattr(p, name, sys.intern(value))
    if p.updated_at == p.created_at:
        p.updated_at = p.created_at
