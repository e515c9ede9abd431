"""The database schema, created and migrated by the mock at start-up.

Versioned: `schema_migrations` records each applied version, and a start-up
applies the missing ones in order, each in its own transaction. Then it
brings the table in line with this spec and these rules (a field the spec
added becomes a column; the external_id index is unique unless the rules
share external ids). Everything runs under one session advisory lock, so
several processes starting together against one database take turns: the
first migrates (and loads the fixtures), the others find it done.

A version, once released, is never edited: a change is a new version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..._exceptions import MockError
from ..backend import StoreRules
from .columns import PatientTable, quote

if TYPE_CHECKING:
    from .loading import Conn

__all__ = ["MIGRATIONS", "SCHEMA_LOCK", "SchemaMismatch", "migrate"]

#: The advisory lock start-ups take turns on (any constant no other program uses).
SCHEMA_LOCK = 4821_2026_13


class SchemaMismatch(MockError):
    """The database holds a table the spec cannot be served from (a column of another type)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: Callable[[PatientTable], str]


def _v1(table: PatientTable) -> str:
    fields = ",\n  ".join(c.ddl for c in table.fields if c.name != "id")
    return f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  position bigint NOT NULL,
  name text NOT NULL,
  country text
);
CREATE TABLE users (
  account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
  id bigint NOT NULL,
  position bigint NOT NULL,
  name text NOT NULL,
  email text,
  role text NOT NULL,
  avatar_url text,
  PRIMARY KEY (account_id, id)
);
CREATE SEQUENCE tokens_id_seq;
CREATE TABLE tokens (
  id bigint PRIMARY KEY,
  position bigserial NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
  user_id bigint NOT NULL,
  name text NOT NULL,
  token_sha256 text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  hint text NOT NULL DEFAULT ''
);

-- Patients: the spec's fields, the owning account and the search keys
-- (computed by the mock, store/pg/keys.py). No foreign key to accounts: the
-- store checks the account, and a bulk load of a million rows need not.
CREATE SEQUENCE patients_id_seq;
CREATE TABLE patients (
  id bigint PRIMARY KEY DEFAULT nextval('patients_id_seq'),
  account_id bigint NOT NULL,
  names_key text NOT NULL,
  key_email text,
  key_personal_no text,
  key_digits text,
  key_plain_names text NOT NULL,
  key_plain_digits text NOT NULL,
  {fields}
);
ALTER SEQUENCE patients_id_seq OWNED BY patients.id;
CREATE INDEX patients_page ON patients (account_id, is_active, id);
CREATE INDEX patients_page_all ON patients (account_id, id);
CREATE INDEX patients_email ON patients (account_id, key_email);
CREATE INDEX patients_personal_no ON patients (account_id, key_personal_no);
CREATE INDEX patients_legacy_id ON patients (account_id, legacy_id);
-- `q` and the phone filter: substrings, found through trigrams (LIKE '%needle%').
CREATE INDEX patients_q_names ON patients USING gin (names_key gin_trgm_ops);
CREATE INDEX patients_q_email ON patients USING gin (key_email gin_trgm_ops);
CREATE INDEX patients_q_personal_no ON patients USING gin (key_personal_no gin_trgm_ops);
CREATE INDEX patients_q_digits ON patients USING gin (key_digits gin_trgm_ops);

-- The unfiltered total of a list, kept by statement triggers (a bulk COPY
-- costs one upsert per account and status, not one per row).
CREATE TABLE patient_counts (
  account_id bigint NOT NULL,
  is_active boolean NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (account_id, is_active)
);
CREATE FUNCTION dentare_count_patients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO patient_counts AS c (account_id, is_active, n)
      SELECT account_id, is_active, count(*) FROM new_rows GROUP BY 1, 2
    ON CONFLICT (account_id, is_active) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO patient_counts AS c (account_id, is_active, n)
      SELECT account_id, is_active, sum(k) FROM (
        SELECT account_id, is_active, -1 AS k FROM old_rows
        UNION ALL SELECT account_id, is_active, 1 FROM new_rows
      ) moved GROUP BY 1, 2 HAVING sum(k) <> 0
    ON CONFLICT (account_id, is_active) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO patient_counts AS c (account_id, is_active, n)
      SELECT account_id, is_active, -count(*) FROM old_rows GROUP BY 1, 2
    ON CONFLICT (account_id, is_active) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER patients_counted_insert AFTER INSERT ON patients
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dentare_count_patients();
CREATE TRIGGER patients_counted_update AFTER UPDATE ON patients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dentare_count_patients();
CREATE TRIGGER patients_counted_delete AFTER DELETE ON patients
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dentare_count_patients();
"""


#: Rows each account's count is spread over: a patient counts in row `id % COUNT_SHARDS`.
COUNT_SHARDS = 16


def _v2(table: PatientTable) -> str:
    # v1 kept one count row per account and status, so every insert into an account
    # waited for the one before it to commit (its row lock): concurrent POSTs ran one
    # at a time, whatever the processes (bench/README.md). The reads already sum(n);
    # v1's rows stay valid as shard 0.
    return f"""
ALTER TABLE patient_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE patient_counts DROP CONSTRAINT patient_counts_pkey;
ALTER TABLE patient_counts ADD PRIMARY KEY (account_id, is_active, shard);
CREATE OR REPLACE FUNCTION dentare_count_patients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO patient_counts AS c (account_id, is_active, shard, n)
      SELECT account_id, is_active, id % {COUNT_SHARDS}, count(*) FROM new_rows GROUP BY 1, 2, 3
    ON CONFLICT (account_id, is_active, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO patient_counts AS c (account_id, is_active, shard, n)
      SELECT account_id, is_active, shard, sum(k) FROM (
        SELECT account_id, is_active, id % {COUNT_SHARDS} AS shard, -1 AS k FROM old_rows
        UNION ALL SELECT account_id, is_active, id % {COUNT_SHARDS}, 1 FROM new_rows
      ) moved GROUP BY 1, 2, 3 HAVING sum(k) <> 0
    ON CONFLICT (account_id, is_active, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO patient_counts AS c (account_id, is_active, shard, n)
      SELECT account_id, is_active, id % {COUNT_SHARDS}, -count(*) FROM old_rows GROUP BY 1, 2, 3
    ON CONFLICT (account_id, is_active, shard) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;
"""


_TRIGRAM_INDEXES = ("patients_q_names", "patients_q_email", "patients_q_personal_no", "patients_q_digits")


def _v3(table: PatientTable) -> str:
    # With GIN's default fast update a new row's trigrams wait in a pending list that
    # every search scans until a vacuum merges it: after a few thousand POSTs a name
    # search took 4x as long (bench/README.md). Merged at once, a search costs the same
    # after writes; an insert pays for its own trigrams.
    altered = "".join(f"ALTER INDEX {name} SET (fastupdate = off);\n" for name in _TRIGRAM_INDEXES)
    merged = ", ".join(f"gin_clean_pending_list('{name}')" for name in _TRIGRAM_INDEXES)
    return f"{altered}SELECT {merged};\n"


#: The pending list a trigram index gathers new rows' trigrams in (kB; PostgreSQL's minimum).
GIN_PENDING_LIST_KB = 64


def _v4(table: PatientTable) -> str:
    # v3 merged every row's trigrams into the four indexes as it was written, and that
    # was about half of PostgreSQL's CPU for a POST. A pending list as small as
    # PostgreSQL allows is merged in bulk whenever it fills, and a search scans at most
    # that much beside the index (bench/README.md weighs the two). v3's slow searches
    # after writes came from the default list, 4 MB.
    limits = f"fastupdate = on, gin_pending_list_limit = {GIN_PENDING_LIST_KB}"
    return "".join(f"ALTER INDEX {name} SET ({limits});\n" for name in _TRIGRAM_INDEXES)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "accounts, users, tokens, patients with search keys and trigram indexes, counts", _v1),
    Migration(2, "each account's counts spread over rows, so concurrent inserts do not queue on one", _v2),
    Migration(3, "trigram indexes without a pending list, so searches cost the same after writes", _v3),
    Migration(4, "trigram indexes with the smallest pending list: merged in bulk, searches scan little more", _v4),
)

# The external_id index: unique within an account, unless the rules let patients share one.
_UNIQUE_EXTERNAL_ID = "patients_external_id_unique"
_SHARED_EXTERNAL_ID = "patients_external_id"


async def migrate(conn: Conn, table: PatientTable, rules: StoreRules) -> list[int]:
    """Bring the database to the latest version and to this spec and these rules;
    the versions applied now. The caller holds `SCHEMA_LOCK`."""
    await conn.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )""")
    done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        async with conn.transaction():
            await conn.execute(migration.sql(table))
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name
            )
        applied.append(migration.version)
    async with conn.transaction():
        await _spec_columns(conn, table)
        await _external_id_index(conn, rules)
    return applied


async def _spec_columns(conn: Conn, table: PatientTable) -> None:
    """A field the spec added becomes a column, its rows at the field's default;
    a column of another type than the spec's stops start-up."""
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'patients'"
    )
    present = {row["column_name"]: row["data_type"] for row in rows}
    defaults = {f.name: f.default for f in table.schema.fields}
    for column in table.fields:
        found = present.get(column.name)
        if found is None:
            await conn.execute(f"ALTER TABLE patients ADD COLUMN {column.ddl}")
            default = defaults.get(column.name)
            if default is not None:
                value: Any = json.dumps(default) if column.sql_type == "jsonb" else default
                cast = "::jsonb" if column.sql_type == "jsonb" else ""
                await conn.execute(f"UPDATE patients SET {quote(column.name)} = $1{cast}", value)
        elif found != column.sql_type:
            raise SchemaMismatch(
                f"the database's patients.{column.name} is {found}, the spec makes it {column.sql_type}: "
                "use another database, or migrate that column by hand"
            )


async def _external_id_index(conn: Conn, rules: StoreRules) -> None:
    wanted, other = (
        (_SHARED_EXTERNAL_ID, _UNIQUE_EXTERNAL_ID)
        if rules.external_id_shared
        else (_UNIQUE_EXTERNAL_ID, _SHARED_EXTERNAL_ID)
    )
    await conn.execute(f"DROP INDEX IF EXISTS {other}")
    unique = "" if rules.external_id_shared else "UNIQUE "
    # Empty external ids are not held (the memory store checks only non-empty ones).
    await conn.execute(
        f"CREATE {unique}INDEX IF NOT EXISTS {wanted} ON patients (account_id, external_id) WHERE external_id <> ''"
    )
