"""Import Patients from CSV: the control API (POST /__mock/accounts/{id}/import)
and `dentare-mock import-csv`. Columns come from the spec, every row is
validated as a POST would be, and a file with any bad row imports nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from dentare_spec import load_spec
from mockserver.api.csv_rows import CsvImporter
from tests.support import SPEC_PATH, spawn_mock

ROOT = Path(__file__).resolve().parents[2]
CSV = {"Content-Type": "text/csv; charset=utf-8"}


def first_account(root: str) -> int:
    return int(httpx.get(f"{root}/__mock/accounts").json()["data"][0]["id"])


def new_token(root: str, account_id: int) -> dict[str, str]:
    created = httpx.post(f"{root}/__mock/accounts/{account_id}/tokens", json={"name": "csv import tests"})
    return {"Authorization": f"Bearer {created.json()['token']}"}


def patient_count(root: str, account_id: int) -> int:
    accounts = httpx.get(f"{root}/__mock/accounts").json()["data"]
    return int(next(a["patients"] for a in accounts if a["id"] == account_id))


def import_csv(root: str, account_id: int, data: bytes, headers: dict[str, str] = CSV) -> httpx.Response:
    return httpx.post(f"{root}/__mock/accounts/{account_id}/import", content=data, headers=headers)


GOOD = (
    "first_name,last_name,email,phone,phone_country,birthdate,gender,locale,external_id,is_active,"
    "preferred_doctor_id,allergies\n"
    "Марија,Стојановска,marija@example.mk,070 123 456,MK,1985-03-01,female,mk,csv-1,true,7,\n"
    'Marjë,Çela,marje@example.al,+355691234567,,1990-05-15,female,sq,csv-2,TRUE,,"penicillin, latex"\n'
    'Ëndrit,Hoxha,,,,,male,,csv-3,false,,"line one\nline two"\n'
    "Ana,Петровска,,,,,,,,,,\n"
)


def test_a_good_file_round_trips_through_the_api(reset_mock: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    account_id = first_account(root)
    auth = new_token(root, account_id)
    before = patient_count(root, account_id)
    response = import_csv(root, account_id, GOOD.encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["account_id"], body["imported"]) == ("imported", account_id, 4)
    assert patient_count(root, account_id) == before + 4

    def get(patient_id: int) -> dict[str, Any]:
        answer = httpx.get(f"{base}/patients/{patient_id}", headers=auth, params={"fields": "allergies"})
        assert answer.status_code == 200
        return dict(answer.json()["data"])

    marija, marje, endrit, ana = (get(i) for i in body["ids"])
    assert (marija["first_name"], marija["last_name"]) == ("Марија", "Стојановска")
    assert (marija["phone"], marija["phone_e164"], marija["phone_country"]) == ("070 123 456", "+38970123456", "MK")
    assert (marija["preferred_doctor_id"], marija["is_active"], marija["allergies"]) == (7, True, None)
    assert (marje["first_name"], marje["last_name"], marje["allergies"]) == ("Marjë", "Çela", "penicillin, latex")
    assert (marje["phone_country"], marje["birthdate"], marje["locale"]) == ("AL", "1990-05-15", "sq")
    assert endrit["is_active"] is False and endrit["allergies"] == "line one\nline two"
    assert (ana["last_name"], ana["email"], ana["external_id"], ana["is_active"]) == ("Петровска", None, None, True)
    # Imported patients are ordinary patients: search finds them across scripts.
    found = httpx.get(f"{base}/patients", headers=auth, params={"q": "stojanovska"}).json()["data"]
    assert [p["id"] for p in found] == [marija["id"]]


def test_bom_and_crlf_are_handled(reset_mock: Any) -> None:
    root = reset_mock.root_url
    account_id = first_account(root)
    data = "\ufefffirst_name,last_name,external_id\r\nÇlirim,Gashi,bom-1\r\nЃорѓи,Ѓорѓиевски,bom-2\r\n".encode()
    response = import_csv(root, account_id, data)
    assert response.status_code == 201, response.text
    auth = new_token(root, account_id)
    names = [
        httpx.get(f"{reset_mock.base_url}/patients/{i}", headers=auth).json()["data"] for i in response.json()["ids"]
    ]
    assert [(p["first_name"], p["last_name"], p["external_id"]) for p in names] == [
        ("Çlirim", "Gashi", "bom-1"),
        ("Ѓорѓи", "Ѓорѓиевски", "bom-2"),
    ]


def test_semicolons_as_excel_writes_them_with_a_decimal_comma(reset_mock: Any) -> None:
    data = b'first_name;last_name;allergies\nArta;Krasniqi;"a; b, c"\n'
    response = import_csv(reset_mock.root_url, first_account(reset_mock.root_url), data)
    assert response.status_code == 201, response.text


BAD = (
    "first_name,last_name,email,preferred_doctor_id,external_id,phone,is_active\n"  # line 1
    "Good,Row,good@example.com,,bad-1,,\n"  # 2
    '"Multi\nLine",Row,,,,,\n'  # 3-4
    ",Blank,not-an-email,1.5,,,maybe\n"  # 5
    "Taken,Twice,,,bad-1,,\n"  # 6: external_id used by line 2
    "\n"  # 7: blank lines are skipped
    "Phone,Invalid,,,,069 12,\n"  # 8: checked after the schema, by the handlers (as an AL number: the account's)
    "Too,Few\n"  # 9
)


def test_a_file_with_bad_rows_imports_nothing_and_names_the_lines(reset_mock: Any) -> None:
    root = reset_mock.root_url
    account_id = first_account(root)
    before = httpx.get(f"{root}/__mock/state").json()
    response = import_csv(root, account_id, BAD.encode())
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "Import failed: 4 invalid rows; nothing was imported"
    assert body["invalid_rows"] == 4
    assert body["rows"] == [
        {
            "line": 5,
            "errors": {
                "first_name": ["can't be blank"],
                "email": ["is invalid"],
                "preferred_doctor_id": ["must be an integer"],
                "is_active": ["is not included in the list"],
            },
        },
        {"line": 6, "errors": {"external_id": ["has already been taken"]}},
        {"line": 8, "errors": {"phone": ["is invalid"]}},
        {"line": 9, "errors": {"base": ["has 2 cells; the header has 7"]}},
    ]
    assert httpx.get(f"{root}/__mock/state").json() == before, "nothing was imported"


def test_row_messages_are_exactly_a_posts(reset_mock: Any) -> None:
    """Each bad row, sent as the JSON body a client would POST (a national phone with the
    account's country), gets the same 422."""
    root = reset_mock.root_url
    account_id = first_account(root)
    rows = import_csv(root, account_id, BAD.encode()).json()["rows"]
    by_line = {r["line"]: r["errors"] for r in rows}
    auth = new_token(root, account_id)
    as_posted = {
        5: {"last_name": "Blank", "email": "not-an-email", "preferred_doctor_id": 1.5, "is_active": "maybe"},
        8: {"first_name": "Phone", "last_name": "Invalid", "phone": "069 12", "phone_country": "AL"},
    }
    for line, document in as_posted.items():
        posted = httpx.post(f"{reset_mock.base_url}/patients", json=document, headers=auth)
        assert posted.status_code == 422
        assert posted.json()["errors"] == by_line[line], f"line {line}"


def test_an_external_id_the_account_has_is_taken(reset_mock: Any) -> None:
    root = reset_mock.root_url
    account_id = first_account(root)
    assert import_csv(root, account_id, b"first_name,last_name,external_id\nA,B,dup-1\n").status_code == 201
    again = import_csv(root, account_id, b"first_name,last_name,external_id\nC,D,dup-2\nE,F,dup-1\n")
    assert again.status_code == 422
    assert again.json()["rows"] == [{"line": 3, "errors": {"external_id": ["has already been taken"]}}]


def test_columns_are_the_specs_writable_fields() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    writable = list(spec["components"]["schemas"]["PatientWritable"]["properties"])
    assert list(CsvImporter(load_spec(SPEC_PATH)).columns) == writable


@pytest.mark.parametrize(
    ("header", "errors"),
    [
        ("first_name,last_name,id", {"id": ["is not a permitted field"]}),
        ("first_name,last_name,legacy_id", {"legacy_id": ["is not a permitted field"]}),
        ("first_name,last_name,first_name", {"first_name": ["is given twice"]}),
        ("first_name,,last_name", {"base": ["column 2 has no name"]}),
    ],
)
def test_a_bad_header_is_line_1(reset_mock: Any, header: str, errors: dict[str, list[str]]) -> None:
    response = import_csv(reset_mock.root_url, first_account(reset_mock.root_url), f"{header}\nA,B,C\n".encode())
    assert response.status_code == 422
    assert response.json()["rows"] == [{"line": 1, "errors": errors}]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"", 1, "the file is empty; its first line names the columns"),
        ("first_name,last_name\nA,B\nÇ,D\n".encode("cp1252"), 3, "is not valid UTF-8; save the file as CSV UTF-8"),
        (
            b'first_name,last_name\nA,B\nC,"D\nE,F\n',
            3,
            "is not valid CSV: unexpected end of data",
        ),  # the row's first line
    ],
)
def test_unreadable_files(reset_mock: Any, data: bytes, line: int, message: str) -> None:
    response = import_csv(reset_mock.root_url, first_account(reset_mock.root_url), data)
    assert response.status_code == 422
    assert response.json()["rows"] == [{"line": line, "errors": {"base": [message]}}]


def test_content_type_account_and_guard(reset_mock: Any) -> None:
    root = reset_mock.root_url
    account_id = first_account(root)
    body = b"first_name,last_name\nA,B\n"
    assert import_csv(root, account_id, body, {"Content-Type": "application/json"}).status_code == 415
    assert import_csv(root, account_id, body, {"Content-Type": "text/csv; charset=latin-1"}).status_code == 415
    assert import_csv(root, 987654, body).status_code == 404
    assert import_csv(root, account_id, body, {**CSV, "Sec-Fetch-Site": "cross-site"}).status_code == 403


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "import-csv", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_into_a_running_mock(reset_mock: Any, tmp_path: Path) -> None:
    root = reset_mock.root_url
    account_id = first_account(root)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    before = patient_count(root, account_id)

    failed = run_cli(str(bad), "--account", str(account_id), "--url", root)
    assert failed.returncode == 1
    assert f"{bad}: Import failed: 4 invalid rows; nothing was imported" in failed.stderr
    [line_5] = [line for line in failed.stderr.splitlines() if line.startswith(f"  {bad}:5: ")]
    for message in (
        "first_name can't be blank",
        "email is invalid",
        "preferred_doctor_id must be an integer",
        "is_active is not included in the list",
    ):
        assert message in line_5
    assert f"  {bad}:9: has 2 cells; the header has 7" in failed.stderr
    assert patient_count(root, account_id) == before

    done = run_cli(str(good), "--account", str(account_id), "--url", root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"imported 4 patients into account {account_id} (ids ")
    assert patient_count(root, account_id) == before + 4


def test_cli_into_a_state_file_then_served(tmp_path: Path) -> None:
    source, state = tmp_path / "patients.csv", tmp_path / "state.json"
    source.write_text("\ufefffirst_name,last_name,external_id\r\nДраган,Ѓорѓиев,state-1\r\n", encoding="utf-8")
    with spawn_mock() as mock:  # only to learn the fixtures' first account
        account_id = first_account(mock.root_url)
    done = run_cli(str(source), "--account", str(account_id), "--state-file", str(state))
    assert done.returncode == 0, done.stderr
    assert state.exists()
    with spawn_mock("--state-file", str(state)) as mock:
        auth = new_token(mock.root_url, account_id)
        found = httpx.get(f"{mock.base_url}/patients", headers=auth, params={"external_id": "state-1"}).json()
        assert [(p["first_name"], p["last_name"]) for p in found["data"]] == [("Драган", "Ѓорѓиев")]


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    missing = run_cli(str(tmp_path / "nope.csv"), "--account", "1")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    source = tmp_path / "p.csv"
    source.write_text("first_name,last_name\nA,B\n", encoding="utf-8")
    unreachable = run_cli(str(source), "--account", "1", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 2 and "cannot reach the mock" in unreachable.stderr
