"""The index structures' shortcuts give what the plain definitions give."""

from __future__ import annotations

import random

import pytest

from mockserver.store import indexes
from mockserver.store.indexes import SEPARATOR, ExactIndex, Trigrams, trigrams

ALPHABET = "abcxyzABZ019._-+@ë" + SEPARATOR


def _texts(seed: int, n: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 14))) for _ in range(n)]


def test_an_index_without_letter_grams_keeps_every_other_gram() -> None:
    index = Trigrams(SEPARATOR, letters=False)
    for text in [*_texts(1), "stefan.stojanovski85", "a.b", "ab", "abc", "x_y-z+1", "ëlla.b"]:
        expected = {gram for gram in trigrams(text, SEPARATOR) if not gram.isalpha()}
        assert index._unlettered(text) == expected, text


def _postings(index: Trigrams) -> dict[str, list[int]]:
    return {gram: list(ids) for gram, ids in index._postings.items() if ids}


@pytest.mark.parametrize("letters", [True, False])
@pytest.mark.parametrize("separator", [SEPARATOR, " "])
def test_many_texts_at_once_are_indexed_as_one_by_one(letters: bool, separator: str) -> None:
    rng = random.Random(2)
    phones = ["355691234567 0691234567", "38970123456 070123456", "38344123456", "1 0", "12345 99", "4477 04477"]
    texts = [*phones, *_texts(4), "ǅemal.ß", "ΣΊΣΥΦΟΣ", "日本語テキスト", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "aaaaaa", ""]
    rng.shuffle(texts)
    ids = sorted(rng.sample(range(1, 10**6), len(texts)))
    one_by_one, at_once = Trigrams(separator, letters=letters), Trigrams(separator, letters=letters)
    for patient_id, text in zip(ids, texts, strict=True):
        one_by_one.add(patient_id, text)
    at_once.add_many(ids, texts)
    assert _postings(at_once) == _postings(one_by_one)


def test_many_texts_at_once_span_chunks_and_wide_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "CHUNK", 7)  # many chunks, a gram in several of them
    texts = _texts(5, n=100)
    texts[50] = "a\x00bcd"  # its chunk goes one by one
    ids = [2**31 - 50 + i for i in range(100)]  # past a 4-byte id midway
    one_by_one, at_once = Trigrams(SEPARATOR), Trigrams(SEPARATOR)
    one_by_one.add(1, "abc")  # what is there stays first
    at_once.add(1, "abc")
    for patient_id, text in zip(ids, texts, strict=True):
        one_by_one.add(patient_id, text)
    at_once.add_many(ids, texts)
    assert _postings(at_once) == _postings(one_by_one)
    with pytest.raises(ValueError, match="rise"):
        at_once.add_many([5], ["later"])


def test_an_exact_index_follows_adds_and_discards() -> None:
    rng = random.Random(3)
    index, model = ExactIndex(), dict[str, set[int]]()
    for _ in range(5000):
        key, patient = rng.choice("abcd"), rng.randrange(40)
        if rng.random() < 0.6:
            index.add(key, patient)
            model.setdefault(key, set()).add(patient)
        else:
            index.discard(key, patient)
            model.get(key, set()).discard(patient)
        for k in "abcd":
            assert sorted(index.get(k)) == sorted(model.get(k, ())), k
