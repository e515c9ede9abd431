"""Answers to reads kept for when the same read comes again.

Integrators poll the same page, fuzzers and contract suites repeat the same
GETs: a read's answer (its serialized bytes) is kept, keyed by everything it
depends on, and given again while nothing it shows can have changed. Whether
anything has is the backend's to say: `Backend.answers_version(account_id)`
is a number that changes on every write to the account's data (patients
created, changed, archived, imported; the state reset or loaded), unique
across the process, so an answer kept under an older number is never given.
A backend that cannot know of every write (one shared by several processes)
answers None and nothing is kept: the cache is something a backend opts into.

What an answer depends on, and so its key: the operation, the account and the
token's user (`/me.json` shows the user; lists and records do not, but
keying by user costs little and keeps that true of any operation), the path
parameters as validated, and the query string exactly as sent (`lang`,
`fields`, paging and filters; two spellings of one query are two entries).
The profile's rules are fixed for an app and the cache is the app's own.
The request is authenticated and validated before the cache is asked, so a
revoked token or a bad query is refused as before. Only success answers are kept.

Bounded by the bytes kept; the oldest entry goes first.

**At the connection.** `dentare-mock`'s HTTP protocol (web/http_protocol.py)
can give a kept answer before the app is called, when the request's head
(target and every header, byte for byte) is one the app answered before:
the app `remember`s which slot a head's answer is in, the protocol `recall`s
it. That skips authentication and validation, which is sound because both
depend on nothing but the head and the data: an identical head is refused or
accepted alike while the account's version stands, and revoking a token moves
its account's version (store/memory.py), so a revoked token's next request is
authenticated again, and refused.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from ..store.backend import Backend, Principal

__all__ = ["ANSWER_HEAD", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_HEADS", "AnswerCache", "Slot"]

#: The scope extension under which the HTTP protocol gives the app a request's head
#: (target and headers, as `{"head": ...}`) when it could answer an identical request itself.
ANSWER_HEAD = "dentare.answer_head"

#: What the kept answers may take (a list page of 20 is ~12 KB).
DEFAULT_MAX_BYTES = 16 << 20
#: Request heads remembered for the connection's lookup (each at most 4 KiB: web/http_protocol.py).
DEFAULT_MAX_HEADS = 4096
#: Counted per entry beside its body: its key, its tuple and its dict slot.
_ENTRY_OVERHEAD = 256


class Slot(NamedTuple):
    """Where one read's answer is kept: its key and the data version it is valid for."""

    key: Hashable
    version: int


class AnswerCache:
    __slots__ = ("_entries", "_heads", "_kept", "_max_bytes", "_max_heads")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_heads: int = DEFAULT_MAX_HEADS) -> None:
        self._entries: dict[Hashable, tuple[int, int, bytes]] = {}
        self._heads: dict[Hashable, tuple[int, Hashable]] = {}
        self._kept = 0
        self._max_bytes = max_bytes
        self._max_heads = max_heads

    def slot(
        self, backend: Backend, principal: Principal, operation_id: str, path: tuple[object, ...], query_string: bytes
    ) -> Slot | None:
        """The slot of this read, or None when the backend does not version its data."""
        version = backend.answers_version(principal.account_id)
        if version is None:
            return None
        return Slot((operation_id, principal.account_id, principal.user.id, path, query_string), version)

    def get(self, slot: Slot) -> tuple[int, bytes] | None:
        """(status, body) kept for `slot`, if it was kept at the same version."""
        entry = self._entries.get(slot.key)
        if entry is None or entry[0] != slot.version:
            return None
        return entry[1], entry[2]

    def put(self, slot: Slot, status: int, body: bytes) -> None:
        size = len(body) + _ENTRY_OVERHEAD
        if size > self._max_bytes // 8:  # a huge page would push out everything else
            return
        entries = self._entries
        old = entries.pop(slot.key, None)
        if old is not None:
            self._kept -= len(old[2]) + _ENTRY_OVERHEAD
        entries[slot.key] = (slot.version, status, body)
        self._kept += size
        while self._kept > self._max_bytes:
            oldest = next(iter(entries))
            self._kept -= len(entries.pop(oldest)[2]) + _ENTRY_OVERHEAD

    def remember(self, head: Hashable, account_id: int, slot: Slot) -> None:
        """The answer to requests with this `head` is the one kept in `slot`, of `account_id`."""
        heads = self._heads
        if head not in heads and len(heads) >= self._max_heads:
            del heads[next(iter(heads))]  # the oldest goes first
        heads[head] = (account_id, slot.key)

    def recall(self, head: Hashable, backend: Backend) -> tuple[int, bytes] | None:
        """(status, body) for a request with this `head`, if one was remembered and
        its answer is still kept at the account's current version."""
        seen = self._heads.get(head)
        if seen is None:
            return None
        version = backend.answers_version(seen[0])
        return None if version is None else self.get(Slot(seen[1], version))

    def __len__(self) -> int:
        return len(self._entries)
