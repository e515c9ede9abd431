"""Import patients from CSV into one account (the guide's "Import Patients from CSV").

The header row names the columns: any of the writable fields of the spec's
createPatient body (PatientCreate), read from the spec. Each row becomes the
JSON object a POST would send (an empty cell is left out; integer and boolean
cells are converted as their schemas' types say, so `true`, `FALSE`, `42`)
and is validated exactly as POST /patients validates it: the spec's schema
(`RequestValidator`), then the handlers' write preparation (phones, regions).

All or nothing: every row is checked first, each bad one reported with its
line number and its 422 messages; only a file without a bad row is inserted,
under the store's lock. The file is UTF-8 (a BOM is fine), lines end in LF or
CRLF, cells are separated by commas, or by semicolons when the header has
semicolons and no comma (what Excel writes where the decimal mark is a comma,
as in MK, AL and XK).

    dentare-mock import-csv patients.csv --account 1               # into a running mock
    dentare-mock import-csv patients.csv --account 1 --state-file state.json
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._exceptions import ImportFailed, MockError, RowError, ValidationFailed
from .handlers import prepare_create
from .models import Patient
from .spec import ApiSpec
from .store import Store
from .validation import RequestValidator

__all__ = ["CsvImporter", "main"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BASE = "base"


class CsvImporter:
    """Parses and validates CSV files against the spec's createPatient body."""

    def __init__(self, spec: ApiSpec):
        operation = spec.operation("createPatient")
        if operation.body_schema is None:
            raise MockError(f"{spec.source}: createPatient has no JSON request body to import into")
        self._validator = RequestValidator(operation)
        properties = _properties(operation.body_schema)
        #: The columns a file may have, in the spec's order.
        self.columns: tuple[str, ...] = tuple(properties)
        self._types = {name: _json_type(schema) or "string" for name, schema in properties.items()}

    def documents(self, data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """Each data row as (line number, the JSON object a POST would send), and
        the rows that cannot be read as one; ImportFailed if the file cannot be read."""
        text = _decode(data)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
        previous_end = 0  # the line the last row ended on; the next row starts after it
        try:
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                raise ImportFailed([RowError(1, {_BASE: ["the file is empty; its first line names the columns"]})])
            columns = self._header(header)
            rows: list[tuple[int, dict[str, Any]]] = []
            bad: list[RowError] = []
            previous_end = reader.line_num
            for cells in reader:
                line, previous_end = previous_end + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines and rows of empty cells (spreadsheets leave them)
                if len(cells) != len(columns):
                    bad.append(RowError(line, {_BASE: [f"has {len(cells)} cells; the header has {len(columns)}"]}))
                    continue
                rows.append((line, {
                    name: self._value(name, cell) for name, cell in zip(columns, cells, strict=True) if cell != ""
                }))
        except csv.Error as exc:
            raise ImportFailed([RowError(previous_end + 1, {_BASE: [f"is not valid CSV: {exc}"]})]) from None
        return rows, bad

    def import_into(self, store: Store, account_id: int, data: bytes) -> list[Patient]:
        """Check every row, then insert them all under the store's lock, or none:
        ImportFailed lists every bad row."""
        store.account(account_id)  # 404 before reading the file
        prepared, bad = self._prepare(data)
        with store.locked():
            bad += _taken(store, account_id, prepared)
            if bad:
                raise ImportFailed(sorted(bad, key=lambda row: row.line))
            return [store.create_patient(account_id, values) for _, values in prepared]

    def _prepare(self, data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
        """The rows checked as POST bodies and prepared for the store, and the bad ones."""
        documents, bad = self.documents(data)
        prepared: list[tuple[int, dict[str, Any]]] = []
        for line, document in documents:
            try:
                prepared.append((line, prepare_create(self._validator.body(document))))
            except ValidationFailed as exc:
                bad.append(RowError(line, exc.errors))
        return prepared, bad

    def _header(self, header: Sequence[str]) -> list[str]:
        names = [cell.strip() for cell in header]
        errors: dict[str, list[str]] = {}
        for index, name in enumerate(names, start=1):
            if not name:
                errors.setdefault(_BASE, []).append(f"column {index} has no name")
            elif name not in self._types:
                errors.setdefault(name, []).append("is not a permitted field")
            elif names.index(name) != index - 1:
                errors.setdefault(name, []).append("is given twice")
        if errors:
            raise ImportFailed([RowError(1, errors)])
        return names

    def _value(self, name: str, cell: str) -> Any:
        """A cell as the JSON value a client would send; what does not convert
        stays text, so validation reports it as it would in a POST."""
        kind = self._types[name]
        text = cell.strip()
        if kind == "integer" and _INTEGER.fullmatch(text):
            return int(text)
        if kind in ("integer", "number") and _NUMBER.fullmatch(text):
            return float(text)
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return cell


def _taken(store: Store, account_id: int, prepared: Sequence[tuple[int, Mapping[str, Any]]]) -> list[RowError]:
    """Rows whose unique values (external_id) the account or an earlier row already has."""
    bad: list[RowError] = []
    claimed: set[str] = set()
    for line, values in prepared:
        try:
            store.check_create(account_id, values)
        except ValidationFailed as exc:
            bad.append(RowError(line, exc.errors))
            continue
        external_id = values.get("external_id")
        if external_id and external_id in claimed:
            bad.append(RowError(line, {"external_id": ["has already been taken"]}))
        elif external_id:
            claimed.add(external_id)
    return bad


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([RowError(line, {_BASE: ["is not valid UTF-8; save the file as CSV UTF-8"]})]) from None


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An object schema's properties, through `allOf`, in the spec's order."""
    properties = dict(schema.get("properties", {}))
    for part in schema.get("allOf", ()):
        for name, sub in _properties(part).items():
            properties.setdefault(name, sub)
    return properties


def _json_type(schema: Mapping[str, Any]) -> str | None:
    """The one non-null JSON type a (nullable) property schema allows."""
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        return kind
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), None)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            found = _json_type(sub)
            if found:
                return found
    return None


# -- CLI -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock import-csv",
        description="Import patients from a CSV file into one account of the mock, all rows or none.",
    )
    parser.add_argument("file", type=Path, help="CSV file; its header names the columns (PatientCreate fields)")
    parser.add_argument("--account", type=int, required=True, metavar="ID", help="the account to import into")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", default="http://127.0.0.1:8000",
                       help="root URL of a running mock (default: %(default)s)")
    where.add_argument("--state-file", type=Path, default=None,
                       help="import into this state file instead (created from the fixtures if missing); "
                            "stop any mock using it first, or its shutdown will overwrite the import")
    parser.add_argument("--admin-key", default=None, help="the mock's --admin-key, for a mock beyond loopback")
    parser.add_argument("--spec", type=Path, default=None, help="with --state-file: the spec (default: packaged)")
    parser.add_argument("--fixtures", type=Path, default=None,
                        help="with --state-file: fixtures for a new state file (default: packaged)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    try:
        ids = _into_state_file(args, data) if args.state_file is not None else _into_running_mock(args, data)
    except ImportFailed as exc:
        print(f"dentare-mock import-csv: {args.file}: {exc.message}", file=sys.stderr)
        for row in exc.rows:
            print(f"  {args.file}:{row}", file=sys.stderr)
        return 1
    except MockError as exc:
        return _fail(str(exc))
    span = f" (ids {ids[0]}-{ids[-1]})" if ids else ""
    print(f"imported {len(ids)} patients into account {args.account}{span}")
    return 0


def _into_state_file(args: argparse.Namespace, data: bytes) -> list[int]:
    from ._resources import default_fixtures_dir, default_spec_path
    from .app import MockState
    from .settings import MockSettings
    from .spec import load_spec

    settings = MockSettings(
        spec_path=args.spec or default_spec_path(), fixtures_dir=args.fixtures or default_fixtures_dir(),
        state_file=args.state_file,
    )
    state = MockState(settings)
    patients = CsvImporter(load_spec(settings.spec_path)).import_into(state.store, args.account, data)
    state.save()
    if state.save_error:
        raise MockError(state.save_error)
    return [p.id for p in patients]


def _into_running_mock(args: argparse.Namespace, data: bytes) -> list[int]:
    import httpx

    url = f"{args.url.rstrip('/')}/__mock/accounts/{args.account}/import"
    headers = {"Content-Type": "text/csv; charset=utf-8"}
    if args.admin_key:
        headers["X-Mock-Admin-Key"] = args.admin_key
    try:
        response = httpx.post(url, content=data, headers=headers, timeout=300)
    except httpx.HTTPError as exc:
        raise MockError(f"cannot reach the mock at {args.url}: {exc}") from None
    body = _json(response)
    if response.status_code == 422 and "rows" in body:
        raise ImportFailed(
            [RowError(int(r["line"]), r["errors"]) for r in body["rows"]],
            invalid=int(body.get("invalid_rows", len(body["rows"]))),
        )
    if response.status_code != 201:
        raise MockError(f"POST {url} answered {response.status_code}: {body.get('error', response.text[:200])}")
    return [int(i) for i in body["ids"]]


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _fail(message: str) -> int:
    print(f"dentare-mock import-csv: error: {message}", file=sys.stderr)
    return 2
