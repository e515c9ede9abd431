"""The index structures' shortcuts give what the plain definitions give."""

from __future__ import annotations

import random

from mockserver.store.account import digit_grams
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


def test_digit_grams_are_the_trigrams_of_the_digits_text() -> None:
    rng = random.Random(2)
    texts = ["355691234567 0691234567", "38970123456 070123456", "38344123456", "1 0", "12345 99", "4477 04477"]
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 14)))
        national = rng.choice(
            ("", "0" + digits[rng.randrange(len(digits) + 1) :], "".join(rng.sample("0123456789", 4)))
        )
        texts.append(f"{digits} {national}" if national else digits)
    for text in texts:
        assert digit_grams(text) == trigrams(text, " "), text


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
