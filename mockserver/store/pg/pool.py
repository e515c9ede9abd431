"""`FairPool`: an asyncpg pool whose waiting requests get a connection in the
order they asked for one.

asyncpg hands a released connection to whoever asks next, and a request that
asks while a waiter is being woken takes it first; the waiter then waits again
behind everyone. Under load (more requests in flight than connections) a few
requests waited hundreds of milliseconds that way while most waited none
(bench/README.md, "PostgreSQL store"). A first-come-first-served semaphore of
the pool's size in front means asyncpg itself never has a waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

__all__ = ["FairPool"]


class FairPool:
    """The part of `asyncpg.Pool` the backend uses, in turn."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # As many turns as connections; wakes waiters in order, and no newcomer passes one.
        self._turns = asyncio.Semaphore(pool.get_max_size())

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        async with self._turns, self._pool.acquire() as conn:
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(query, *args)
            return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def close(self) -> None:
        await self._pool.close()
