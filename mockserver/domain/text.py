"""Script handling for patient names: the search key and display transliteration.

Clinics in Albania, Kosovo and North Macedonia store the same surname as
"Hoxha", "Hodža" or "Хоџа". Search must find all of them from any of them, and
`lang` must show any of them in the reader's script, so both directions live
here, in small hand-written tables: no transliteration library reads Albanian
Latin as Macedonian Cyrillic (cyrtranslit's Macedonian expects č ǵ ḱ, and
`transliterate` and `unidecode` are GPL). The one library used is anyascii
(ISC), for `lang=en`'s ASCII spelling of letters outside these alphabets
(Greek, Hangul, ...), after the tables have spelled the region's own.

`lang=mk` writes Macedonian orthography, which puts a ј between и and а in
names (Maria -> Марија, Arianit -> Аријанит); `lang=en` is plain ASCII, the
region's marked letters spelled by their sound (Çelë -> Cele, Šehu -> Shehu,
Hodžić -> Hodzhikj, as Хоџиќ romanizes).

The search key is an ASCII spelling in which Albanian letters, Macedonian
Cyrillic and its romanizations coincide:

    xh џ dž -> dzh   x ѕ -> dz   ç č ч ch -> c   sh ш š -> sh   zh ж ž -> zh
    q ќ ć kj -> kj   gj ѓ đ -> gj   nj њ -> nj   lj љ -> lj   ë -> e   y -> i
    w -> v   dh -> d   th -> t   ll -> l   rr -> r   ia ија -> ija

Two choices differ from a letter-for-letter mapping, both for findability:
`ç`/`ч` fold to plain `c` (the spec promises that `ç` matches `c`, so `cela`
must find "Çela"; the romanized `ch` folds there too, so "Chedenka" finds
"Чеденка"), and the Albanian digraphs `dh th ll rr` and the letters `y w` fold
to what `to_cyrillic` writes for them (д т л р и в). The Macedonian ј of
"Марија" is put into every "ia" of a key ("Maria" and "Marija" both key as
"marija"): inserting a letter, unlike dropping one, keeps every substring of a
name a substring of its key. Hence the key of any name equals the key of its
display in every language: a user can search with what `lang=mk` showed them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from anyascii import anyascii

__all__ = ["WHITESPACE", "fold", "is_cyrillic", "localize", "to_ascii", "to_cyrillic", "to_latin", "trim"]

# -- Cyrillic -> Latin --------------------------------------------------------------------

# Macedonian, ASCII romanization (lang=en), lower case.
_MK_EN: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "gj", "е": "e", "ж": "zh",
    "з": "z", "ѕ": "dz", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m",
    "н": "n", "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ќ": "kj",
    "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "џ": "dzh", "ш": "sh",
    "ѐ": "e", "ѝ": "i",
    # Neighbouring Cyrillic alphabets, so that a Serbian, Bulgarian or Russian
    # name still comes out readable (and folds like its romanization).
    "ђ": "gj", "ћ": "kj", "й": "j", "ё": "jo", "ы": "y", "э": "e", "ю": "ju",
    "я": "ja", "щ": "sht", "ъ": "", "ь": "", "є": "je", "і": "i", "ї": "ji", "ґ": "g",
}  # fmt: skip

# Albanian spelling (lang=sq) where it differs from the ASCII romanization.
_MK_SQ: dict[str, str] = {
    **_MK_EN, "ч": "ç", "џ": "xh", "ѕ": "x", "ќ": "q", "ћ": "q",
}  # fmt: skip


def _latin_table(lower: dict[str, str]) -> dict[int, str]:
    """Both cases: an upper-case letter gives a capitalised digraph ("Џ" -> "Dzh")."""
    table = {ord(c): latin for c, latin in lower.items()}
    table.update({ord(c.upper()): latin.capitalize() for c, latin in lower.items()})
    return table


_TO_LATIN: dict[str, dict[int, str]] = {"en": _latin_table(_MK_EN), "sq": _latin_table(_MK_SQ)}

# -- Latin -> Macedonian Cyrillic ---------------------------------------------------------

# Digraphs first, longest first, so "xh" is never read as "x" + "h"; "ia" is
# the Macedonian "ија" (Марија).
_DIGRAPHS_CYR: dict[str, str] = {
    "dzh": "џ", "dž": "џ", "xh": "џ", "dh": "д", "th": "т", "ll": "л", "rr": "р",
    "ch": "ч", "sh": "ш", "zh": "ж", "gj": "ѓ", "nj": "њ", "lj": "љ", "kj": "ќ", "dz": "ѕ",
    "ia": "ија",
}  # fmt: skip
_LETTERS_CYR: dict[str, str] = {
    "a": "а", "b": "б", "c": "ц", "ç": "ч", "d": "д", "e": "е", "ë": "е", "f": "ф",
    "g": "г", "h": "х", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м", "n": "н",
    "o": "о", "p": "п", "q": "ќ", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в",
    "w": "в", "x": "ѕ", "y": "и", "z": "з", "č": "ч", "ć": "ќ", "đ": "ѓ", "š": "ш",
    "ž": "ж", "ǆ": "џ",
}  # fmt: skip
_TO_CYRILLIC = {ord(c): cyr for c, cyr in _LETTERS_CYR.items()}
_TO_CYRILLIC.update({ord(c.upper()): cyr.upper() for c, cyr in _LETTERS_CYR.items()})
_TO_CYRILLIC[ord("ǅ")] = "Џ"  # the title-case form of ǆ


def _cased(digraph: str) -> list[str]:
    """Every mix of cases of `digraph`, spelled out: `re.IGNORECASE` would also
    match the Turkish dotless ı, the long ſ and the Kelvin sign, which are not
    these letters (and not keys of the table)."""
    return ["".join(letters) for letters in itertools.product(*((c.lower(), c.upper()) for c in digraph))]


_DIGRAPH_RE = re.compile(
    "|".join(variant for d in sorted(_DIGRAPHS_CYR, key=len, reverse=True) for variant in _cased(d))
)
# lang=en: the region's marked Latin letters spelled by their sound, as fold reads them.
_TO_ASCII = _latin_table({
    "ç": "c", "ë": "e", "č": "ch", "š": "sh", "ž": "zh", "ć": "kj", "đ": "gj", "ǆ": "dzh",
    "ð": "dh", "þ": "th", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i",
})  # fmt: skip
_TO_ASCII[ord("ǅ")] = "Dzh"
# Latin letters with marks that the tables above do not name: read as their base letter.
_KEEP_MARKED = frozenset("çÇëËčČćĆđĐšŠžŽǆǅǄ")
_MARKED_LATIN_RE = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")

# -- Search key ---------------------------------------------------------------------------

# Latin digraphs read as one letter; folded first, on the Latin input only, so
# that a Cyrillic "цх" (two letters) is not mistaken for one.
_COLLAPSE = (("ch", "c"), ("dh", "d"), ("th", "t"), ("ll", "l"), ("rr", "r"))
_ASCII_FOLD = {ord("x"): "dz", ord("q"): "kj", ord("w"): "v", ord("y"): "i"}


def _fold_latin(s: str) -> str:
    """The key of lower-case ASCII text (also used to derive the tables below).

    Unrolled `in` + `replace`: about 3x faster than `translate` with
    multi-letter values, and this runs for every patient at load.
    """
    if "h" in s:
        if "ch" in s:
            s = s.replace("ch", "c")
        if "dh" in s:
            s = s.replace("dh", "d")
        if "th" in s:
            s = s.replace("th", "t")
    if "ll" in s:
        s = s.replace("ll", "l")
    if "rr" in s:
        s = s.replace("rr", "r")
    # No value below contains a key, so sequential replaces equal one translate.
    if "x" in s:
        s = s.replace("x", "dz")
    if "q" in s:
        s = s.replace("q", "kj")
    if "w" in s:
        s = s.replace("w", "v")
    if "y" in s:
        s = s.replace("y", "i")
    if "ia" in s:
        s = s.replace("ia", "ija")
    return s


_FOLD: dict[int, str | None] = dict(_ASCII_FOLD)
# Every Cyrillic letter folds like its ASCII romanization, so fold(to_latin(s)) == fold(s).
_FOLD.update({ord(c): _fold_latin(latin) for c, latin in _MK_EN.items()})
# Latin letters whose base letter alone would lose the sound (š is not s).
_FOLD.update(
    {ord(c): _fold_latin(latin) for c, latin in {
        "ç": "c", "č": "c", "ć": "kj", "đ": "gj", "š": "sh", "ž": "zh", "ë": "e",
        "ð": "dh", "þ": "th", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i",
    }.items()}
)  # fmt: skip
# After NFKD, combining marks go and base letters are folded again (x̂ -> dz).
_FOLD_MARKS: dict[int, str | None] = dict(_FOLD)
for _start, _end in ((0x300, 0x370), (0x483, 0x48A), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00),
                     (0x20D0, 0x2100), (0xFE20, 0xFE30)):  # fmt: skip
    _FOLD_MARKS.update(dict.fromkeys(range(_start, _end)))

_CYRILLIC_RE = re.compile("[\u0400-\u052f]")
_UPPER_PAIR_RE = re.compile("[\u0400-\u042fA-Z]{2}")
_WORD_RE = re.compile(r"\w+")


def fold(s: str) -> str:
    """The search key of `s`: case-, accent- and script-insensitive (see the module doc).

    It is a letter-by-letter mapping once the Latin digraphs `ch dh th ll rr`
    are read as one letter, so for text in Latin and Cyrillic letters (with
    any marks attached to a base letter), digits, spaces and punctuation:
    if t is a substring of s that neither splits one of those digraphs nor
    separates a letter from its combining marks, fold(t) is a substring of
    fold(s). Substrings that split them ("c" | "h") may not be; nor does the
    guarantee cover scripts where NFKC composes two base letters (Hangul).
    """
    if s.isascii():
        return _fold_latin(s.lower())
    s = unicodedata.normalize("NFKC", s).casefold()
    for digraph, letter in _COLLAPSE:
        if digraph in s:
            s = s.replace(digraph, letter)
    s = s.translate(_FOLD)
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s).translate(_FOLD_MARKS)
    if "ia" in s:  # after the letters are in: "иа", "ýa" and "ia" all key as "ija"
        s = s.replace("ia", "ija")
    return s


#: What `trim` removes: Unicode whitespace, but not the control characters
#: Python also counts as whitespace (VT, FF, FS..US, NEL), which are values
#: the kit's text limits refuse ("is invalid"), not padding.
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace() and ch not in "\x0b\x0c\x1c\x1d\x1e\x1f\x85")


def trim(s: str) -> str:
    """`s` without leading and trailing whitespace (whitespace=trimmed)."""
    return s.strip(WHITESPACE)


def is_cyrillic(s: str) -> bool:
    """Whether `s` contains any Cyrillic letter (then it is shown as stored for mk)."""
    return _CYRILLIC_RE.search(s) is not None


def to_latin(s: str, lang: str = "en") -> str:
    """Cyrillic letters in Latin, for display: `en` the ASCII Macedonian
    romanization (Џафер -> Dzhafer), `sq` Albanian spelling (Џафер -> Xhafer).

    Latin text is returned unchanged. A word in capitals stays in capitals
    ("ЏО" -> "DZHO"); otherwise a capital gives a capitalised digraph.
    """
    table = _TO_LATIN.get(lang)
    if table is None:
        raise ValueError(f"unknown language {lang!r}: expected 'en' or 'sq'")
    if s.isascii() or _CYRILLIC_RE.search(s) is None:
        return s
    s = unicodedata.normalize("NFC", s)
    if _UPPER_PAIR_RE.search(s) is None:
        return s.translate(table)

    def word(match: re.Match[str]) -> str:
        text = match.group()
        latin = text.translate(table)
        return latin.upper() if len(text) > 1 and text.isupper() else latin

    return _WORD_RE.sub(word, s)


def to_ascii(s: str) -> str:
    """`s` in ASCII, for display with `lang=en`: Cyrillic as its ASCII Macedonian
    romanization (`to_latin`), the region's marked Latin letters by their sound
    as `fold` reads them (ç ë -> c e, š ž č -> sh zh ch, ć đ -> kj gj), any
    other letter as anyascii spells it (é -> e, ß -> ss, Σοφία -> Sofia).
    A word in capitals stays in capitals ("ŠEHU" -> "SHEHU").
    """
    if s.isascii():
        return s
    # Composed before romanizing, never after: "З̌" is "Z" + a caron, not "Ž".
    s = to_latin(unicodedata.normalize("NFC", s), "en")

    def word(match: re.Match[str]) -> str:
        text = match.group()
        spelled = text.translate(_TO_ASCII)
        if not spelled.isascii():  # marks the tables do not name go, as fold drops them (ӝ -> ж -> zh)
            bare = "".join(c for c in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(c))
            spelled = to_latin(unicodedata.normalize("NFC", bare), "en").translate(_TO_ASCII)
        ascii_text = str(anyascii(spelled))
        return ascii_text.upper() if len(text) > 1 and text.isupper() else ascii_text

    return str(anyascii(_WORD_RE.sub(word, s)))  # what is left between words: ’ – « »


def to_cyrillic(s: str) -> str:
    """Latin letters in Macedonian Cyrillic, for display with `lang=mk`.

    The Latin is read as Albanian or romanized Macedonian, digraphs first
    ("Maria Hoxha" -> "Марија Хоџа", "Stojanovski" -> "Стојановски", "Thaçi"
    -> "Тачи"). Cyrillic text is returned unchanged; case is kept.
    """
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
        s = _MARKED_LATIN_RE.sub(_strip_marks, s)
    return _DIGRAPH_RE.sub(_digraph_to_cyrillic, s).translate(_TO_CYRILLIC)


def localize(s: str, lang: str) -> str:
    """`s` in the script of `lang`: `mk` Cyrillic, `en` ASCII, `sq` Latin (Albanian spelling)."""
    if lang == "mk":
        return to_cyrillic(s)
    if lang == "en":
        return to_ascii(s)
    if lang in _TO_LATIN:
        return to_latin(s, lang)
    raise ValueError(f"unknown language {lang!r}: expected 'en', 'sq' or 'mk'")


def _digraph_to_cyrillic(match: re.Match[str]) -> str:
    text = match.group()
    letters = _DIGRAPHS_CYR[text.lower()]
    if not text[0].isupper():
        return letters
    return letters.upper() if text.isupper() and len(letters) > 1 else letters.capitalize()


def _strip_marks(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _KEEP_MARKED:
        return ch
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
