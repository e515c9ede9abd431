"""The PostgreSQL backend: the same `Backend` over a database that several mock
processes share (`dentare-mock --store postgresql://...`).

    columns.py     the patients table's columns from the spec, and a patient as a row
    keys.py        the search keys, computed in Python with the memory store's own functions
    migrations.py  the schema, versioned and applied at start-up under an advisory lock
    queries.py     a list request as one SQL statement
    loading.py     documents, fixtures and generated patients in bulk (COPY), and the export
    backend.py     `PostgresBackend` (the only module that imports the driver, asyncpg)
    urls.py        which `--store` values are PostgreSQL URLs
"""

from __future__ import annotations

from .urls import is_postgres_url, redacted

__all__ = ["is_postgres_url", "redacted"]
