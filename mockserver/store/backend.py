"""What the API and the control plane ask of the state, whatever keeps it.

`Backend` is the one interface above the data layer: every request handler
and control endpoint talks to it, and awaits it, so a backend may keep the
state in this process (memory_backend.py) or in a database shared by several
processes. Refusals are domain errors (`Missing`, `Taken`, `TokenRefused`,
and `NotSaved` for a write that could not be made durable, which then changed
nothing); the API layer turns them into answers. A write returns only once it
is durable, when the backend keeps a state file. At the open points that live
in the data a backend answers by its `StoreRules` (defined with the other
decisions in mockserver/decisions.py, re-exported here), given when it is built.

A request acts as a `Caller`: the `Principal` of a checked token, or, from a
backend that checks the token inside the statement that reads or writes
(one round trip instead of two: the PostgreSQL store), the `Credential` still
to check. Either way every data method refuses a refused token
(`TokenRefused`), and `principal` checks a caller that no statement has.

A backend may let the API keep its answers to reads (api/answers.py) by
versioning its data: `answers_version` (the one method that is not awaited:
it is asked on every read and must not wait on anything).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..decisions import StoreRules
from ..domain.models import Account, Token, User
from ..domain.records import Patient
from .planner import PatientQuery

__all__ = ["Backend", "Caller", "Credential", "Principal", "StoreRules", "is_checked", "mark_checked"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the token's account and user."""

    account_id: int
    user: User
    token_id: int


@dataclass(slots=True)
class Credential:
    """A bearer token not checked yet: the backend checks it in the statement that
    uses it, and marks it `checked` once one has found it live."""

    token_sha256: str
    checked: bool = False


#: Who a request acts as (see the module's docstring).
Caller = Principal | Credential


def is_checked(caller: Caller) -> bool:
    """Whether the caller's token was found live during this request."""
    return isinstance(caller, Principal) or caller.checked


def mark_checked(caller: Caller) -> None:
    """A statement found the caller's token live."""
    if isinstance(caller, Credential):
        caller.checked = True


class Backend(Protocol):
    # -- the API ----------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        """The principal of a live token; TokenRefused otherwise."""

    async def caller(self, secret: str) -> Caller:
        """Who a request with this token acts as: its `Principal` (TokenRefused for a
        refused token), or a `Credential` that the data methods check."""

    async def principal(self, caller: Caller) -> Principal:
        """The caller's principal, its token checked now if no statement has; TokenRefused."""

    async def get_patient(self, caller: Caller, patient_id: int) -> Patient:
        """The caller's account's patient; Missing for an unknown id or another account's."""

    async def list_patients(
        self, caller: Caller, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        """One page of matches, and their total: ascending id order, or descending
        under `StoreRules.newest_first`; `query.is_active` False selects archived
        patients only, or every patient under `StoreRules.inactive_lists_all`."""

    async def create_patient(self, caller: Caller, values: Mapping[str, Any]) -> Patient:
        """Taken when a unique value (external_id, unless `StoreRules.external_id_shared`)
        is held in the account. Timestamps as `StoreRules.seconds` says."""

    async def update_patient(self, caller: Caller, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        """Apply `changes` atomically; `updated_at` moves only when a value changes
        (on every update under `StoreRules.noop_touches`)."""

    def answers_version(self, account_id: int) -> int | None:
        """A number that changes on every change to what the account's answers
        show: its patients (created, changed, archived, imported) and the whole
        state (reset, loaded); never the same for two states of this process.
        None: the backend cannot know of every write (a database shared by
        several processes), so no answer is kept."""

    # -- the control plane ------------------------------------------------------------------

    async def accounts(self) -> list[tuple[Account, int]]:
        """Every account with its number of patients."""

    async def account(self, account_id: int) -> Account:
        """Missing for an unknown account."""

    async def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        """Those of `values` a new patient of the account may not take: held by one
        of its patients (none under `StoreRules.external_id_shared`)."""

    async def create_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        """Every row or none (an import)."""

    async def tokens(self, account_id: int) -> list[Token]: ...

    async def create_token(self, account_id: int, name: str) -> tuple[Token, str]:
        """A new live token and its secret, returned this once."""

    async def revoke_token(self, token_id: int) -> Token:
        """Revoked for good; Missing for an unknown token."""

    async def export(self) -> dict[str, Any]:
        """The whole state as a document (store/documents.py)."""

    async def replace(self, document: Any) -> None:
        """The state becomes `document`, tokens included; FixtureError (InvalidState
        when a value breaks the API's rules) and no change if it is not one."""

    async def reset(self) -> None:
        """Accounts and patients back to the fixtures; every token stays as it is
        (a revoked token can never be re-enabled)."""

    async def start(self) -> None:
        """At start-up, before the first request (connect, if the state is elsewhere)."""

    async def close(self) -> None:
        """At shutdown: release what the state needs (every acknowledged write is
        already durable)."""

    def shutdown(self) -> None:
        """After the server stopped, outside its event loop: release whatever
        `close` did not get to (a second Ctrl-C skips the lifespan's shutdown).
        Idempotent."""
