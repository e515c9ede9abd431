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
CRLF, cells are separated by commas, or by semicolons when the header has
semicolons and no comma (what Excel writes where the decimal mark is a comma,
as in MK, AL and XK).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dentare_spec import ApiSpec, SpecError, object_shape, value_type

from .._exceptions import ImportFailed, RowError, Taken, ValidationFailed
from ..decisions import Decisions, read_decisions
from ..domain.records import Patient
from ..store.backend import Backend
from . import messages
from .inputs import integer
from .validation import RequestValidator
from .writes import prepare_create

__all__ = ["CsvImporter"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


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

    def documents(self, data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """Each data row as (line number, the JSON object a POST would send), and
        the rows that cannot be read as one; ImportFailed if the file cannot be read."""
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
                rows.append((line, {
                    name: self._value(name, cell) for name, cell in zip(columns, cells, strict=True) if cell != ""
                }))
        except csv.Error as exc:
            raise ImportFailed([RowError(previous_end + 1, {messages.BASE: [messages.csv_unreadable(exc)]})]) from None
        return rows, bad

    async def import_into(self, backend: Backend, account_id: int, data: bytes) -> list[Patient]:
        """Check every row, then create them all in one backend call, or none:
        ImportFailed lists every bad row."""
        await backend.account(account_id)  # 404 before reading the file
        prepared, bad = self._prepare(data)
        if self._unique_external_ids:
            bad += await _taken(backend, account_id, prepared)
        if bad:
            raise ImportFailed(sorted(bad, key=lambda row: row.line))
        try:
            return await backend.create_patients(account_id, [values for _, values in prepared])
        except Taken as exc:  # taken by a write that came in between
            line = next(line for line, values in prepared if values.get(exc.field) == exc.value)
            raise ImportFailed([RowError(line, {exc.field: [messages.TAKEN]})]) from None

    def _prepare(self, data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """The rows checked as POST bodies and prepared for the store, and the bad ones."""
        documents, bad = self.documents(data)
        prepared: list[tuple[int, dict[str, Any]]] = []
        for line, document in documents:
            try:
                prepared.append((line, prepare_create(self._validator.body(document), self._rules)))
            except ValidationFailed as exc:
                bad.append(RowError(line, exc.errors))
        return prepared, bad

    def _header(self, header: Sequence[str]) -> list[str]:
        names = [cell.strip() for cell in header]
        errors: dict[str, list[str]] = {}
        for index, name in enumerate(names, start=1):
            if not name:
                errors.setdefault(messages.BASE, []).append(messages.column_without_name(index))
            elif name not in self._types:
                errors.setdefault(name, []).append(messages.NOT_PERMITTED)
            elif names.index(name) != index - 1:
                errors.setdefault(name, []).append(messages.COLUMN_TWICE)
        if errors:
            raise ImportFailed([RowError(1, errors)])
        return names

    def _value(self, name: str, cell: str) -> Any:
        """A cell as the JSON value a client would send; what does not convert
        stays text, so validation reports it as it would in a POST."""
        kind = self._types[name]
        text = cell.strip()
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
    first_line = text.split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","
