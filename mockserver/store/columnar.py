"""The trigrams of many texts at once, worked out with numpy: how a bulk load
builds a `Trigrams` index (a million phones, personal numbers and email local
parts; bench/README.md). `Trigrams.add` does the same for one text.

Each chunk of texts becomes a matrix of code points; every window of three
becomes one code (`_encode`), and a stable sort by code groups each trigram's
ids in the order the texts came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["CHUNK", "runs", "trigram_postings"]

#: Texts per chunk: bounds the matrices (a few MB each) whatever the load's size.
CHUNK = 1 << 14

_CHAR_BITS = 21  # every code point fits
_CHAR_MASK = (1 << _CHAR_BITS) - 1

_Codes = npt.NDArray[np.uint32]


def trigram_postings(
    ids: Sequence[int], texts: Sequence[str], separator: str, *, letters: bool, id_type: type[np.signedinteger]
) -> Iterator[tuple[str, npt.NDArray[np.signedinteger]]]:
    """(trigram, ids holding it) for the texts of one chunk, `ids[i]` holding
    `texts[i]`: the trigrams of each part of a text (split at `separator`), each
    once per id; with `letters=False` only those with a character that is not
    a letter. Ids come out in the order given. Texts must hold no NUL (numpy's
    strings end at one)."""
    width = max(map(len, texts), default=0)
    if width < 3:
        return
    chars: _Codes = np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(len(texts), width)
    first, second, third = chars[:, :-2], chars[:, 1:-1], chars[:, 2:]
    sep = ord(separator)
    kept = (third != 0) & (first != sep) & (second != sep) & (third != sep)  # 0: past the text's end
    if not letters:
        letter = _letters(chars)
        kept &= ~(letter[:, :-2] & letter[:, 1:-1] & letter[:, 2:])
    codes, decode = _encode(chars, first, second, third)
    owners = np.broadcast_to(np.asarray(ids, dtype=id_type)[:, None], kept.shape)
    codes, owners = codes[kept], owners[kept]
    order = np.argsort(codes, kind="stable")  # each trigram's ids stay in the texts' order
    codes, owners = codes[order], owners[order]
    if not codes.size:
        return
    # A text repeating a trigram gives one id twice in a row: keep it once.
    fresh = np.ones(codes.size, dtype=bool)
    fresh[1:] = (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])
    codes, owners = codes[fresh], owners[fresh]
    for code, start, end in runs(codes):
        yield decode(code), owners[start:end]


def runs(keys: npt.NDArray[np.integer]) -> Iterator[tuple[int, int, int]]:
    """(key, start, end) of each run of equal values in sorted `keys`."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    ends = [*starts[1:].tolist(), keys.size]
    return zip(keys[starts].tolist(), starts.tolist(), ends, strict=True)


def _encode(
    chars: _Codes, first: _Codes, second: _Codes, third: _Codes
) -> tuple[npt.NDArray[np.unsignedinteger], Callable[[int], str]]:
    """One code per window of three and how to read a code back. A small
    alphabet (digits, most local parts) numbers its characters densely so
    that a code fits 16 bits, which numpy sorts by radix; any other takes
    21 bits a character."""
    present = np.flatnonzero(np.bincount(chars.ravel()))  # the chunk's alphabet (0: the padding)
    size = present.size
    if size**3 <= 1 << 16:
        dense = np.zeros(int(present[-1]) + 1, dtype=np.uint16)
        dense[present] = np.arange(size, dtype=np.uint16)
        small = np.uint16(size)
        codes = (dense[first] * small + dense[second]) * small + dense[third]
        alphabet = [chr(point) for point in present.tolist()]

        def decode_small(code: int) -> str:
            head, last = divmod(code, size)
            return alphabet[head // size] + alphabet[head % size] + alphabet[last]

        return codes, decode_small
    wide = np.uint64
    codes = (first.astype(wide) << wide(2 * _CHAR_BITS)) | (second.astype(wide) << wide(_CHAR_BITS)) | third

    def decode_wide(code: int) -> str:
        return chr(code >> 2 * _CHAR_BITS) + chr((code >> _CHAR_BITS) & _CHAR_MASK) + chr(code & _CHAR_MASK)

    return codes, decode_wide


def _letters(chars: _Codes) -> npt.NDArray[np.bool_]:
    """Which code points are letters, as `str.isalpha` says."""
    letter: npt.NDArray[np.bool_] = ((chars >= 65) & (chars <= 90)) | ((chars >= 97) & (chars <= 122))
    others = np.unique(chars[chars > 127]).tolist()
    alphabetic = [point for point in others if chr(point).isalpha()]
    if alphabetic:
        letter |= np.isin(chars, alphabetic)
    return letter
