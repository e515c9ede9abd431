"""The in-memory backend: the live `Store` and how it is rebuilt (fixtures,
generated patients, a state file, a state document).

Store calls never await, so on the server's one event loop each is atomic.
With `--state-file`, every write goes through `_durably`: it is checked and
planned against the store without changing it, recorded in the state file
(state_file.py, in a worker thread, so reads go on meanwhile), and only then
applied to the store and answered. Writes are serialized by one lock, so a
plan cannot go stale while its change is being recorded; a change the file
refuses (`NotSaved`) is never applied. Reads always come from memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .._exceptions import NotSaved
from ..decisions import StoreRules
from ..domain.models import Account, Token
from ..domain.records import Patient, PatientSchema
from ..domain.timestamps import format_timestamp
from ..settings import MockSettings
from .backend import Caller, Principal
from .documents import export_state, load_document, read_fixtures_dir, read_json, token_record
from .memory import Store
from .planner import PatientQuery
from .state_file import Change, StateFile, migrate_json, probe, remove_leftovers

__all__ = ["DocumentCheck", "MemoryBackend", "checked_store"]

logger = logging.getLogger("mockserver")
T = TypeVar("T")


class DocumentCheck(Protocol):
    """A document's values checked against the API's rules (InvalidState otherwise);
    the API layer provides it (api/state_check.py). `source` names the document."""

    def records(self, document: Any, source: str) -> None:
        """Before the loader reads the document."""

    def loaded(self, store: Store, source: str) -> None:
        """Once it is loaded into `store`, not yet served."""


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

    def __init__(
        self,
        settings: MockSettings,
        schema: PatientSchema,
        rules: StoreRules | None = None,
        check: DocumentCheck | None = None,
    ):
        self.settings = settings
        self.schema = schema
        #: The open points that live in the data; every store this backend builds answers by them.
        self.rules = rules or StoreRules()
        self._check = check
        #: Why the state could not be kept, if so (the CLI says it and exits 1).
        self.save_error: str | None = None
        self._refused: list[str] = []
        self._state_file: StateFile | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if settings.state_file is None:
            self.store = self.fixture_store()
        else:
            self.store = self._open_state_file(settings.state_file)

    # -- the API ----------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        return self.store.authenticate(secret)

    async def caller(self, secret: str) -> Caller:
        # Checked at once: a lookup in this process costs no round trip.
        return self.store.authenticate(secret)

    async def principal(self, caller: Caller) -> Principal:
        return self._principal(caller)

    def _principal(self, caller: Caller) -> Principal:
        if isinstance(caller, Principal):
            return caller
        principal = self.store.principal_of(caller.token_sha256)
        caller.checked = True
        return principal

    async def get_patient(self, caller: Caller, patient_id: int) -> Patient:
        return self.store.get_patient(self._principal(caller).account_id, patient_id)

    async def list_patients(
        self, caller: Caller, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        return self.store.list_patients(self._principal(caller).account_id, query, page, per_page)

    def answers_version(self, account_id: int) -> int | None:
        # The store is replaced whole on reset and load; its versions are new numbers.
        return self.store.answers_version(account_id)

    async def create_patient(self, caller: Caller, values: Mapping[str, Any]) -> Patient:
        account_id = self._principal(caller).account_id
        if self._state_file is None:
            return self.store.create_patient(account_id, values)

        def prepare() -> tuple[Change | None, Callable[[], Patient]]:
            patient = self.store.new_patient(account_id, values)
            return Change(patients=[self.schema.to_record(patient)]), lambda: self.store.add_patient(patient)

        return await self._durably(prepare)

    async def update_patient(self, caller: Caller, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        account_id = self._principal(caller).account_id
        if self._state_file is None:
            return self.store.update_patient(account_id, patient_id, changes)

        def prepare() -> tuple[Change | None, Callable[[], Patient]]:
            patient, changed = self.store.plan_update(account_id, patient_id, changes)
            if not changed:
                return None, lambda: patient
            change = Change(patients=[self._record_after(patient, changed)])
            return change, lambda: self.store.apply_update(account_id, patient, changed)

        return await self._durably(prepare)

    # -- the control plane ------------------------------------------------------------------

    async def accounts(self) -> list[tuple[Account, int]]:
        return [(account, self.store.count(account.id)) for account in self.store.accounts()]

    async def account(self, account_id: int) -> Account:
        return self.store.account(account_id)

    async def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        return self.store.taken_external_ids(account_id, values)

    async def create_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        if self._state_file is None:
            return self.store.create_patients(account_id, rows)

        def prepare() -> tuple[Change | None, Callable[[], list[Patient]]]:
            patients = self.store.new_patients(account_id, rows)
            change = Change(patients=[self.schema.to_record(p) for p in patients])
            return change, lambda: [self.store.add_patient(p) for p in patients]

        return await self._durably(prepare)

    async def tokens(self, account_id: int) -> list[Token]:
        self.store.account(account_id)
        return self.store.tokens(account_id)

    async def create_token(self, account_id: int, name: str) -> tuple[Token, str]:
        if self._state_file is None:
            return self.store.create_token(account_id, name)

        def prepare() -> tuple[Change | None, Callable[[], tuple[Token, str]]]:
            token, secret = self.store.new_token(account_id, name)

            def apply() -> tuple[Token, str]:
                self.store.add_token(token)
                return token, secret

            return Change(tokens=[(account_id, token_record(token))]), apply

        return await self._durably(prepare)

    async def revoke_token(self, token_id: int) -> Token:
        if self._state_file is None:
            return self.store.revoke_token(token_id)

        def prepare() -> tuple[Change | None, Callable[[], Token]]:
            token = self.store.token(token_id)
            if token.revoked:
                return None, lambda: token
            change = Change(tokens=[(token.account_id, {**token_record(token), "revoked": True})])
            return change, lambda: self.store.revoke_token(token_id)

        return await self._durably(prepare)

    async def export(self) -> dict[str, Any]:
        return export_state(self.store)

    async def replace(self, document: Any) -> None:
        # Built and checked completely before anything is swapped, so a bad
        # document leaves the current state untouched.
        store = self._from_document(document, "state document")
        await self._swap(lambda: store)

    async def reset(self) -> None:
        """Back to the fixtures, keeping every token as it is (revoked ones stay revoked)."""

        def rebuilt() -> Store:
            store = self.fixture_store()
            store.carry_tokens_from(self.store)
            return store

        await self._swap(rebuilt)

    async def start(self) -> None:
        pass  # the store was built with the backend

    async def close(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Release the state file (idempotent; the CLI calls it again after the server
        stopped, in case a second Ctrl-C made the server skip its lifespan shutdown)."""
        state_file = self._state_file
        if state_file is None or state_file.closed:
            return
        try:
            if self._executor is not None:
                self._executor.submit(state_file.close).result()  # after any write still in flight
                self._executor.shutdown(wait=True)
            else:
                state_file.close()
        except OSError as exc:
            self.save_error = f"cannot close the state file {state_file.path}: {exc}"
            logger.error("%s", self.save_error)
            return
        if self._refused:
            self.save_error = (
                f"{len(self._refused)} changes could not be saved to the state file {state_file.path} and were "
                f"refused with 503 (first: {self._refused[0]})"
            )
            logger.error("%s", self.save_error)
            return
        logger.info("closed the state file %s: every acknowledged change is in it", state_file.path)

    # -- durable writes ---------------------------------------------------------------------

    async def _durably(self, prepare: Callable[[], tuple[Change | None, Callable[[], T]]]) -> T:
        """Run one write: `prepare()` checks it and plans it against the current state
        (raising the domain errors), its change is recorded, then its apply step runs.
        Shielded: a request cancelled meanwhile cannot leave the file and the memory apart."""

        async def run() -> T:
            async with self._write_lock():
                change, apply = prepare()
                if change is not None:
                    await self._record(change)
                return apply()

        return await asyncio.shield(run())

    def _write_lock(self) -> asyncio.Lock:
        # One per event loop: the CLI's import and the tests drive the backend from several.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _swap(self, build: Callable[[], Store]) -> None:
        if self._state_file is None:
            self.store = build()
            return

        def prepare() -> tuple[Change | None, Callable[[], None]]:
            store = build()

            def apply() -> None:
                self.store = store

            return Change(replace=export_state(store)), apply

        await self._durably(prepare)

    async def _record(self, change: Change) -> None:
        state_file, executor = self._state_file, self._executor
        if state_file is None or executor is None or state_file.closed:
            raise NotSaved("the mock is shutting down")
        try:
            await asyncio.get_running_loop().run_in_executor(executor, state_file.write, change)
        except NotSaved as refused:
            self._refused.append(refused.reason)
            raise

    def _record_after(self, patient: Patient, changed: Mapping[str, Any]) -> dict[str, Any]:
        """The patient's stored record once `changed` is applied."""
        record = self.schema.to_record(patient)
        record.update(changed)
        for name in self.schema.timestamps:
            if name in changed:
                record[name] = format_timestamp(changed[name])
        return record

    # -- building ---------------------------------------------------------------------------

    def fixture_store(self) -> Store:
        # Built afresh every time, a million patients included (bench/README.md:
        # faster than the pickled snapshot it replaced, and half the memory).
        with _collector_paused():  # millions of new objects: collecting midway only costs time
            return self._build_fixture_store()

    def _build_fixture_store(self) -> Store:
        store = Store(self.schema, self.rules)
        fixtures = self.settings.fixtures_dir
        if fixtures is not None:
            store = self._from_document(read_fixtures_dir(fixtures), str(fixtures))
        if self.settings.generate:
            from .generate import ROW_FIELDS, generate_rows  # only needed when asked for

            start_id = max((p.id for p in store.patients()), default=0) + 1
            account = store.account(self.settings.generate_account)
            store.add_rows(
                ROW_FIELDS,
                generate_rows(
                    self.settings.generate,
                    seed=self.settings.seed,
                    account_id=account.id,
                    start_id=start_id,
                    country=account.country,
                ),
            )
        return store

    def _open_state_file(self, path: Path) -> Store:
        for leftover in remove_leftovers(path):
            logger.warning("removed %s, left by a migration that was stopped", leftover)
        if probe(path) == "json":
            store = self._from_document(read_json(path), str(path))
            backup = migrate_json(path, export_state(store))
            logger.warning("migrated the JSON state file %s to SQLite; the JSON is kept as %s", path, backup)
        state_file = StateFile.open(path)
        try:
            document = state_file.load()
            if document is None:
                store = self.fixture_store()
                state_file.write(Change(replace=export_state(store)))
                state_file.checkpoint()
                logger.info("created the state file %s from the fixtures", path)
            else:
                # What the file holds was checked when it was written; a large store loads fast.
                store = Store(self.schema, self.rules)
                with _collector_paused():
                    load_document(store, document, source=str(path))
                logger.info("loaded state from %s", path)
        except BaseException:
            with contextlib.suppress(OSError):
                state_file.close()
            raise
        self._state_file = state_file
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-file")
        return store

    def _from_document(self, document: Any, source: str) -> Store:
        return checked_store(self.schema, self.rules, self._check, document, source)


def checked_store(
    schema: PatientSchema, rules: StoreRules, check: DocumentCheck | None, document: Any, source: str
) -> Store:
    """A store holding `document`, every value of it checked by `check` before it
    is served (FixtureError, or InvalidState for a value the API could not answer)."""
    if check is not None:
        check.records(document, source)
    store = Store(schema, rules)
    load_document(store, document, source=source)
    if check is not None:
        check.loaded(store, source)
    return store
