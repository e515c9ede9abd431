"""`PostgresBackend`: the `Backend` over a PostgreSQL database that any number
of mock processes share, with the memory store's answers on every rule.

- Every call takes a connection from this process's pool (`--pool-size`) and
  reads or writes the database: nothing is cached, so a token revoked through
  one process is refused by every process on its next request.
- A request's token is checked inside the statement that reads or writes for
  it (`Credential`, store/backend.py): one round trip, not two.
- A patient is scoped by `account_id` in every statement.
- external_id is unique per account through a partial unique index (unless
  the rules share external ids); its violation is the domain's `Taken`.
- PATCH locks the row (`SELECT ... FOR UPDATE`), compares in Python as the
  memory store does, and writes the changed columns with the new search keys
  in the same transaction: concurrent PATCHes from any process never lose a field.
- The start-up (`prepare`) migrates the schema and loads the fixtures into an
  empty database under an advisory lock, so concurrent starts take turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import asyncpg
import orjson

from ..._exceptions import FixtureError, Missing, MockError, Taken, TokenRefused
from ...domain.models import Account, Token, User
from ...domain.records import Patient
from ...domain.timestamps import now_ms
from ...domain.tokens import hash_token, new_token
from ...settings import MockSettings
from ..backend import Caller, Credential, Principal, StoreRules, is_checked, mark_checked
from ..memory_backend import DocumentCheck, checked_store
from ..planner import PatientQuery
from .columns import PatientTable, quote
from .keys import KEY_COLUMNS
from .loading import (
    TOKEN_COLUMNS,
    Content,
    after_bulk,
    carry_tokens,
    export_document,
    is_bulk,
    old_tokens,
    read_accounts,
    token_of,
    write_content,
)
from .migrations import SCHEMA_LOCK, migrate
from .pool import FairPool
from .queries import list_query
from .urls import redacted

__all__ = ["DatabaseUnavailable", "PostgresBackend"]

logger = logging.getLogger("mockserver")

_UNIQUE_EXTERNAL_ID = "patients_external_id_unique"


#: The largest OFFSET PostgreSQL takes.
_MAX_OFFSET = 2**63 - 1

#: The live token whose SHA-256 is $1, with its user (a token whose user is gone is refused).
_LIVE_TOKEN = (
    "FROM tokens t JOIN users u ON u.account_id = t.account_id AND u.id = t.user_id "
    "WHERE t.token_sha256 = $1 AND NOT t.revoked"
)
_PRINCIPAL_SQL = f"SELECT t.id, t.account_id, u.id, u.name, u.email, u.role, u.avatar_url {_LIVE_TOKEN}"
#: Its account, NULL for a refused token: a statement that reads or writes for a
#: `Credential` uses this for the account, so it checks the token itself.
_ACCOUNT_OF_TOKEN = f"(SELECT t.account_id {_LIVE_TOKEN})"


class DatabaseUnavailable(MockError):
    """The database cannot be reached or refused us; the message says which and why."""


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])  # binary jsonb: a version byte, then the text


async def _setup_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_jsonb_encode, decoder=_jsonb_decode, format="binary"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: nothing. The backend
    takes no session lock, LISTENs to nothing and SETs nothing, so asyncpg's default
    reset (`RESET ALL; UNLISTEN *; ...`, a round trip on every release) would only
    double the round trips of a request."""


class PostgresBackend:
    """`Backend` over PostgreSQL (`MockSettings.store` is its DSN)."""

    def __init__(
        self,
        settings: MockSettings,
        table: PatientTable,
        rules: StoreRules | None = None,
        check: DocumentCheck | None = None,
    ):
        self.settings = settings
        self.table = table
        self.schema = table.schema
        #: Checks a state document's values against the API's rules before it replaces anything.
        self._check = check
        #: The open points that live in the data; this process answers by them.
        self.rules = rules or StoreRules()
        #: Never set: the database keeps every write (the CLI reads it of any backend).
        self.save_error: str | None = None
        self.dsn = settings.store
        self._pool: FairPool | None = None
        #: For the searches (a filtered list), each planned for its needle (`_open_pools`).
        self._search_pool: FairPool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._prepared = False
        self._opening: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        # Each statement for either account SQL (`_account`): $1 gives the account.
        accounts = ("$1", _ACCOUNT_OF_TOKEN)
        cols = table.select_list
        self._get_sql = f"SELECT {cols} FROM patients WHERE id = $2 AND account_id = $1"
        # For a credential: one row if the token is live, the patient's columns NULL if it is missing.
        p_cols = ", ".join(f"p.{quote(name)}" for name in table.record_columns)
        self._get_checked_sql = (
            f"SELECT {p_cols} FROM {_ACCOUNT_OF_TOKEN} caller(account_id) "
            "LEFT JOIN patients p ON p.account_id = caller.account_id AND p.id = $2"
        )
        self._lock_sql = {
            a: f"SELECT {cols} FROM patients WHERE id = $2 AND account_id = {a} FOR UPDATE" for a in accounts
        }
        # account_id first ($1 or the token's), then the other write columns.
        self._account_at = table.write_columns.index("account_id")
        others = [n for n in table.write_columns if n != "account_id"]
        names = ", ".join(quote(n) for n in ("account_id", *others))
        values = ", ".join(f"${i}" for i in range(2, len(others) + 2))
        self._insert_sql = {
            a: f"INSERT INTO patients ({names}) VALUES ({a}, {values}) RETURNING id, account_id" for a in accounts
        }

    # -- start-up and connections -----------------------------------------------------------

    async def prepare(self) -> list[int]:
        """Migrate the schema and, into an empty database, load the fixtures (and
        generated patients); the migration versions applied. Idempotent and safe
        to run from several processes at once."""
        conn = await self._connect()
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", SCHEMA_LOCK)
            try:
                applied = await migrate(conn, self.table, self.rules)
                if applied:
                    logger.info("database %s: applied schema versions %s", redacted(self.dsn), applied)
                if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM accounts)"):
                    content = self._fixtures()
                    async with conn.transaction():
                        count = await write_content(conn, self.table, content)
                    if is_bulk(content):
                        await after_bulk(conn)
                    logger.info("database %s was empty: loaded the fixtures (%d patients)", redacted(self.dsn), count)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", SCHEMA_LOCK)
        except asyncpg.UniqueViolationError as exc:
            raise DatabaseUnavailable(
                f"{redacted(self.dsn)}: external_id cannot be made unique per account, the data shares some "
                f"({exc.detail or exc}); start with a profile that shares external ids, or use another database"
            ) from None
        except asyncpg.PostgresError as exc:
            raise DatabaseUnavailable(f"{redacted(self.dsn)}: {exc}") from None
        finally:
            await conn.close()
        self._prepared = True
        return applied

    async def start(self) -> None:
        await self._get_pool()

    def save(self) -> None:
        """Nothing to save: every write is in the database when it is answered."""

    async def close(self) -> None:
        pools = (self._pool, self._search_pool)
        self._pool = self._search_pool = None
        for pool in pools:
            if pool is not None and self._pool_loop is asyncio.get_running_loop():
                await pool.close()

    def shutdown(self) -> None:
        """Nothing to release outside the event loop: the database holds every
        write, and the server's end closes the connections."""

    async def _connect(self) -> asyncpg.Connection:
        try:
            conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailable(f"cannot connect to {redacted(self.dsn)}: {exc}") from None
        await _setup_connection(conn)
        return conn

    async def _get_pool(self, search: bool = False) -> FairPool:
        """This process's pool (`search`: the one for filtered lists), both made on
        first use in the running loop (a test may run several loops)."""
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            if self._opening is None or self._opening[0] is not loop:
                self._opening = (loop, asyncio.Lock())
            async with self._opening[1]:  # the first requests all wait for one opening
                if self._pool is None or self._pool_loop is not loop:
                    await self._open_pools(loop)
        pool = self._search_pool if search else self._pool
        assert pool is not None
        return pool

    async def _open_pools(self, loop: asyncio.AbstractEventLoop) -> None:
        """Two pools of `pool_size` connections, each handed out in turn (pool.py).
        Lookups, pages and writes always reuse one plan (a generic plan), so the server
        does not plan them again on every request (bench/README.md); their statements
        are written so the one plan is the index's. A search's plan depends on its
        needle (a trigram index or a scan), so its own pool plans each one."""
        if not self._prepared:
            await self.prepare()
        size = self.settings.pool_size

        async def pool(**server_settings: str) -> FairPool:
            opened = await asyncpg.create_pool(
                self.dsn,
                min_size=size,
                max_size=size,
                init=_setup_connection,
                reset=_keep_session,
                timeout=10,
                server_settings=server_settings,
            )
            return FairPool(opened)

        try:
            self._pool = await pool(plan_cache_mode="force_generic_plan")
            self._search_pool = await pool(plan_cache_mode="force_custom_plan")
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None
            raise DatabaseUnavailable(f"cannot connect to {redacted(self.dsn)}: {exc}") from None
        self._pool_loop = loop

    def _fixtures(self) -> Content:
        s = self.settings
        return Content.of_fixtures(self.table, s.fixtures_dir, s.generate, s.generate_account, s.seed)

    # -- the API ----------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        return await self.principal(Credential(hash_token(secret)))

    async def caller(self, secret: str) -> Caller:
        return Credential(hash_token(secret))

    async def principal(self, caller: Caller) -> Principal:
        if isinstance(caller, Principal):
            return caller
        pool = await self._get_pool()
        row = await pool.fetchrow(_PRINCIPAL_SQL, caller.token_sha256)
        if row is None:
            raise TokenRefused()
        caller.checked = True
        token_id, account_id, user_id, name, email, role, avatar_url = row
        return Principal(account_id=account_id, user=User(user_id, name, email, role, avatar_url), token_id=token_id)

    @staticmethod
    def _account(caller: Caller) -> tuple[str, Any]:
        """The SQL of the caller's account, and $1's value in it."""
        if isinstance(caller, Principal):
            return "$1", caller.account_id
        return _ACCOUNT_OF_TOKEN, caller.token_sha256

    async def _found_nothing(self, caller: Caller) -> None:
        """A statement found nothing for `caller`: TokenRefused if that is because
        its token is refused (else the caller goes on: a missing row, an empty page)."""
        if not is_checked(caller):
            await self.principal(caller)

    def answers_version(self, account_id: int) -> int | None:
        # Another process may write to the database at any time and this one
        # would not know: no answer is kept (api/answers.py).
        return None

    async def get_patient(self, caller: Caller, patient_id: int) -> Patient:
        pool = await self._get_pool()
        if isinstance(caller, Principal):
            row = await pool.fetchrow(self._get_sql, caller.account_id, patient_id)
        else:
            row = await pool.fetchrow(self._get_checked_sql, caller.token_sha256, patient_id)
            if row is None:
                raise TokenRefused()
            caller.checked = True
            if row[0] is None:
                row = None
        if row is None:
            raise Missing("patient", patient_id)
        return self.table.from_row(row)

    async def list_patients(
        self, caller: Caller, query: PatientQuery, page: int, per_page: int
    ) -> tuple[list[Patient], int]:
        account, account_arg = self._account(caller)
        chosen = list_query(account, account_arg, query, self.rules)
        if chosen.filtered:
            total_sql = f"SELECT count(*) FROM patients WHERE {chosen.where}"
        else:
            status = "" if chosen.status is None else " AND is_active = $2"
            total_sql = f"SELECT coalesce(sum(n), 0)::bigint FROM patient_counts WHERE account_id = {account}{status}"
        n = len(chosen.args)
        order = "DESC" if chosen.descending else "ASC"
        offset = (page - 1) * per_page
        pool = await self._get_pool(search=chosen.filtered)
        if offset > _MAX_OFFSET:  # past any table (a page no maximum bounds): OFFSET takes a bigint only
            await self._found_nothing(caller)
            return [], int(await pool.fetchval(total_sql, *chosen.args))
        keys = ", ".join(f"{key} {order}" for key in chosen.order_keys)
        window = f"ORDER BY {keys} LIMIT ${n + 1} OFFSET ${n + 2}"
        cols = self.table.select_list
        if chosen.filtered:
            # The matches are found once (the trigram indexes' bitmap), then counted and
            # paged, as the memory store does; only the page's rows are read whole.
            page_sql = (
                f"WITH m AS MATERIALIZED (SELECT id FROM patients WHERE {chosen.where}) "
                f"SELECT {cols}, (SELECT count(*) FROM m) FROM patients "
                f"WHERE id = ANY(ARRAY(SELECT id FROM m {window})) ORDER BY id {order}"
            )
        elif offset:
            # A deep page: the ids are skipped in the index alone, and only the page's rows are read.
            page_sql = (
                f"SELECT {cols}, ({total_sql}) FROM patients WHERE id = ANY(ARRAY("
                f"SELECT id FROM patients WHERE {chosen.where} {window})) ORDER BY id {order}"
            )
        else:
            page_sql = f"SELECT {cols}, ({total_sql}) FROM patients WHERE {chosen.where} {window}"
        rows = await pool.fetch(page_sql, *chosen.args, per_page, offset)
        if not rows:
            await self._found_nothing(caller)
            total = await pool.fetchval(total_sql, *chosen.args)
            return [], int(total)
        mark_checked(caller)
        from_row = self.table.from_row
        return [from_row(row[:-1]) for row in rows], int(rows[0][-1])

    async def create_patient(self, caller: Caller, values: Mapping[str, Any]) -> Patient:
        pool = await self._get_pool()
        stamp = self.rules.now()
        account, account_arg = self._account(caller)
        patient = self.schema.new(**values, id=0, account_id=0, created_at=stamp, updated_at=stamp)
        try:
            row = await pool.fetchrow(self._insert_sql[account], account_arg, *self._insert_values(patient))
        except asyncpg.NotNullViolationError as exc:
            if exc.column_name != "account_id":
                raise
            raise TokenRefused() from None  # the token's account: NULL
        except asyncpg.UniqueViolationError as exc:
            raise self._taken(exc, patient.external_id) from None
        assert row is not None  # INSERT ... VALUES returns its row
        patient.id, patient.account_id = row
        mark_checked(caller)
        return patient

    async def update_patient(self, caller: Caller, patient_id: int, changes: Mapping[str, Any]) -> Patient:
        pool = await self._get_pool()
        account, account_arg = self._account(caller)
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(self._lock_sql[account], account_arg, patient_id)
            if row is None:
                await self._found_nothing(caller)
                raise Missing("patient", patient_id)
            mark_checked(caller)
            patient = self.table.from_row(row)
            changed = {k: v for k, v in changes.items() if getattr(patient, k) != v}
            if not changed:
                if self.rules.noop_touches:
                    patient.updated_at = self.rules.stamp_after(patient.updated_at)
                    await conn.execute(
                        "UPDATE patients SET updated_at = $1 WHERE id = $2", patient.updated_at, patient.id
                    )
                return patient
            for name, value in changed.items():
                setattr(patient, name, value)
            patient.updated_at = self.rules.stamp_after(patient.updated_at)
            keys = self.table.keys(patient)
            columns = [*changed, "updated_at", "names_key", *KEY_COLUMNS]
            values = [*changed.values(), patient.updated_at, patient.names_key, *keys]
            assignments = ", ".join(f"{quote(c)} = ${i}" for i, c in enumerate(columns, start=2))
            try:
                await conn.execute(f"UPDATE patients SET {assignments} WHERE id = $1", patient.id, *values)
            except asyncpg.UniqueViolationError as exc:
                raise self._taken(exc, patient.external_id) from None
            return patient

    # -- the control plane ------------------------------------------------------------------

    async def accounts(self) -> list[tuple[Account, int]]:
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            accounts = await read_accounts(conn)
            counts: dict[int, int] = {
                row[0]: row[1]
                for row in await conn.fetch("SELECT account_id, sum(n)::bigint FROM patient_counts GROUP BY account_id")
            }
        return [(a, int(counts.get(a.id, 0))) for a in accounts]

    async def account(self, account_id: int) -> Account:
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            found = await read_accounts(conn, account_id)
        if not found:
            raise Missing("account", account_id)
        return found[0]

    async def taken_external_ids(self, account_id: int, values: Collection[str]) -> set[str]:
        await self.account(account_id)
        if self.rules.external_id_shared or not values:
            return set()
        pool = await self._get_pool()
        rows = await pool.fetch(
            "SELECT DISTINCT external_id FROM patients WHERE account_id = $1 AND external_id = ANY($2::text[]) "
            "AND external_id <> ''",
            account_id,
            list(values),
        )
        return {row[0] for row in rows}

    async def create_patients(self, account_id: int, rows: Sequence[Mapping[str, Any]]) -> list[Patient]:
        """Every row or none, in one transaction; a unique violation is `Taken` for
        the first row that holds a taken or repeated external_id."""
        await self.account(account_id)
        pool = await self._get_pool()
        created: list[Patient] = []
        try:
            async with pool.acquire() as conn, conn.transaction():
                insert = await conn.prepare(self._insert_sql["$1"])
                for values in rows:
                    stamp = self.rules.now()
                    patient = self.schema.new(**values, id=0, account_id=account_id, created_at=stamp, updated_at=stamp)
                    patient.id = await insert.fetchval(account_id, *self._insert_values(patient))
                    created.append(patient)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != _UNIQUE_EXTERNAL_ID:
                raise
            held = await self.taken_external_ids(account_id, [v["external_id"] for v in rows if v.get("external_id")])
            seen: set[str] = set()
            for values in rows:
                external_id = values.get("external_id")
                if external_id and (external_id in held or external_id in seen):
                    raise Taken("external_id", external_id) from None
                if external_id:
                    seen.add(external_id)
            raise Taken("external_id") from None
        return created

    async def tokens(self, account_id: int) -> list[Token]:
        await self.account(account_id)
        pool = await self._get_pool()
        rows = await pool.fetch(
            f"SELECT {TOKEN_COLUMNS} FROM tokens WHERE account_id = $1 ORDER BY position", account_id
        )
        return [token_of(row) for row in rows]

    async def create_token(self, account_id: int, name: str) -> tuple[Token, str]:
        account = await self.account(account_id)
        secret = new_token()
        token = Token(
            id=0,
            account_id=account_id,
            user_id=next(iter(account.users), 0),
            name=name,
            token_sha256=hash_token(secret),
            created_at=now_ms(),
            hint=secret[:8],
        )
        pool = await self._get_pool()
        token.id = await pool.fetchval(
            "INSERT INTO tokens (id, account_id, user_id, name, token_sha256, created_at, revoked, hint) "
            "VALUES (nextval('tokens_id_seq'), $1, $2, $3, $4, $5, false, $6) RETURNING id",
            token.account_id,
            token.user_id,
            token.name,
            token.token_sha256,
            token.created_at,
            token.hint,
        )
        return token, secret

    async def revoke_token(self, token_id: int) -> Token:
        pool = await self._get_pool()
        row = await pool.fetchrow(f"UPDATE tokens SET revoked = true WHERE id = $1 RETURNING {TOKEN_COLUMNS}", token_id)
        if row is None:
            raise Missing("token", token_id)
        return token_of(row)

    async def export(self) -> dict[str, Any]:
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return await export_document(conn, self.table)

    async def replace(self, document: Any) -> None:
        # Checked before anything changes: as the memory store checks it, then for the table.
        checked_store(self.schema, self.rules, self._check, document, "state document")
        content = Content.of_document(self.table, document, "state document")
        await self._write(content, keep_tokens=False)

    async def reset(self) -> None:
        """Every account back to the fixtures; every token stays as it is (revoked ones stay revoked)."""
        await self._write(self._fixtures(), keep_tokens=True)

    async def _write(self, content: Content, *, keep_tokens: bool) -> None:
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            try:
                async with conn.transaction():
                    # One whole-state write at a time, from any process.
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK + 1)
                    if keep_tokens:
                        carry_tokens(content, await old_tokens(conn))
                    await write_content(conn, self.table, content)
            except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
                raise FixtureError(f"state document: the database refused it: {exc}") from None
            if is_bulk(content):
                await after_bulk(conn)

    # -- internals --------------------------------------------------------------------------

    def _insert_values(self, patient: Patient) -> list[Any]:
        """$2... of an insert: the write values but account_id's."""
        values = self.table.write_values(patient)
        del values[self._account_at]
        return values

    @staticmethod
    def _taken(exc: asyncpg.UniqueViolationError, external_id: str | None) -> Exception:
        if exc.constraint_name == _UNIQUE_EXTERNAL_ID:
            return Taken("external_id", external_id)
        return exc
