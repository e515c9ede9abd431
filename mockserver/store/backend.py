"""What the API and the control plane ask of the state, whatever keeps it.

`Backend` is the one interface above the data layer: every request handler
and control endpoint talks to it, and awaits it, so a backend may keep the
state in this process (memory_backend.py) or in a database shared by several
processes. Refusals are domain errors (`Missing`, `Taken`, `TokenRefused`);
the API layer turns them into answers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.models import Account, Token, User
from ..domain.records import Patient
from .planner import PatientQuery

__all__ = ["Backend", "Principal", "StoreRules"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the token's account and user."""

    account_id: int
    user: User
    token_id: int


@dataclass(frozen=True, slots=True)
class StoreRules:
    """How a backend answers at the open points that live in the data (the
    spec's x-decisions; mockserver/decisions.py reads them from the profile).
    Every backend honours all of them; the defaults are the kit's choices."""

    #: list_order: newest first (descending id) instead of ascending id.
    newest_first: bool = False
    #: inactive_filter: `is_active=false` lists active patients too.
    inactive_lists_all: bool = False
    #: search_matching: `q` as a case-insensitive substring of the stored values, no folding.
    plain_search: bool = False
    #: filter_case: `email` and `personal_no` filters match case included.
    case_sensitive_filters: bool = False
    #: phone_filter: the phone filter looks in the E.164 digits only.
    phone_e164_only: bool = False
    #: noop_patch: every accepted update moves `updated_at`.
    noop_touches: bool = False
    #: timestamps: whole seconds instead of milliseconds.
    seconds: bool = False
    #: external_id_unique: two patients of an account may share an external_id.
    external_id_shared: bool = False


class Backend(Protocol):
    # -- the API ----------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        """The principal of a live token; TokenRefused otherwise."""

    async def get_patient(self, account_id: int, patient_id: int) -> Patient:
        """The account's patient; Missing for an unknown id or another account's."""

    async def list_patients(
        self, account_id: int, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        """One page of matches in ascending id order, and their total."""

    async def create_patient(self, account_id: int, values: Mapping[str, Any]) -> Patient:
        """Taken when a unique value (external_id) is held in the account."""

    async def update_patient(self, account_id: int, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        """Apply `changes` atomically; `updated_at` moves only when a value changes."""

    # -- the control plane ------------------------------------------------------------------

    async def accounts(self) -> list[tuple[Account, int]]:
        """Every account with its number of patients."""

    async def account(self, account_id: int) -> Account:
        """Missing for an unknown account."""

    async def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        """Those of `values` some patient of the account already holds."""

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
        """The state becomes `document`; FixtureError (and no change) if it is not one."""

    async def reset(self) -> None:
        """Back to the fixtures."""

    async def start(self) -> None:
        """At start-up, before the first request (connect, if the state is elsewhere)."""

    async def close(self) -> None:
        """At shutdown: write what must outlive the process."""
