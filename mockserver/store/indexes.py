"""Index structures of the in-memory store, each for one kind of lookup.

    Rows           id -> patient (a list while ids come dense and rising)
    ExactIndex     key -> ids, for the exact-match filters
    Trigrams       trigram -> ids, for substring search in values patients do not share
    ValueGroups    shared value -> ids by status, and trigram -> values, for
                   substring search in values many patients hold alike
                   (names, email words and domains)

Ids are stored as 4-byte integers until one does not fit; bench/README.md has
what each structure costs at a million patients.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from itertools import pairwise
from typing import Generic, TypeVar

import numpy as np

from .columnar import CHUNK, runs, trigram_postings

__all__ = ["SEPARATOR", "ExactIndex", "Rows", "Trigrams", "ValueGroups", "insert_sorted", "remove_sorted", "trigrams"]

#: Joins the searchable parts of one text, so that no match spans two of them.
SEPARATOR = "\x1f"
_INT32_MAX = 2**31 - 1
_NOT_ASCII_LETTER = re.compile("[^A-Za-z]")
_FEW_VALUES = 32

T = TypeVar("T")


def trigrams(text: str, separator: str) -> set[str]:
    """The trigrams of each part of `text` (split at `separator`)."""
    if separator not in text:
        return {text[i : i + 3] for i in range(len(text) - 2)}
    grams: set[str] = set()
    for part in text.split(separator):
        grams.update([part[i : i + 3] for i in range(len(part) - 2)])
    return grams


def insert_sorted(ids: list[int], patient_id: int) -> None:
    if not ids or ids[-1] < patient_id:
        ids.append(patient_id)
    else:
        insort(ids, patient_id)


def remove_sorted(ids: list[int], patient_id: int) -> None:
    index = bisect_left(ids, patient_id)
    if index < len(ids) and ids[index] == patient_id:
        del ids[index]


class Trigrams:
    """Substring index: trigram -> ids, each posting sorted (an edit re-indexes
    an older id in place). Stale ids are harmless: a candidate is always checked
    against its patient's current text.

    A needle holding the separator is not looked up (None: the caller scans),
    which keeps `needle in text` exact.

    `letters=False` leaves out the trigrams made of letters only: a needle
    with anything else in it (a digit, ".", "_") has a trigram holding that,
    and only those are looked up; a needle of letters alone is not (None).
    The email local parts are indexed so, since their letter runs are looked
    up by word (ValueGroups): three in four of their trigrams are letters.
    """

    __slots__ = ("_last", "_letters", "_postings", "_separator", "_typecode")

    def __init__(self, separator: str, *, letters: bool = True) -> None:
        self._postings: dict[str, array[int]] = _IntPostings()
        self._separator = separator
        self._letters = letters
        self._typecode = "i"
        self._last = -1  # the largest id added: at or past it, every posting takes an append

    def add(self, patient_id: int, text: str) -> None:
        """Index `text` under `patient_id`."""
        if patient_id > _INT32_MAX and self._typecode == "i":
            self._widen()
        grams = trigrams(text, self._separator) if self._letters else self._unlettered(text)
        postings = self._postings  # a new gram gets its empty posting (__missing__)
        if patient_id >= self._last:  # loading, creating: the hot case
            self._last = patient_id
            for gram in grams:
                postings[gram].append(patient_id)
            return
        for gram in grams:
            insort(postings[gram], patient_id)

    def add_many(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """`add(i, text)` for each pair, at once (store/columnar.py): `ids` rise,
        each past every id here."""
        if not ids:
            return
        if ids[0] < self._last:
            raise ValueError(f"ids must rise past {self._last}: got {ids[0]}")
        if ids[-1] > _INT32_MAX and self._typecode == "i":
            self._widen()
        id_type = np.int32 if self._typecode == "i" else np.int64
        postings = self._postings
        for start in range(0, len(ids), CHUNK):
            chunk = texts[start : start + CHUNK]
            if "\x00" in "".join(chunk):  # numpy's strings end at a NUL: these go one by one
                for patient_id, text in zip(ids[start : start + CHUNK], chunk, strict=True):
                    self.add(patient_id, text)
                continue
            found = trigram_postings(
                ids[start : start + CHUNK], chunk, self._separator, letters=self._letters, id_type=id_type
            )
            for gram, owners in found:
                postings[gram].frombytes(owners.tobytes())
        self._last = ids[-1]

    def _unlettered(self, text: str) -> set[str]:
        """The trigrams of `text` that are not all letters."""
        if text.isascii() and self._separator not in text:  # a local part: the grams around its few non-letters
            grams: set[str] = set()
            last = len(text) - 3
            for found in _NOT_ASCII_LETTER.finditer(text):
                at = found.start()
                grams.update([text[i : i + 3] for i in range(max(at - 2, 0), min(at, last) + 1)])
            return grams
        return {gram for gram in trigrams(text, self._separator) if not gram.isalpha()}

    def postings(self, needle: str) -> list[array[int]] | None:
        """The postings of every trigram of `needle`, smallest first ([] if one
        has none: nothing matches), or None when the needle cannot be looked up."""
        if len(needle) < 3 or self._separator in needle:
            return None
        grams = {needle[i : i + 3] for i in range(len(needle) - 2)}
        if not self._letters:
            grams = {gram for gram in grams if not gram.isalpha()}
            if not grams:
                return None
        found = []
        for gram in grams:
            bucket = self._postings.get(gram)
            if bucket is None:
                return []
            found.append(bucket)
        found.sort(key=len)
        return found

    def _widen(self) -> None:
        self._typecode = "q"
        self._postings = _LongPostings((gram, array("q", bucket)) for gram, bucket in self._postings.items())


class _IntPostings(dict[str, "array[int]"]):
    """gram -> ids, an empty posting made on first use (a loop of plain appends;
    .get and a None check per gram were a fifth of a load's time)."""

    __slots__ = ()

    def __missing__(self, gram: str) -> array[int]:
        bucket = self[gram] = array("i")
        return bucket


class _LongPostings(dict[str, "array[int]"]):
    __slots__ = ()

    def __missing__(self, gram: str) -> array[int]:
        bucket = self[gram] = array("q")
        return bucket


class ExactIndex:
    """Exact-match index: key -> ids. A key held by one patient (nearly every
    email) maps to the bare id, one held by a few to a tuple of them (a set
    would take 216 bytes for two ids; one email in ten is shared), and a key
    held by many to a set."""

    __slots__ = ("_map",)

    _TUPLE_MAX = 16

    def __init__(self) -> None:
        self._map: dict[str, int | tuple[int, ...] | set[int]] = {}

    def add(self, key: str, patient_id: int) -> None:
        held = self._map.get(key)
        if held is None:
            self._map[key] = patient_id
        elif isinstance(held, int):
            if held != patient_id:
                self._map[key] = (held, patient_id)
        elif isinstance(held, tuple):
            if patient_id not in held:
                self._map[key] = (*held, patient_id) if len(held) < self._TUPLE_MAX else {*held, patient_id}
        else:
            held.add(patient_id)

    def add_many(self, keys: Sequence[str], ids: Sequence[int]) -> None:
        """`add(keys[i], ids[i])` for each i: the keys given once and held by no one
        yet (nearly every email of a load) are set at once, the rest one by one."""
        held = self._map
        fresh = dict(zip(keys, ids, strict=True))
        shared = held.keys() & fresh.keys()
        if len(fresh) < len(keys):
            shared.update([key for key, count in Counter(keys).items() if count > 1])
        for key in shared:
            del fresh[key]
        held.update(fresh)
        if shared:
            add = self.add
            for key, patient_id in zip(keys, ids, strict=True):
                if key in shared:
                    add(key, patient_id)

    def discard(self, key: str, patient_id: int) -> None:
        held = self._map.get(key)
        if held is None:
            return
        if isinstance(held, int):
            if held == patient_id:
                del self._map[key]
            return
        rest = {i for i in held if i != patient_id}
        if not rest:
            del self._map[key]
        elif len(rest) == 1:
            self._map[key] = rest.pop()
        elif isinstance(held, tuple):
            self._map[key] = tuple(i for i in held if i != patient_id)
        else:
            held.discard(patient_id)

    def get(self, key: str) -> Collection[int]:
        held = self._map.get(key)
        if held is None:
            return ()
        return (held,) if isinstance(held, int) else held


class ValueGroups:
    """Values many patients share (a names key, an email word, an email
    domain), each -> the sorted ids of its active and its archived patients;
    and trigram -> values.

    A million generated patients hold ~20k distinct (first, last) pairs, and
    their emails are made of the same words. A search checks the few values
    that can contain the needle and takes their ids as they are: no patient is
    read, so it costs about its matches, not the store's size.
    """

    __slots__ = ("_grams", "_groups")

    def __init__(self) -> None:
        self._groups: dict[str, list[array[int]]] = {}  # value -> [active ids, archived ids]
        self._grams: dict[str, list[str]] = {}  # lists, not sets: most grams have few values

    def add(self, value: str, patient_id: int, active: bool) -> None:
        group = self._groups.get(value)
        if group is None:
            group = self._groups[value] = [array("i"), array("i")]
            for gram in trigrams(value, SEPARATOR):
                self._grams.setdefault(gram, []).append(value)
        side = 0 if active else 1
        ids = group[side]
        if patient_id > _INT32_MAX and ids.typecode == "i":
            ids = group[side] = array("q", ids)
        if not ids or ids[-1] < patient_id:
            ids.append(patient_id)
        else:
            insort(ids, patient_id)

    def add_many(self, values: Sequence[str], ids: Sequence[int], active: Sequence[bool]) -> None:
        """`add(values[i], ids[i], active[i])` for each i, at once: `ids` rise
        (an id may repeat, with another value), each past every id here."""
        if not values:
            return
        numbers: dict[str, int] = dict.fromkeys(values, 0)  # each value once, in the order they came
        for number, value in enumerate(numbers):
            numbers[value] = number
        sides = np.fromiter(map(numbers.__getitem__, values), dtype=np.int64, count=len(values)) * 2
        sides += np.logical_not(active)
        order = np.argsort(sides, kind="stable")  # each group's ids stay in the order given
        sides = sides[order]
        owners = np.asarray(ids, dtype=np.int64)[order]
        wide = ids[-1] > _INT32_MAX
        value_of = list(numbers)
        for key, start, end in runs(sides):
            value, side = value_of[key >> 1], key & 1
            group = self._groups.get(value)
            if group is None:
                group = self._groups[value] = [array("i"), array("i")]
                for gram in trigrams(value, SEPARATOR):
                    self._grams.setdefault(gram, []).append(value)
            held = group[side]
            if wide and held.typecode == "i":
                held = group[side] = array("q", held)
            held.frombytes(owners[start:end].astype(np.int32 if held.typecode == "i" else np.int64).tobytes())

    def remove(self, value: str, patient_id: int, active: bool) -> None:
        group = self._groups.get(value)
        if group is not None:
            ids = group[0 if active else 1]
            index = bisect_left(ids, patient_id)
            if index < len(ids) and ids[index] == patient_id:
                del ids[index]

    def containing(self, needle: str) -> list[str] | None:
        """The values that contain `needle`, or None when it is too short to look up."""
        if len(needle) < 3 or SEPARATOR in needle:
            return None
        values: set[str] | None = None
        for gram in sorted(trigrams(needle, SEPARATOR), key=lambda g: len(self._grams.get(g, ()))):
            found = self._grams.get(gram)
            if not found:
                return []
            if values is None:
                values = set(found)
            else:
                values.intersection_update(found)
            if len(values) <= _FEW_VALUES:  # checking these few beats intersecting long lists
                break
        return [value for value in values or () if needle in value]

    def starting(self, prefix: str) -> list[str]:
        """The values that start with `prefix` (a walk over the values: for the few email domains)."""
        return [value for value in self._groups if value.startswith(prefix)]

    def ids(self, values: list[str], active: bool | None) -> set[int]:
        """The ids of the patients holding one of `values`, of one status (None: both)."""
        sides = (0, 1) if active is None else (0 if active else 1,)
        found: set[int] = set()
        for value in values:
            group = self._groups[value]
            for side in sides:
                found.update(group[side])
        return found


class Rows(Generic[T]):
    """id -> record for one account: a list indexed by id while ids come dense
    and rising (generated and created patients), a dict for the rest."""

    __slots__ = ("_dict", "_list")

    _MAX_GAP = 4096  # ids further than this past the list's end go to the dict

    def __init__(self) -> None:
        self._list: list[T | None] = []
        self._dict: dict[int, T] = {}

    def get(self, record_id: int) -> T | None:
        if 0 <= record_id < len(self._list):
            found = self._list[record_id]
            if found is not None:
                return found
        return self._dict.get(record_id)

    def __getitem__(self, record_id: int) -> T:
        found = self.get(record_id)
        if found is None:
            raise KeyError(record_id)
        return found

    def many(self, ids: list[int]) -> list[T]:
        """`[self[i] for i in ids]` without a method call per id (a list page)."""
        rows, size, rest = self._list, len(self._list), self._dict
        return [found if 0 <= i < size and (found := rows[i]) is not None else rest[i] for i in ids]

    def __contains__(self, record_id: int) -> bool:
        return self.get(record_id) is not None

    def __setitem__(self, record_id: int, record: T) -> None:
        rows = self._list
        if 0 <= record_id < len(rows) and record_id not in self._dict:
            rows[record_id] = record
        elif len(rows) <= record_id <= len(rows) + self._MAX_GAP:
            rows.extend([None] * (record_id - len(rows)))
            rows.append(record)
        else:
            self._dict[record_id] = record

    def extend(self, ids: Sequence[int], records: Sequence[T]) -> None:
        """`self[ids[i]] = records[i]` for each i; at once when the ids are the
        next ones of the list, in order (a load of generated patients)."""
        rows = self._list
        gap = ids[0] - len(rows) if ids else -1
        if 0 <= gap <= self._MAX_GAP and not self._dict and all(b == a + 1 for a, b in pairwise(ids)):
            rows.extend([None] * gap)
            rows.extend(records)
            return
        for record_id, record in zip(ids, records, strict=True):
            self[record_id] = record

    def __len__(self) -> int:
        return len(self._list) - self._list.count(None) + len(self._dict)

    def values(self) -> Iterator[T]:
        yield from (p for p in self._list if p is not None)
        yield from self._dict.values()
