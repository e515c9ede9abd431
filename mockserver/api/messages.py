"""Every message a 422 of the mock carries, in one place, and the words of
the API's error bodies (`Wording`).

The API's are Rails-style (the spec's info.description lists them); the CSV
import's say what to fix in the file. Other modules name these constants and
functions, never the text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._exceptions import NotFound, Unauthorized, ValidationFailed

__all__ = [
    "AS_DOCUMENTED",
    "BASE",
    "BLANK",
    "COLUMN_TWICE",
    "CSV_EMPTY",
    "CSV_NOT_UTF8",
    "GIVEN_TWICE",
    "INVALID",
    "NEEDS_COUNTRY",
    "NOT_AN_INTEGER",
    "NOT_AN_OBJECT",
    "NOT_A_NUMBER",
    "NOT_A_PERMITTED_PARAMETER",
    "NOT_IN_LIST",
    "NOT_PERMITTED",
    "OWN_WORDS",
    "TAKEN",
    "Wording",
    "at_least",
    "at_most",
    "bad_date_format",
    "bad_phone_country",
    "column_without_name",
    "csv_date",
    "csv_unreadable",
    "did_you_mean",
    "greater_than",
    "less_than",
    "one_of",
    "phone_message",
    "row_width",
    "too_long",
    "too_short",
    "wording",
]

#: The key for problems with the body (or file) as a whole.
BASE = "base"

BLANK = "can't be blank"
INVALID = "is invalid"
NOT_IN_LIST = "is not included in the list"
NOT_A_NUMBER = "is not a number"
NOT_AN_INTEGER = "must be an integer"
TAKEN = "has already been taken"
NOT_PERMITTED = "is not a permitted field"
NOT_A_PERMITTED_PARAMETER = "is not a permitted parameter"
NOT_AN_OBJECT = "must be a JSON object"
GIVEN_TWICE = "must be given only once"
NEEDS_COUNTRY = "needs a country code or phone_country"


def at_least(limit: object) -> str:
    return f"must be greater than or equal to {limit}"


def at_most(limit: object) -> str:
    return f"must be less than or equal to {limit}"


def greater_than(limit: object) -> str:
    return f"must be greater than {limit}"


def less_than(limit: object) -> str:
    return f"must be less than {limit}"


def too_long(limit: object) -> str:
    return f"is too long (maximum is {limit} characters)"


def too_short(limit: object) -> str:
    return f"is too short (minimum is {limit} characters)"


def phone_message(reason: str) -> str:
    """The message of an `InvalidPhone` refusal, by its reason."""
    return NEEDS_COUNTRY if reason == "no_country" else INVALID


# -- the words of the error bodies ---------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """The `error` of the API's answers whose words the guide shows, and the
    401's challenge (error_wording). Other errors say what they say."""

    unauthorized: str
    not_found: str  # a patient: unknown, another account's, or unreadable
    page_not_found: str  # a page past the last (page_past_end=not_found)
    validation_failed: str
    challenge: str  # WWW-Authenticate of a 401


#: error_wording=as_documented: the guide's words, which the spec fixes with `const`.
AS_DOCUMENTED = Wording(
    unauthorized=Unauthorized.default_message,
    not_found=NotFound.default_message,
    page_not_found=NotFound.default_message,
    validation_failed=ValidationFailed.default_message,
    challenge=Unauthorized.challenge,
)
#: error_wording=own_words: the kit's own words, and a challenge with a realm (RFC 6750).
#: The field messages under `errors` stay Rails' either way.
OWN_WORDS = Wording(
    unauthorized="Invalid or revoked token",
    not_found="Patient not found",
    page_not_found="Page not found",
    validation_failed="Invalid request",
    challenge='Bearer realm="Dentare"',
)


def wording(own_words: bool) -> Wording:
    return OWN_WORDS if own_words else AS_DOCUMENTED


# -- the CSV import ------------------------------------------------------------------------

CSV_EMPTY = "the file is empty; its first line names the columns"
CSV_NOT_UTF8 = "is not valid UTF-8; save the file as CSV UTF-8"
COLUMN_TWICE = "is given twice"


def csv_unreadable(reason: object) -> str:
    return f"is not valid CSV: {reason}"


def column_without_name(index: int) -> str:
    return f"column {index} has no name"


def row_width(cells: int, columns: int) -> str:
    return f"has {cells} cells; the header has {columns}"


def did_you_mean(column: str) -> str:
    """A header cell that is not a column but looks like one (`First Name`)."""
    return f"is not a permitted field; did you mean {column}?"


def one_of(values: Iterable[object]) -> str:
    """An enumerated cell not among the values: which ones are."""
    listed = ", ".join(str(v) for v in values)
    return f"is not included in the list: {listed}"


def csv_date(date_format: str | None) -> str:
    """A date cell that is not a date in the file's format (YYYY-MM-DD unless told)."""
    if date_format:
        return f"is not a date as {date_format}"
    return "is not a date as YYYY-MM-DD (1990-05-15); for a file of other dates pass --date-format, e.g. DD.MM.YYYY"


def bad_date_format(value: str) -> str:
    return f"{value!r} is not a date format: use DD, MM and YYYY once each, e.g. DD.MM.YYYY or MM/DD/YYYY"


def bad_phone_country(value: str) -> str:
    return f"{value!r} is not a two-letter country code (MK, XK, AL)"
