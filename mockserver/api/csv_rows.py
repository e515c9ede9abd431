"""Patients from a CSV file, validated as POST /patients validates them (the
guide's "Import Patients from CSV").

The header row names the columns: any of the writable fields of the spec's
createPatient body, read from the spec. Each row becomes the JSON object a
POST would send (an empty cell is left out; integer and boolean cells are
converted as their schemas' types say, so `true`, `FALSE`, `42`) and is
validated exactly as POST /patients validates it: the spec's schema
(`RequestValidator`), then the write preparation (phones, regions), both as
the profile's decisions say.

All or nothing: every row is checked first, each bad one reported with its
line number and its 422 messages; only a file without a bad row is created,
in one backend call. The file is UTF-8 (a BOM is fine), lines end in LF or
CRLF, cells are separated by commas, semicolons (what Excel writes where the
decimal mark is a comma, as in MK, AL and XK) or tabs: whichever the header
holds most of.

Spreadsheets are not API clients, so where a POST's message would leave a
person guessing, the import says what to write instead: a header cell that
looks like a column (`First Name`) is told its name, an enumerated cell the
values, a date cell the format. Dates may come in another format
(`CsvOptions.date_format`, e.g. DD.MM.YYYY), and a national phone number
without `phone_country` is read as a number of the account's country (every
clinic has one), or of `CsvOptions.phone_country`.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dentare_spec import ApiSpec, SpecError, constraints, object_shape, value_type

from .._exceptions import ImportFailed, RowError, Taken, ValidationFailed
from ..decisions import Decisions, read_decisions
from ..domain.records import Patient
from ..store.backend import Backend
from . import messages
from .inputs import integer
from .validation import RequestValidator
from .writes import prepare_create

__all__ = ["CsvImporter", "CsvOptions"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DELIMITERS = (",", ";", "\t")
_DATE_TOKENS = {"YYYY": "%Y", "MM": "%m", "DD": "%d"}


@dataclass(frozen=True)
class CsvOptions:
    """How to read one file. `date_format` in DD, MM and YYYY (DD.MM.YYYY; a
    YYYY-MM-DD cell is still read, it cannot be mistaken); `phone_country` the
    region of national numbers (default: the account's)."""

    date_format: str | None = None
    phone_country: str | None = None

    def __post_init__(self) -> None:
        if self.date_format is not None:
            _strptime_format(self.date_format)  # ValueError names the problem
        if self.phone_country is not None and not re.fullmatch(r"[A-Za-z]{2}", self.phone_country):
            raise ValueError(messages.bad_phone_country(self.phone_country))


def _strptime_format(date_format: str) -> str:
    """DD.MM.YYYY as strptime's %d.%m.%Y; ValueError unless each token is there once and nothing else is a letter."""
    converted = date_format
    for token, directive in _DATE_TOKENS.items():
        if converted.count(token) != 1:
            raise ValueError(messages.bad_date_format(date_format))
        converted = converted.replace(token, directive)
    if re.search(r"[A-Za-z]", converted.replace("%Y", "").replace("%m", "").replace("%d", "")) or "%%" in converted:
        raise ValueError(messages.bad_date_format(date_format))
    return converted


class CsvImporter:
    """Parses and validates CSV files against the spec's createPatient body."""

    def __init__(self, spec: ApiSpec, decisions: Decisions | None = None):
        operation = spec.operation("createPatient")
        if operation.body_schema is None:
            raise SpecError(f"{spec.source}: createPatient has no JSON request body to import into")
        decisions = decisions or read_decisions(spec)
        self._rules = decisions.api
        self._unique_external_ids = not decisions.store.external_id_shared
        self._validator = RequestValidator(operation, self._rules)
        properties = object_shape(operation.body_schema).properties
        #: The columns a file may have, in the spec's order.
        self.columns: tuple[str, ...] = tuple(properties)
        self._types = {name: value_type(schema) or "string" for name, schema in properties.items()}
        found = {name: constraints(schema) for name, schema in properties.items()}
        self._dates = {name for name, c in found.items() if c.format == "date"}
        self._enums = {name: c.enum for name, c in found.items() if c.enum}

    def documents(
        self, data: bytes, options: CsvOptions = CsvOptions()
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """Each data row as (line number, the JSON object a POST would send), and
        the rows that cannot be read as one; ImportFailed if the file cannot be read."""
        date_format = _strptime_format(options.date_format) if options.date_format else None
        text = _decode(data)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
        previous_end = 0  # the line the last row ended on; the next row starts after it
        try:
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                raise ImportFailed([RowError(1, {messages.BASE: [messages.CSV_EMPTY]})])
            columns = self._header(header)
            rows: list[tuple[int, dict[str, Any]]] = []
            bad: list[RowError] = []
            previous_end = reader.line_num
            for cells in reader:
                line, previous_end = previous_end + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines and rows of empty cells (spreadsheets leave them)
                if len(cells) != len(columns):
                    bad.append(RowError(line, {messages.BASE: [messages.row_width(len(cells), len(columns))]}))
                    continue
                rows.append(
                    (
                        line,
                        {
                            name: self._value(name, cell, date_format)
                            for name, cell in zip(columns, cells, strict=True)
                            if cell != ""
                        },
                    )
                )
        except csv.Error as exc:
            raise ImportFailed([RowError(previous_end + 1, {messages.BASE: [messages.csv_unreadable(exc)]})]) from None
        return rows, bad

    async def import_into(
        self, backend: Backend, account_id: int, data: bytes, options: CsvOptions = CsvOptions()
    ) -> list[Patient]:
        """Check every row, then create them all in one backend call, or none:
        ImportFailed lists every bad row."""
        account = await backend.account(account_id)  # 404 before reading the file
        prepared, bad = self._prepare(data, options, options.phone_country or account.country)
        if self._unique_external_ids:
            bad += await _taken(backend, account_id, prepared)
        if bad:
            raise ImportFailed(sorted(bad, key=lambda row: row.line))
        try:
            return await backend.create_patients(account_id, [values for _, values in prepared])
        except Taken as exc:  # taken by a write that came in between
            line = next(line for line, values in prepared if values.get(exc.field) == exc.value)
            raise ImportFailed([RowError(line, {exc.field: [messages.TAKEN]})]) from None

    def _prepare(
        self, data: bytes, options: CsvOptions, country: str | None
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """The rows checked as POST bodies and prepared for the store, and the bad ones."""
        documents, bad = self.documents(data, options)
        prepared: list[tuple[int, dict[str, Any]]] = []
        for line, document in documents:
            phone = document.get("phone")
            if country and isinstance(phone, str) and "phone_country" not in document and _national(phone):
                document["phone_country"] = country
            try:
                prepared.append((line, prepare_create(self._validator.body(document), self._rules)))
            except ValidationFailed as exc:
                bad.append(RowError(line, self._explained(exc.errors, options)))
        return prepared, bad

    def _explained(self, errors: dict[str, list[str]], options: CsvOptions) -> dict[str, list[str]]:
        """A POST's messages, with what to write instead for dates and enumerated values."""
        explained = {}
        for field, said in errors.items():
            if field in self._dates:
                said = [messages.csv_date(options.date_format) if m == messages.INVALID else m for m in said]
            elif field in self._enums:
                said = [messages.one_of(self._enums[field]) if m == messages.NOT_IN_LIST else m for m in said]
            explained[field] = said
        return explained

    def _header(self, header: Sequence[str]) -> list[str]:
        names = [cell.strip() for cell in header]
        errors: dict[str, list[str]] = {}
        for index, name in enumerate(names, start=1):
            if not name:
                errors.setdefault(messages.BASE, []).append(messages.column_without_name(index))
            elif name not in self._types:
                guess = self._column_like(name)
                errors.setdefault(name, []).append(messages.did_you_mean(guess) if guess else messages.NOT_PERMITTED)
            elif names.index(name) != index - 1:
                errors.setdefault(name, []).append(messages.COLUMN_TWICE)
        if errors:
            raise ImportFailed([RowError(1, errors)])
        return names

    def _column_like(self, name: str) -> str | None:
        """The column a header cell most likely means: `First Name` -> first_name."""
        key = re.sub(r"[\s\-.]+", "_", name.strip().lower())
        if key in self._types:
            return key
        close = difflib.get_close_matches(key, self.columns, n=1, cutoff=0.85)
        return close[0] if close else None

    def _value(self, name: str, cell: str, date_format: str | None = None) -> Any:
        """A cell as the JSON value a client would send; what does not convert
        stays text, so validation reports it as it would in a POST."""
        kind = self._types[name]
        text = cell.strip()
        if date_format and name in self._dates:
            try:
                return datetime.datetime.strptime(text, date_format).date().isoformat()
            except ValueError:
                return cell
        if kind == "integer" and _INTEGER.fullmatch(text):
            return integer(text)  # any number of digits
        if kind in ("integer", "number") and _NUMBER.fullmatch(text):
            return float(text)
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return cell


async def _taken(
    backend: Backend, account_id: int, prepared: Sequence[tuple[int, Mapping[str, Any]]]
) -> list[RowError]:
    """Rows whose external_id the account or an earlier row already has."""
    wanted = {values["external_id"] for _, values in prepared if values.get("external_id")}
    held = await backend.taken_external_ids(account_id, wanted) if wanted else set()
    bad: list[RowError] = []
    claimed: set[str] = set()
    for line, values in prepared:
        external_id = values.get("external_id")
        if not external_id:
            continue
        if external_id in held or external_id in claimed:
            bad.append(RowError(line, {"external_id": [messages.TAKEN]}))
        claimed.add(external_id)
    return bad


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([RowError(line, {messages.BASE: [messages.CSV_NOT_UTF8]})]) from None


def _delimiter(text: str) -> str:
    """The separator the header uses most (column names never hold one); commas on a tie."""
    first_line = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=lambda d: (first_line.count(d), d == ","))


def _national(phone: str) -> bool:
    """A number written without its country code (`069 123 4567`, not `+355...` or `00355...`)."""
    digits = phone.strip()
    return not digits.startswith(("+", "00"))
