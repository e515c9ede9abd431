"""Bad input in CSV imports (POST /__mock/accounts/{id}/import): cells that a POST
would refuse, numbers of any length, dates outside 0001-9999, files that are not
CSV, not UTF-8, too large, sent with the wrong type or to no account. A refused
file imports nothing: 422 lists each bad row with its line and 422 messages.
Data only; the test is in test_bad_input_layers.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dentare_spec import constraints, load_spec, object_shape
from mockserver.api import messages
from mockserver.api.messages import BLANK, INVALID, NOT_IN_LIST, NOT_PERMITTED, too_long

__all__ = ["CSV_CASES", "CsvCase"]


@dataclass(frozen=True)
class CsvCase:
    id: str
    data: bytes
    status: int
    #: The first bad row's `errors`, when the case fixes them.
    errors: Mapping[str, Sequence[str]] | None = None
    line: int | None = None
    content_type: str = "text/csv; charset=utf-8"
    account: str = "1"


_FIELDS = object_shape(load_spec().operation("createPatient").body_schema).properties


def _not_listed(field: str) -> str:
    """An enumerated cell's message: it names the values the spec lists."""
    return messages.one_of(constraints(_FIELDS[field]).enum or ())


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _one(column: str, value: str) -> bytes:
    """A file of one row: valid names plus `column` set to `value`."""
    if column in ("first_name", "last_name"):
        other = "last_name" if column == "first_name" else "first_name"
        return _csv([[column, other], [value, "Valid"]])
    return _csv([["first_name", "last_name", column], ["Valid", "Row", value]])


TEXT = (
    "personal_no",
    "external_id",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "insurance_provider",
    "insurance_id",
)
LONG_TEXT = ("allergies", "medical_conditions")
NAMES = ("first_name", "last_name")
ENUMS = {"gender": ("unknown", "Male", "f"), "locale": ("de", "MK", "en-US"), "blood_type": ("C+", "a+", "0+")}
DATES = (
    "0000-01-01",
    "10000-01-01",
    "-001-01-01",
    "2020-02-30",
    "2021-02-29",
    "15.05.1990",
    "1990-5-15",
    "1990/05/15",
    "١٩٩٠-٠٥-١٥",
    "19900515",
    "1990-05-15T00:00:00Z",
)
NUMBERS = {
    "0": "must be greater than or equal to 1",
    "-1": "must be greater than or equal to 1",
    "2147483648": "must be less than or equal to 2147483647",
    "99999999999999999999": "must be less than or equal to 2147483647",
    "1" * 5000: "must be less than or equal to 2147483647",  # int() refused more than 4300 digits: a 500
    "-" + "1" * 5000: "must be greater than or equal to 1",
    "1" + "0" * 4299: "must be less than or equal to 2147483647",
    "0" * 5000 + "0": "must be greater than or equal to 1",
    "1.5": "must be an integer",
    "abc": "is not a number",
    "١": "is not a number",
}


def cell_cases() -> Iterator[CsvCase]:
    for column in (*TEXT, *NAMES, "email"):
        yield CsvCase(
            f"{column}-256-chars",
            _one(column, "a" * 256),
            422,
            {column: [too_long(255)]} if column != "email" else None,
            line=2,
        )
    for column in (*TEXT, *LONG_TEXT, *NAMES):
        for code in (0x01, 0x08, 0x0B, 0x1B, 0x7F):
            yield CsvCase(
                f"{column}-control-{code:02x}", _one(column, f"a{chr(code)}b"), 422, {column: [INVALID]}, line=2
            )
    for column in LONG_TEXT:
        yield CsvCase(f"{column}-5001-chars", _one(column, "a" * 5001), 422, {column: [too_long(5000)]}, line=2)
        # Beyond the csv module's 128 KiB per cell (no LongText is ever that long).
        yield CsvCase(
            f"{column}-1-MB",
            _one(column, "ш" * 500_000),
            422,
            {"base": ["is not valid CSV: field larger than field limit (131072)"]},
            line=2,
        )
    for column in NAMES:
        for label, value in (("spaces", "   "), ("nbsp", "\u00a0"), ("ideographic-space", "\u3000")):
            yield CsvCase(f"{column}-blank-{label}", _one(column, value), 422, {column: [BLANK]}, line=2)
        yield CsvCase(
            f"{column}-missing",
            _csv([[column], ["Only"]]),
            422,
            {"last_name" if column == "first_name" else "first_name": [BLANK]},
            line=2,
        )
    for value in ("not-an-email", "a@", "@b.c", "a b@c.d", "a@b@c"):
        yield CsvCase(f"email-{value}", _one("email", value), 422, {"email": [INVALID]}, line=2)
    for value, message in (
        ("12", INVALID),  # read as a national number of the account's country (AL)
        ("+355 12", INVALID),
        ("+999 1234567", INVALID),
        ("+1" + "9" * 63, too_long(64)),
    ):
        yield CsvCase(f"phone-{value[:12]}", _one("phone", value), 422, {"phone": [message]}, line=2)
    for value, message in (("ZZ", NOT_IN_LIST), ("ALB", INVALID), ("0", INVALID), ("Ал", INVALID)):
        yield CsvCase(f"phone_country-{value}", _one("phone_country", value), 422, {"phone_country": [message]}, line=2)
    for value in DATES:
        yield CsvCase(
            f"birthdate-{value}", _one("birthdate", value), 422, {"birthdate": [messages.csv_date(None)]}, line=2
        )
    for column, values in ENUMS.items():
        for value in values:
            yield CsvCase(f"{column}-{value}", _one(column, value), 422, {column: [_not_listed(column)]}, line=2)
    for value in ("maybe", "yes", "1", "0", "tru", "ИСТИНА"):
        yield CsvCase(f"is_active-{value}", _one("is_active", value), 422, {"is_active": [NOT_IN_LIST]}, line=2)
    for value, message in NUMBERS.items():
        label = value if len(value) < 24 else f"{value[:3]}...{len(value)}-chars"
        yield CsvCase(
            f"preferred_doctor_id-{label}",
            _one("preferred_doctor_id", value),
            422,
            {"preferred_doctor_id": [message]},
            line=2,
        )


def file_cases() -> Iterator[CsvCase]:
    empty = "the file is empty; its first line names the columns"
    yield CsvCase("file-empty", b"", 422, {"base": [empty]}, line=1)
    yield CsvCase("file-only-bom", b"\xef\xbb\xbf", 422, {"base": [empty]}, line=1)
    yield CsvCase("file-only-newlines", b"\n\n\n", 422, {"base": [empty]}, line=1)
    yield CsvCase("file-blank-header", b" , ,\nA,B,C\n", 422, line=1)
    for column in (
        "id",
        "created_at",
        "updated_at",
        "phone_e164",
        "vip",
        "preferences",
        "legacy_id",
        "colour",
        "account_id",
        "display_name",
    ):
        yield CsvCase(
            f"header-read-only-{column}",
            _csv([["first_name", "last_name", column], ["A", "B", "x"]]),
            422,
            {column: [NOT_PERMITTED]},
            line=1,
        )
    yield CsvCase(
        "header-twice",
        _csv([["first_name", "last_name", "first_name"], ["A", "B", "C"]]),
        422,
        {"first_name": ["is given twice"]},
        line=1,
    )
    yield CsvCase("header-no-name", b"first_name,,last_name\nA,x,B\n", 422, {"base": ["column 2 has no name"]}, line=1)
    yield CsvCase(
        "header-5000-digit-name", _csv([["first_name", "last_name", "1" * 5000], ["A", "B", "1"]]), 422, line=1
    )
    yield CsvCase("header-5000-columns", _csv([[f"c{i}" for i in range(5000)], ["x"] * 5000]), 422, line=1)
    yield CsvCase(
        "row-too-few-cells",
        b"first_name,last_name,email\nA,B\n",
        422,
        {"base": ["has 2 cells; the header has 3"]},
        line=2,
    )
    yield CsvCase(
        "row-too-many-cells",
        b"first_name,last_name\nA,B,C,D\n",
        422,
        {"base": ["has 4 cells; the header has 2"]},
        line=2,
    )
    yield CsvCase("row-bad-after-good", b"first_name,last_name\nA,B\nC,D\n,E\n", 422, {"first_name": [BLANK]}, line=4)
    yield CsvCase(
        "rows-taken-external-id",
        b"first_name,last_name,external_id\nA,B,x1\nC,D,x1\n",
        422,
        {"external_id": ["has already been taken"]},
        line=3,
    )
    yield CsvCase(
        "not-utf8-latin1",
        "first_name,last_name\nMarjë,Çela\n".encode("latin-1"),
        422,
        {"base": ["is not valid UTF-8; save the file as CSV UTF-8"]},
        line=2,
    )
    yield CsvCase("not-utf8-utf16", "first_name,last_name\nA,B\n".encode("utf-16"), 422, line=1)
    yield CsvCase("not-utf8-lone-continuation", b"first_name,last_name\nA,\x80\n", 422, line=2)
    yield CsvCase("not-utf8-surrogate", b"first_name,last_name\nA,\xed\xa0\x80\n", 422, line=2)
    yield CsvCase("nul-byte", b"first_name,last_name\nA\x00,B\n", 422, line=2)
    yield CsvCase("unterminated-quote", b'first_name,last_name\n"A,B\n', 422, line=2)
    yield CsvCase("text-after-closing-quote", b'first_name,last_name\n"A"x,B\n', 422, line=2)
    yield CsvCase("json-sent-as-csv", b'{"first_name": "A", "last_name": "B"}', 422, line=1)
    yield CsvCase("too-large", b"first_name,last_name\n" + b"A,B\n" * (8 * 1024 * 1024 + 1), 413)


def request_cases() -> Iterator[CsvCase]:
    good = b"first_name,last_name\nA,B\n"
    for label, content_type in (
        ("json", "application/json"),
        ("text-plain", "text/plain"),
        ("form", "application/x-www-form-urlencoded"),
        ("multipart", "multipart/form-data; boundary=x"),
        ("none", ""),
        ("latin1-charset", "text/csv; charset=latin-1"),
        ("csvx", "text/csvx"),
        ("excel", "application/vnd.ms-excel"),
    ):
        yield CsvCase(f"content-type-{label}", good, 415, content_type=content_type)
    for label, account in (
        ("unknown", "999"),
        ("zero", "0"),
        ("letters", "abc"),
        ("negative", "-1"),
        ("20-digits", "99999999999999999999"),
        ("5000-digits", "9" * 5000),
        ("arabic-digit", "%D9%A1"),
        ("nul", "%00"),
    ):
        yield CsvCase(f"account-{label}", good, 404, account=account)


CSV_CASES = [*cell_cases(), *file_cases(), *request_cases()]
