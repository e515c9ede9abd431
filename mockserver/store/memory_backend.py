"""The in-memory backend: the live `Store` and how it is rebuilt (fixtures,
generated patients, a state file, a state document).

Store calls never await, so on the server's one event loop each is atomic.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from ..decisions import StoreRules
from ..domain.models import Account, Token
from ..domain.records import Patient, PatientSchema
from ..settings import MockSettings
from .backend import Principal
from .documents import export_state, load_document, load_fixtures_dir, read_json, save_state
from .memory import Store
from .planner import PatientQuery

__all__ = ["MemoryBackend"]

logger = logging.getLogger("mockserver")


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MemoryBackend:
    """`Backend` over one in-process `Store` (the embedded default)."""

    def __init__(self, settings: MockSettings, schema: PatientSchema, rules: StoreRules | None = None):
        self.settings = settings
        self.schema = schema
        #: The open points that live in the data; every store this backend builds answers by them.
        self.rules = rules or StoreRules()
        #: Why the last save failed, if it did (the CLI's exit status says so).
        self.save_error: str | None = None
        state_file = settings.state_file
        if state_file is not None and state_file.exists():
            self.store = self._from_document(read_json(state_file), str(state_file))
            logger.info("loaded state from %s", state_file)
        else:
            self.store = self.fixture_store()

    # -- the API ----------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        return self.store.authenticate(secret)

    async def get_patient(self, account_id: int, patient_id: int) -> Patient:
        return self.store.get_patient(account_id, patient_id)

    async def list_patients(
        self, account_id: int, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        return self.store.list_patients(account_id, query, page, per_page)

    def answers_version(self, account_id: int) -> int | None:
        # The store is replaced whole on reset and load; its versions are new numbers.
        return self.store.answers_version(account_id)

    async def create_patient(self, account_id: int, values: Mapping[str, Any]) -> Patient:
        return self.store.create_patient(account_id, values)

    async def update_patient(self, account_id: int, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        return self.store.update_patient(account_id, patient_id, changes)

    # -- the control plane ------------------------------------------------------------------

    async def accounts(self) -> list[tuple[Account, int]]:
        return [(account, self.store.count(account.id)) for account in self.store.accounts()]

    async def account(self, account_id: int) -> Account:
        return self.store.account(account_id)

    async def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        return self.store.taken_external_ids(account_id, values)

    async def create_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        return self.store.create_patients(account_id, rows)

    async def tokens(self, account_id: int) -> list[Token]:
        self.store.account(account_id)
        return self.store.tokens(account_id)

    async def create_token(self, account_id: int, name: str) -> tuple[Token, str]:
        return self.store.create_token(account_id, name)

    async def revoke_token(self, token_id: int) -> Token:
        return self.store.revoke_token(token_id)

    async def export(self) -> dict[str, Any]:
        return export_state(self.store)

    async def replace(self, document: Any) -> None:
        # Build the new store completely before swapping, so a bad document
        # leaves the current state untouched.
        self.store = self._from_document(document, "state document")

    async def reset(self) -> None:
        self.store = self.fixture_store()

    async def close(self) -> None:
        self.save()

    # -- building and saving ----------------------------------------------------------------

    def fixture_store(self) -> Store:
        # Built afresh every time, a million patients included (bench/README.md:
        # faster than the pickled snapshot it replaced, and half the memory).
        with _collector_paused():  # millions of new objects: collecting midway only costs time
            return self._build_fixture_store()

    def _build_fixture_store(self) -> Store:
        store = Store(self.schema, self.rules)
        if self.settings.fixtures_dir is not None:
            load_fixtures_dir(store, self.settings.fixtures_dir)
        if self.settings.generate:
            from .generate import ROW_FIELDS, generate_rows  # only needed when asked for

            start_id = max((p.id for p in store.patients()), default=0) + 1
            account = store.account(self.settings.generate_account)
            store.add_rows(ROW_FIELDS, generate_rows(
                self.settings.generate, seed=self.settings.seed, account_id=account.id,
                start_id=start_id, country=account.country,
            ))
        return store

    def save(self) -> None:
        """Write the state file, if there is one. Runs in the server's shutdown, so
        a failure is logged and kept in `save_error` rather than raised there."""
        state_file = self.settings.state_file
        if state_file is None:
            return
        try:
            save_state(self.store, state_file)
        except OSError as exc:
            self.save_error = f"cannot save the state to {state_file}: {exc.strerror or exc}"
            logger.error("%s", self.save_error)
            return
        self.save_error = None
        logger.info("saved state to %s", state_file)

    def _from_document(self, document: Any, source: str) -> Store:
        store = Store(self.schema, self.rules)
        load_document(store, document, source=source)
        return store
