"""The CSV import says how to fix a file, and reads what spreadsheets write:
a header that looks like a column is told its name, an enumerated cell the
values, a date the format (or `--date-format` / `?date_format=` reads it); tab
and semicolon files; national phone numbers in the account's country (or
`--phone-country` / `?phone_country=`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT

from .test_csv_import import import_csv, new_token

AL, MK = 1, 2  # fixtures/accounts.json: Smile Dental Tirana (AL), Dental Centar Skopje (MK)


def rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    return list(response.json()["rows"])


def imported(root: str, base: str, account: int, response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 201, response.text
    auth = new_token(root, account)
    return [httpx.get(f"{base}/patients/{i}", headers=auth).json()["data"] for i in response.json()["ids"]]


@pytest.mark.parametrize(
    ("header", "errors"),
    [
        (
            "First Name,Last Name",
            {
                "First Name": ["is not a permitted field; did you mean first_name?"],
                "Last Name": ["is not a permitted field; did you mean last_name?"],
            },
        ),
        (
            "first_name,last-name,E-mail",
            {
                "last-name": ["is not a permitted field; did you mean last_name?"],
                "E-mail": ["is not a permitted field; did you mean email?"],
            },
        ),
        ("first_name,last_name,shoe_size", {"shoe_size": ["is not a permitted field"]}),
    ],
)
def test_a_header_like_a_column_is_told_its_name(reset_mock: Any, header: str, errors: dict[str, Any]) -> None:
    cells = ",".join("x" for _ in header.split(","))
    assert rows(import_csv(reset_mock.root_url, AL, f"{header}\n{cells}\n".encode())) == [{"line": 1, "errors": errors}]


def test_an_enumerated_cell_is_told_the_values(reset_mock: Any) -> None:
    data = b"first_name,last_name,gender,locale\nA,B,f,de\n"
    assert rows(import_csv(reset_mock.root_url, AL, data)) == [
        {
            "line": 2,
            "errors": {
                "gender": ["is not included in the list: male, female, other"],
                "locale": ["is not included in the list: en, sq, mk"],
            },
        }
    ]


def test_a_date_is_told_the_format_or_read_with_date_format(reset_mock: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    data = b"first_name,last_name,birthdate\nMaria,Hoxha,15.05.1990\n"
    [row] = rows(import_csv(root, AL, data))
    [message] = row["errors"]["birthdate"]
    assert "YYYY-MM-DD" in message and "--date-format" in message
    [patient] = imported(
        root,
        base,
        AL,
        httpx.post(
            f"{root}/__mock/accounts/{AL}/import",
            content=data,
            headers={"Content-Type": "text/csv"},
            params={"date_format": "DD.MM.YYYY"},
        ),
    )
    assert patient["birthdate"] == "1990-05-15"
    # YYYY-MM-DD stays readable (it cannot be mistaken); a day that does not exist is told the format.
    mixed = b"first_name,last_name,birthdate\nA,B,1990-05-15\nC,D,31.02.1990\n"
    wrong = httpx.post(
        f"{root}/__mock/accounts/{AL}/import",
        content=mixed,
        headers={"Content-Type": "text/csv"},
        params={"date_format": "DD.MM.YYYY"},
    )
    assert rows(wrong) == [{"line": 3, "errors": {"birthdate": ["is not a date as DD.MM.YYYY"]}}]
    refused = httpx.post(
        f"{root}/__mock/accounts/{AL}/import",
        content=data,
        headers={"Content-Type": "text/csv"},
        params={"date_format": "DD.MM", "phone_country": "M1"},
    )
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"date_format", "phone_country"}


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_tab_semicolon_and_comma_files(reset_mock: Any, delimiter: str) -> None:
    data = (
        delimiter.join(["first_name", "last_name", "allergies"])
        + "\n"
        + delimiter.join(["Arta", "Krasniqi", '"a, b; c"'])
        + "\n"
    )
    answer = import_csv(reset_mock.root_url, AL, data.encode())
    [patient] = imported(reset_mock.root_url, reset_mock.base_url, AL, answer)
    assert (patient["first_name"], patient["last_name"]) == ("Arta", "Krasniqi")


def test_national_numbers_are_the_accounts_country(reset_mock: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    data = "first_name,last_name,phone,phone_country\nA,B,070 123 456,\nC,D,+355 69 123 4567,\nE,F,069 123 4567,AL\n"
    mk = imported(root, base, MK, import_csv(root, MK, data.encode()))
    assert [(p["phone_e164"], p["phone_country"]) for p in mk] == [
        ("+38970123456", "MK"),
        ("+355691234567", "AL"),
        ("+355691234567", "AL"),
    ]
    al = imported(root, base, AL, import_csv(root, AL, b"first_name,last_name,phone\nA,B,069 123 4567\n"))
    assert al[0]["phone_e164"] == "+355691234567"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "import-csv", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_date_format_and_phone_country(reset_mock: Any, tmp_path: Path) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    source = tmp_path / "patients.csv"
    source.write_text(
        "first_name\tlast_name\tbirthdate\tphone\nMarija\tStojanovska\t01.03.1985\t070 123 456\n", encoding="utf-8"
    )
    told = run_cli(str(source), "--account", str(AL), "--url", root)
    assert told.returncode == 1 and "birthdate is not a date as YYYY-MM-DD" in told.stderr, told.stderr
    done = run_cli(
        str(source), "--account", str(AL), "--url", root, "--date-format", "DD.MM.YYYY", "--phone-country", "mk"
    )
    assert done.returncode == 0, done.stderr
    auth = new_token(root, AL)
    [patient] = httpx.get(f"{base}/patients", headers=auth, params={"q": "stojanovska"}).json()["data"]
    full = httpx.get(f"{base}/patients/{patient['id']}", headers=auth).json()["data"]
    assert (full["birthdate"], full["phone_e164"], full["phone_country"]) == ("1985-03-01", "+38970123456", "MK")
    bad = run_cli(str(source), "--account", str(AL), "--url", root, "--date-format", "dd/mm/yy")
    assert bad.returncode == 2 and "is not a date format" in bad.stderr and "Traceback" not in bad.stderr
