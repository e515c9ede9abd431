"""The whole state in and out of the database, in bulk.

What goes in is first read exactly as the memory store reads it: a document
or the fixtures are loaded into a `Store` (store/documents.py: the same
checks, defaults and FixtureErrors), generated patients come from the same
generator with the same ids. Then one transaction replaces every table:
accounts, users and tokens by `executemany`, patients by binary COPY; above
`REBUILD_INDEXES_FROM` rows the patients are sorted by name first (a name
search then reads few pages) and the indexes are dropped for the COPY and
rebuilt after it (several times faster than maintaining the trigram indexes
row by row).
Other processes wait on the tables' locks meanwhile and then see the new
state whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...domain.models import Account, Token, User
from ...domain.records import Patient
from ..documents import load_document, load_fixtures_dir, state_document
from ..indexes import SEPARATOR
from ..memory import Store
from .columns import PatientTable, quote

if TYPE_CHECKING:
    from typing import TypeAlias

    from asyncpg import Connection, Record
    from asyncpg.pool import PoolConnectionProxy

    #: A connection of its own or one from a pool.
    Conn: TypeAlias = Connection[Record] | PoolConnectionProxy[Record]

__all__ = [
    "REBUILD_INDEXES_FROM",
    "TOKEN_COLUMNS",
    "Conn",
    "Content",
    "after_bulk",
    "carry_tokens",
    "export_document",
    "is_bulk",
    "old_tokens",
    "read_accounts",
    "token_of",
    "write_content",
]

REBUILD_INDEXES_FROM = 50_000
_TABLES = "patients, patient_counts, tokens, users, accounts"


@dataclass
class Content:
    """A whole state to write: the accounts (with users), tokens, and patients
    (a `Store`'s, then any more, e.g. generated ones, streamed)."""

    store: Store
    more_patients: Iterable[Patient] = ()
    more_count: int = 0
    tokens: list[Token] = field(default_factory=list)

    @classmethod
    def of_document(cls, table: PatientTable, document: Any, source: str) -> Content:
        store = Store(table.schema)
        load_document(store, document, source=source)
        return cls(store, tokens=store.tokens())

    @classmethod
    def of_fixtures(
        cls, table: PatientTable, fixtures_dir: Path | None, generate: int, generate_account: int, seed: int
    ) -> Content:
        """What the memory store starts with for the same settings (memory_backend.py)."""
        store = Store(table.schema)
        if fixtures_dir is not None:
            load_fixtures_dir(store, fixtures_dir)
        content = cls(store, tokens=store.tokens())
        if generate:
            from ..generate import generate_patients  # only needed when asked for

            start_id = max((p.id for p in store.patients()), default=0) + 1
            account = store.account(generate_account)
            records = generate_patients(
                generate, seed=seed, account_id=account.id, start_id=start_id, country=account.country
            )
            content.more_patients = (table.schema.from_record(record) for record in records)
            content.more_count = generate
        return content

    def patients(self) -> Iterator[Patient]:
        yield from sorted(self.store.patients(), key=lambda p: p.id)
        yield from self.more_patients

    @property
    def size(self) -> int:
        return sum(self.store.count(a.id) for a in self.store.accounts()) + self.more_count


def carry_tokens(content: Content, old: Iterable[Token]) -> None:
    """After a reset every token stays as it was: a revoked one stays revoked
    (the spec: a revoked token is never re-enabled), one the fixtures do not
    hold is kept where its account still exists (under a new id if its id is
    taken). The memory store's reset does the same."""
    accounts = {a.id for a in content.store.accounts()}
    by_hash = {t.token_sha256: t for t in content.tokens}
    ids = {t.id for t in content.tokens}
    next_id = max(ids, default=0) + 1
    for token in old:
        mine = by_hash.get(token.token_sha256)
        if mine is not None:
            mine.revoked = mine.revoked or token.revoked
        elif token.account_id in accounts:
            kept = dataclasses.replace(token)
            if kept.id in ids:
                kept.id = next_id
            ids.add(kept.id)
            next_id = max(next_id, kept.id + 1)
            content.tokens.append(kept)
            by_hash[kept.token_sha256] = kept


async def write_content(conn: Conn, table: PatientTable, content: Content) -> int:
    """Replace the whole state with `content`, in the caller's transaction; the number of patients."""
    await conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY")
    accounts = content.store.accounts()
    await conn.executemany(
        "INSERT INTO accounts (id, position, name, country) VALUES ($1, $2, $3, $4)",
        [(a.id, i, a.name, a.country) for i, a in enumerate(accounts)],
    )
    await conn.executemany(
        "INSERT INTO users (account_id, id, position, name, email, role, avatar_url) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (a.id, u.id, i, u.name, u.email, u.role, u.avatar_url)
            for a in accounts
            for i, u in enumerate(a.users.values())
        ],
    )
    await conn.executemany(
        "INSERT INTO tokens (id, account_id, user_id, name, token_sha256, created_at, revoked, hint) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            (t.id, t.account_id, t.user_id, t.name, t.token_sha256, t.created_at, t.revoked, t.hint)
            for t in content.tokens
        ],
    )
    count = 0

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal count
        for patient in content.patients():
            count += 1
            yield table.copy_row(patient)

    columns = list(table.copy_columns)
    if is_bulk(content):
        rebuild = await _drop_indexes(conn)
        # Written in the order of the folded last, then first name, so that a name
        # search (the common `q`) finds its matches in few pages, not all over the table.
        at = columns.index("names_key")
        ordered = sorted(rows(), key=lambda row: (row[at].split(SEPARATOR, 2)[1], row[at], row[0]))
        await conn.copy_records_to_table("patients", records=ordered, columns=columns)
        del ordered
        for statement in rebuild:
            await conn.execute(statement)
    else:
        await conn.copy_records_to_table("patients", records=rows(), columns=columns)
    await sync_sequences(conn)
    await conn.execute("ANALYZE patients")
    return count


def is_bulk(content: Content) -> bool:
    """A load large enough to drop and rebuild the indexes (and to VACUUM after it: `after_bulk`)."""
    return content.size >= REBUILD_INDEXES_FROM


async def after_bulk(conn: Conn) -> None:
    """Outside the load's transaction: mark the new pages all-visible, so that counts
    and deep pages read the indexes alone."""
    await conn.execute("VACUUM (ANALYZE) patients")


async def sync_sequences(conn: Conn) -> None:
    """The next id after the largest held, as the memory store counts (ids are
    global; after a reset the fixtures' largest decides, as in memory)."""
    for sequence, source in (("patients_id_seq", "patients"), ("tokens_id_seq", "tokens")):
        await conn.execute(
            f"SELECT setval('{sequence}', coalesce((SELECT max(id) FROM {source}), 1), "
            f"(SELECT max(id) IS NOT NULL FROM {source}))"
        )


async def _drop_indexes(conn: Conn) -> list[str]:
    """Drop the patients' secondary indexes; the statements that build them again."""
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = 'patients' AND i.indexname NOT IN ("
        "  SELECT conname FROM pg_constraint WHERE conrelid = 'patients'::regclass)"
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {quote(row['indexname'])}")
    return [row["indexdef"] for row in rows]


async def old_tokens(conn: Conn) -> list[Token]:
    return [token_of(row) for row in await conn.fetch(f"SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY position")]


TOKEN_COLUMNS = "id, account_id, user_id, name, token_sha256, created_at, revoked, hint"


def token_of(row: Record | Mapping[str, Any]) -> Token:
    return Token(
        id=row["id"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        name=row["name"],
        token_sha256=row["token_sha256"],
        created_at=row["created_at"],
        revoked=row["revoked"],
        hint=row["hint"],
    )


async def read_accounts(conn: Conn, account_id: int | None = None) -> list[Account]:
    """The accounts (or the one) with their users, in the order they were loaded."""
    where = "" if account_id is None else " WHERE id = $1"
    args = () if account_id is None else (account_id,)
    accounts = {
        row["id"]: Account(id=row["id"], name=row["name"], country=row["country"])
        for row in await conn.fetch(f"SELECT id, name, country FROM accounts{where} ORDER BY position", *args)
    }
    where = "" if account_id is None else " WHERE account_id = $1"
    for row in await conn.fetch(
        f"SELECT account_id, id, name, email, role, avatar_url FROM users{where} ORDER BY account_id, position", *args
    ):
        accounts[row["account_id"]].users[row["id"]] = User(
            id=row["id"], name=row["name"], email=row["email"], role=row["role"], avatar_url=row["avatar_url"]
        )
    return list(accounts.values())


async def export_document(conn: Conn, table: PatientTable) -> dict[str, Any]:
    """The whole state as store/documents.py `export_state` writes it (a test diffs the two)."""
    tokens = await old_tokens(conn)
    patients = [
        table.schema.to_record(table.from_row(row))
        for row in await conn.fetch(f"SELECT {table.select_list} FROM patients ORDER BY id")
    ]
    accounts = [(account, [t for t in tokens if t.account_id == account.id]) for account in await read_accounts(conn)]
    return state_document(accounts, patients)
