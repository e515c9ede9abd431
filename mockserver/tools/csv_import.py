"""`dentare-mock import-csv`: import patients from a CSV file into one account,
all rows or none (the rules are api/csv_rows.py's).

    dentare-mock import-csv patients.csv --account 1               # into a running mock
    dentare-mock import-csv patients.csv --account 1 --state-file state.db
    dentare-mock import-csv patients.csv --account 2 --date-format DD.MM.YYYY --phone-country MK

With --state-file the rows are written to the state file (created from the
fixtures if missing) in one transaction; a mock serving that file holds it,
so stop it first (or import into it over HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dentare_spec import SpecError, default_spec_path, load_spec

from .._exceptions import ImportFailed, MockError, RowError
from .._resources import default_fixtures_dir
from ..api.csv_rows import CsvImporter, CsvOptions
from ..settings import MockSettings
from ..web.app import build_backend

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock import-csv",
        description="Import patients from a CSV file into one account of the mock, all rows or none.",
    )
    parser.add_argument("file", type=Path, help="CSV file; its header names the columns (PatientCreate fields)")
    parser.add_argument("--account", type=int, required=True, metavar="ID", help="the account to import into")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--url", default="http://127.0.0.1:8000", help="root URL of a running mock (default: %(default)s)"
    )
    where.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="import into this state file instead (created from the fixtures if missing); "
        "a running mock holds its state file, so stop it first",
    )
    parser.add_argument(
        "--date-format",
        default=None,
        metavar="FORMAT",
        help="the file's dates, in DD, MM and YYYY, e.g. DD.MM.YYYY (default: YYYY-MM-DD)",
    )
    parser.add_argument(
        "--phone-country",
        default=None,
        metavar="CC",
        help="the country of national phone numbers without phone_country (default: the account's country)",
    )
    parser.add_argument("--admin-key", default=None, help="the mock's --admin-key, for a mock beyond loopback")
    parser.add_argument("--spec", type=Path, default=None, help="with --state-file: the spec (default: packaged)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --state-file: the profile of decisions to import by (default: the kit's choices)",
    )
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        help="with --state-file: fixtures for a new state file (default: packaged)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = CsvOptions(date_format=args.date_format, phone_country=args.phone_country)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    try:
        if args.state_file is not None:
            ids = _into_state_file(args, data, options)
        else:
            ids = _into_running_mock(args, data, options)
    except ImportFailed as exc:
        print(f"dentare-mock import-csv: {args.file}: {exc.message}", file=sys.stderr)
        for row in exc.rows:
            print(f"  {args.file}:{row}", file=sys.stderr)
        return 1
    except (MockError, SpecError) as exc:
        return _fail(str(exc))
    span = f" (ids {ids[0]}-{ids[-1]})" if ids else ""
    print(f"imported {len(ids)} patients into account {args.account}{span}")
    return 0


def _into_state_file(args: argparse.Namespace, data: bytes, options: CsvOptions) -> list[int]:
    settings = MockSettings(
        spec_path=args.spec or default_spec_path(),
        profile=args.profile,
        fixtures_dir=args.fixtures or default_fixtures_dir(),
        state_file=args.state_file,
    )
    spec = load_spec(settings.spec_path, settings.profile)
    backend = build_backend(settings, spec)
    importer = CsvImporter(spec)
    try:
        patients = asyncio.run(importer.import_into(backend, args.account, data, options))
    finally:
        backend.shutdown()
    if backend.save_error:
        raise MockError(backend.save_error)
    return [p.id for p in patients]


def _into_running_mock(args: argparse.Namespace, data: bytes, options: CsvOptions) -> list[int]:
    import httpx

    url = f"{args.url.rstrip('/')}/__mock/accounts/{args.account}/import"
    headers = {"Content-Type": "text/csv; charset=utf-8"}
    if args.admin_key:
        headers["X-Mock-Admin-Key"] = args.admin_key
    try:
        given = {"date_format": options.date_format, "phone_country": options.phone_country}
        params = {name: value for name, value in given.items() if value}
        response = httpx.post(url, content=data, headers=headers, params=params, timeout=300)
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
