"""The search keys a patient row carries, computed in Python at write time with
the memory store's own functions, so that SQL only compares strings.

    names_key          fold(first) SEP fold(last) SEP fold("first last")  (store/account.py)
    key_email          the case-folded email          (`q`, and the email filter)
    key_personal_no    the case-folded personal number
    key_digits         the phone digits: E.164 and national form (`phone_search_digits`)
    key_plain_names    casefold(first) SEP casefold(last) SEP casefold "first last"
    key_plain_digits   the digits of the stored phone and of its E.164 form

The last two serve `StoreRules.plain_search`; they are kept whatever the
rules, so processes with other profiles can share one database. A needle
never holds the separator (the API refuses control characters in `q`), so a
substring of a joined key is a substring of one of its parts.
"""

from __future__ import annotations

from collections.abc import Callable

from ...domain.records import Patient
from ..account import NamesKeys, digits_text
from ..indexes import SEPARATOR
from ..planner import _digits  # the planner's own reading of digits (str.isdigit), for identical answers

__all__ = ["KEY_COLUMNS", "SearchKeys"]

#: The key columns, in the order `SearchKeys.__call__` gives their values.
KEY_COLUMNS = ("key_email", "key_personal_no", "key_digits", "key_plain_names", "key_plain_digits")


class SearchKeys:
    """Computes a patient's `names_key` (set on the patient, as the memory store
    does) and the values of `KEY_COLUMNS`."""

    def __init__(self) -> None:
        self._names: Callable[[str, str], str] = NamesKeys()  # bounded, shared by equal names

    def __call__(self, p: Patient) -> tuple[str | None, ...]:
        p.names_key = self._names(p.first_name, p.last_name)
        first, last = p.first_name.casefold(), p.last_name.casefold()
        return (
            p.email.casefold() if p.email else None,
            p.personal_no.casefold() if p.personal_no else None,
            digits_text(p) or None,
            SEPARATOR.join((first, last, f"{first} {last}")),
            f"{_digits(p.phone or '')} {_digits(p.phone_e164 or '')}",
        )
