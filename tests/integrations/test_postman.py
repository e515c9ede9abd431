"""The Postman collection and environment: up to date with the spec, true to
the guide, and passing under newman against a freshly started mock, twice in
a row, also when run as the README says."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dentare_spec import load_spec, object_shape
from mockserver import FixtureError
from mockserver.tools.postman import (
    COLLECTION_FILE,
    ENVIRONMENT_FILE,
    build_collection,
    build_environment,
    read_guide_examples,
    render,
    response_shape,
)
from tests.support import RunningMock, spawn_mock
from tests.support.reference_doc import read_examples

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "spec" / "openapi.yaml"
FIXTURES_DIR = ROOT / "fixtures"
POSTMAN_DIR = ROOT / "postman"
PACKAGE_DIR = ROOT / "mockserver" / "tools" / "postman"
README = ROOT / "README.md"
NEWMAN_MARKER = "<!-- newman -->"
SPEC = load_spec(SPEC_PATH).guide_contract()  # what the collection checks
PRODUCTION = "https://dentare.io/api/v1"


def committed(name: str) -> dict[str, Any]:
    return json.loads((POSTMAN_DIR / name).read_text(encoding="utf-8"))


def folder(collection: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [found] = [f for f in collection["item"] if f["name"] == name]
    return list(found["item"])


def requests_of(collection: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for f in collection["item"] for item in f["item"]]


def script(item: dict[str, Any], listen: str = "test") -> str:
    found = [e["script"]["exec"] for e in item["event"] if e["listen"] == listen]
    return "\n".join(found[0]) if found else ""


def guide_collection(fixtures_dir: Path = FIXTURES_DIR) -> dict[str, Any]:
    return build_collection(SPEC, read_guide_examples(fixtures_dir))


# --- the files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build"),
    [(COLLECTION_FILE, guide_collection), (ENVIRONMENT_FILE, lambda: build_environment(SPEC))],
)
def test_committed_files_are_up_to_date(name: str, build: Callable[[], dict[str, Any]]) -> None:
    assert (POSTMAN_DIR / name).read_text(encoding="utf-8") == render(build()), (
        f"postman/{name} is stale: run `dentare-mock postman --out postman` and commit the result"
    )


def test_cli_writes_the_committed_files(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "postman", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    for name in (COLLECTION_FILE, ENVIRONMENT_FILE):
        assert (tmp_path / "out" / name).read_bytes() == (POSTMAN_DIR / name).read_bytes()


def test_package_exports_exactly_its_public_names() -> None:
    package = importlib.import_module("mockserver.tools.postman")
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert set(package.__all__) == public


def test_environment_holds_base_url_and_a_secret_token() -> None:
    environment = committed(ENVIRONMENT_FILE)
    assert environment["name"] == "Dentare"
    values = {v["key"]: v for v in environment["values"]}
    assert set(values) == {"baseUrl", "apiToken"}
    assert values["apiToken"]["type"] == "secret" and values["apiToken"]["value"] == ""
    assert values["baseUrl"]["value"] == "http://127.0.0.1:8000/api/v1"  # the spec's local mock server


def test_collection_is_v2_1_with_bearer_auth_from_the_environment() -> None:
    collection = committed(COLLECTION_FILE)
    assert collection["info"]["name"] == "Dentare API"
    assert collection["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    assert collection["auth"] == {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{apiToken}}", "type": "string"}],
    }
    assert f"set `baseUrl` to `{PRODUCTION}`" in collection["info"]["description"]
    for item in requests_of(collection):
        assert item["request"]["url"]["raw"].startswith("{{baseUrl}}/"), item["name"]
        assert "auth" not in item["request"], f"{item['name']} must inherit the collection's auth"


def test_one_request_per_operation() -> None:
    operations = folder(committed(COLLECTION_FILE), "Operations")
    sent = sorted((i["request"]["method"], "/" + "/".join(i["request"]["url"]["path"])) for i in operations)
    expected = sorted((op.method, op.path.replace("{", ":").replace("}", "")) for op in SPEC.operations)
    assert sent == expected


def test_operations_run_create_before_using_the_created_id() -> None:
    operations = folder(committed(COLLECTION_FILE), "Operations")
    names = [(i["request"]["method"], i["request"]["url"]["raw"]) for i in operations]
    create = names.index(("POST", "{{baseUrl}}/patients"))
    for index, (_method, raw) in enumerate(names):
        if ":id" in raw:
            assert index > create, raw
    [variable] = committed(COLLECTION_FILE)["variable"]
    assert (variable["key"], variable["value"]) == ("patientId", "4821")  # the create example's data.id
    assert 'keepFromAnswer("patientId", ["data", "id"], 201);' in script(operations[create])


def test_every_guide_curl_is_in_the_collection_as_written() -> None:
    """As written, except that a value the API keeps unique (external_id)
    carries the per-send suffix, so the curl can run again."""
    guide = read_examples()
    items = folder(committed(COLLECTION_FILE), "Guide examples")
    assert len(items) == len(guide) == 11
    for example, item in zip(guide, items, strict=True):
        request = item["request"]
        assert request["method"] == example.method, item["name"]
        assert request["url"]["raw"] == example.url.replace(PRODUCTION, "{{baseUrl}}"), item["name"]
        headers = {h["key"]: h["value"] for h in request["header"]}
        assert headers == {k: v for k, v in example.headers.items() if k != "Authorization"}, item["name"]
        assert example.headers["Authorization"] == "Bearer YOUR_API_TOKEN"  # the collection's bearer auth sends it
        if example.body is None:
            assert "body" not in request, item["name"]
            continue
        expected = json.loads(example.body)
        if "external_id" in expected:
            expected["external_id"] += "-{{uniqueSuffix}}"
        assert json.loads(request["body"]["raw"]) == expected, item["name"]


def test_requests_sending_a_unique_value_set_its_suffix_before_each_send() -> None:
    senders = []
    for item in requests_of(committed(COLLECTION_FILE)):
        body = json.loads(item["request"].get("body", {}).get("raw", "{}"))
        prerequest = script(item, "prerequest")
        if "external_id" in body:
            senders.append(item["name"])
            assert body["external_id"].endswith("-{{uniqueSuffix}}"), item["name"]
            assert 'pm.variables.set("uniqueSuffix", uniqueSuffix());' in prerequest, item["name"]
            assert "function uniqueSuffix()" in prerequest, item["name"]
        else:
            assert prerequest == "", item["name"]
    assert senders == ["Create a patient (full)"]


def test_every_request_tests_status_and_shape_from_the_spec() -> None:
    statuses = {"GET": {200}, "POST": {201}, "PATCH": {200}}
    for item in requests_of(committed(COLLECTION_FILE)):
        test_script = script(item)
        [status] = statuses[item["request"]["method"]]
        assert f'pm.test("status is {status}", function () {{\n    expectStatus({status});' in test_script
        assert "checkShape(pm.response.json(), shape" in test_script, item["name"]


def test_scripts_carry_the_package_javascript() -> None:
    """The helpers are the package's .js files, read at generation time (the
    Python modules hold only the calls)."""
    helpers = (PACKAGE_DIR / "helpers.js").read_text(encoding="utf-8")
    unique = (PACKAGE_DIR / "unique.js").read_text(encoding="utf-8")
    for item in requests_of(committed(COLLECTION_FILE)):
        assert script(item).endswith("\n" + helpers.rstrip("\n")), item["name"]
        if script(item, "prerequest"):
            assert script(item, "prerequest").endswith("\n" + unique.rstrip("\n")), item["name"]
    defined = re.findall(r"^function (\w+)\(", helpers + unique, flags=re.MULTILINE)
    assert {"at", "jsonType", "shapeProblems", "checkShape", "expectStatus", "uniqueSuffix"} <= set(defined)
    for module in PACKAGE_DIR.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for name in defined:
            assert f"function {name}" not in text, f"{module.name} defines {name}; it belongs in a .js file"


def test_shapes_take_required_fields_and_types_from_the_schemas() -> None:
    user = response_shape(SPEC.schema("User"))
    assert list(user["required"]) == SPEC.schema("User")["required"]
    assert user["required"]["id"]["types"] == ["integer"]
    assert "allowed" not in user  # the guide never closes an answer
    patient = response_shape(SPEC.schema("Patient"))
    assert patient["required"]["email"]["types"] == ["null", "string"]
    assert patient["required"]["phone_e164"]["types"] == ["null", "string"]  # anyOf E164 | null
    assert set(patient["required"]) == set(object_shape(SPEC.schema("Patient")).required)  # through allOf
    listing = response_shape(SPEC.schema("PatientList"))
    assert set(listing["required"]["data"]["items"]["required"]) == set(SPEC.schema("PatientSummary")["required"])
    decided = load_spec(SPEC_PATH)  # the kit's choices close the answers and fix the words
    assert response_shape(decided.schema("User"))["allowed"] == sorted(SPEC.schema("User")["properties"])
    assert response_shape(decided.schema("NotFoundError"))["required"]["error"]["const"] == "Not Found"


# --- the guide examples come from the fixtures ------------------------------------------------


def test_generator_holds_no_fixture_knowledge() -> None:
    for module in PACKAGE_DIR.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for fact in ("4821", "Maria", "Hoxha"):
            assert fact not in text, f"{module.name} names {fact!r}; fixtures/guide_examples.json says it"


def fixtures_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES_DIR, copy)
    return copy


def test_guide_folder_describes_the_patient_the_fixtures_name(tmp_path: Path) -> None:
    fixtures = fixtures_copy(tmp_path)
    described = json.loads((fixtures / "guide_examples.json").read_text(encoding="utf-8"))
    patients = json.loads((fixtures / "patients.json").read_text(encoding="utf-8"))["patients"]
    other = next(p for p in patients if p["account_id"] == 2)
    described.update(patient=other["id"], leaves_patient="as it was")
    (fixtures / "guide_examples.json").write_text(json.dumps(described), encoding="utf-8")

    [guide_folder] = [f for f in guide_collection(fixtures)["item"] if f["name"] == "Guide examples"]
    assert (
        f"patient {other['id']} ({other['first_name']} {other['last_name']} of the mock's account 2) "
        "and leave it as it was"
    ) in guide_folder["description"]
    [committed_folder] = [f for f in committed(COLLECTION_FILE)["item"] if f["name"] == "Guide examples"]
    assert "patient 4821 (Maria Hoxha of the mock's account 1) and leave it archived" in committed_folder["description"]


def test_guide_examples_name_a_patient_of_the_fixtures(tmp_path: Path) -> None:
    fixtures = fixtures_copy(tmp_path)
    described = json.loads((fixtures / "guide_examples.json").read_text(encoding="utf-8"))
    (fixtures / "guide_examples.json").write_text(json.dumps({**described, "patient": 1}), encoding="utf-8")
    with pytest.raises(FixtureError, match=r"no patient 1, which guide_examples\.json says"):
        read_guide_examples(fixtures)


def test_a_malformed_guide_example_is_named(tmp_path: Path) -> None:
    fixtures = fixtures_copy(tmp_path)
    described = json.loads((fixtures / "guide_examples.json").read_text(encoding="utf-8"))
    described["examples"][1].pop("operation")
    (fixtures / "guide_examples.json").write_text(json.dumps(described), encoding="utf-8")
    with pytest.raises(FixtureError, match=r"guide_examples\.json: 'operation' must be str, not None"):
        read_guide_examples(fixtures)


def test_cli_says_which_fixtures_file_is_missing(tmp_path: Path) -> None:
    fixtures = fixtures_copy(tmp_path)
    (fixtures / "guide_examples.json").unlink()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "postman",
            "--out",
            str(tmp_path / "out"),
            "--fixtures",
            str(fixtures),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "guide_examples.json" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


# --- newman against the mock ------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_mock() -> Iterator[RunningMock]:
    """A mock of its own: the collection writes (it archives patient 4821)."""
    with spawn_mock() as mock:
        yield mock


def run_newman(
    newman: str,
    mock: RunningMock,
    token: str,
    tmp_path: Path,
    collection: Path = POSTMAN_DIR / COLLECTION_FILE,
    *,
    reset: bool = True,
) -> tuple[int, dict[str, Any], str]:
    if reset:
        mock.reset()
    environment = committed(ENVIRONMENT_FILE)
    for value in environment["values"]:
        value["value"] = {"baseUrl": mock.base_url, "apiToken": token}[value["key"]]
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(environment), encoding="utf-8")
    report_file = tmp_path / "report.json"
    run = subprocess.run(
        [
            newman,
            "run",
            str(collection),
            "-e",
            str(env_file),
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report_file),
            "--color",
            "off",
            "--disable-unicode",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, json.loads(report_file.read_text(encoding="utf-8"))["run"], run.stdout + run.stderr


def sent_body(report: dict[str, Any], name: str) -> dict[str, Any]:
    [execution] = [e for e in report["executions"] if e["item"]["name"] == name]
    return dict(json.loads(execution["request"]["body"]["raw"]))


def test_collection_passes_against_a_fresh_mock(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    code, report, output = run_newman(require_tool("newman"), own_mock, tokens[1].token, tmp_path)
    assert code == 0, output
    stats = report["stats"]
    items = requests_of(committed(COLLECTION_FILE))
    assert stats["requests"] == {"total": len(items), "pending": 0, "failed": 0}
    expected_assertions = sum(script(i).count("pm.test(") for i in items)
    assert stats["assertions"] == {"total": expected_assertions, "pending": 0, "failed": 0}
    assert report["failures"] == []
    created = [e for e in report["executions"] if e["item"]["name"] == "Create a patient"]
    fetched = [e for e in report["executions"] if e["item"]["name"] == "Get one patient"]
    assert created[0]["response"]["code"] == 201
    created_id = json.loads(bytes(created[0]["response"]["stream"]["data"]).decode())["data"]["id"]
    assert fetched[0]["request"]["url"]["path"][-1] == str(created_id)


def test_collection_passes_twice_in_a_row_without_a_reset(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """The full create sends the guide's external_id with a suffix of its own
    each time, so the second run's is not `has already been taken`."""
    newman = require_tool("newman")
    own_mock.reset()
    external_ids = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        code, report, output = run_newman(newman, own_mock, tokens[1].token, tmp_path / run, reset=False)
        assert code == 0, f"{run} run:\n{output}"
        assert report["failures"] == [], run
        external_ids.append(sent_body(report, "Create a patient (full)")["external_id"])
    first, second = external_ids
    assert first != second
    assert re.fullmatch(r"ext_2841-[0-9a-z]+", first) and re.fullmatch(r"ext_2841-[0-9a-z]+", second)


def test_a_refused_request_shows_the_error_and_errors_of_the_answer(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """Newman's output says why the status was not the one expected."""
    collection = committed(COLLECTION_FILE)
    [create] = [i for i in folder(collection, "Guide examples") if i["name"] == "Create a patient (minimal)"]
    create["request"]["body"]["raw"] = json.dumps({"first_name": "", "last_name": "Hoxha"})
    collection["item"] = [create]
    refused = tmp_path / COLLECTION_FILE
    refused.write_text(json.dumps(collection), encoding="utf-8")

    code, report, output = run_newman(require_tool("newman"), own_mock, tokens[1].token, tmp_path, refused)
    assert code != 0
    detail = 'status is 201: got 422 {"error":"Validation failed","errors":{"first_name":["can\'t be blank"]}}'
    assert detail in output
    [status_failure] = [f for f in report["failures"] if f["error"]["test"] == "status is 201"]
    assert status_failure["error"]["message"] == detail


def test_collection_fails_with_a_revoked_token(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    code, report, output = run_newman(require_tool("newman"), own_mock, tokens[1].revoked[0], tmp_path)
    assert code != 0, output
    failed_status = {f["source"]["name"] for f in report["failures"] if f["error"]["test"].startswith("status is")}
    assert failed_status == {i["name"] for i in requests_of(committed(COLLECTION_FILE))}
    assert 'status is 200: got 401 {"error":"Unauthorized"}' in output


def test_shape_checks_catch_a_missing_and_an_unexpected_field(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """Generated from a spec whose User requires `plan` (the mock never sends
    it) and no longer lists `sgid` (the mock always does), the collection of the
    kit's decided document (whose User is closed) fails the shape test of
    /me.json and only that."""
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    user = document["components"]["schemas"]["User"]
    user["required"] = [*(f for f in user["required"] if f != "sgid"), "plan"]
    user["properties"] = {**{k: v for k, v in user["properties"].items() if k != "sgid"}, "plan": {"type": "string"}}
    changed_spec = tmp_path / "openapi.yaml"
    changed_spec.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    collection = tmp_path / COLLECTION_FILE
    changed = build_collection(load_spec(changed_spec), read_guide_examples(FIXTURES_DIR))
    collection.write_text(render(changed), encoding="utf-8")

    code, report, output = run_newman(require_tool("newman"), own_mock, tokens[1].token, tmp_path, collection)
    assert code != 0, output
    failures = {(f["source"]["name"], f["error"]["test"]) for f in report["failures"]}
    assert failures == {
        ("The user profile of the token's owner", "body has the shape of User"),
        ("Make your first authenticated request", "body has the shape of User"),
    }
    messages = " ".join(f["error"]["message"] for f in report["failures"])
    assert "plan" in messages and "sgid" in messages


# --- the README's newman command --------------------------------------------------------------


def readme_newman_command() -> str:
    """The one command (a code span or a fenced line naming newman) between
    the README's two `<!-- newman -->` lines."""
    lines = README.read_text(encoding="utf-8").splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == NEWMAN_MARKER]
    assert len(marks) == 2, f"README.md needs the newman command between two {NEWMAN_MARKER} lines"
    block = lines[marks[0] + 1 : marks[1]]
    if any(line.strip().startswith("```") for line in block):
        commands = [line.strip() for line in block if "newman" in line and not line.strip().startswith("```")]
    else:
        commands = [span for span in re.findall(r"`([^`]+)`", "\n".join(block)) if "newman" in span]
    assert len(commands) == 1, f"expected one newman command between the markers, found {commands}"
    return commands[0]


def readme_checkout(tmp_path: Path, mock: RunningMock, *, npm_ci: bool) -> Path:
    """A checkout as the README's command sees it: the Postman files and
    package.json, with node_modules when `npm ci` ran. The environment's
    baseUrl is this test's mock, not the default port 8000 (the only change)."""
    checkout = tmp_path / "checkout"
    (checkout / "postman").mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copy(POSTMAN_DIR / COLLECTION_FILE, checkout / "postman" / COLLECTION_FILE)
    environment = committed(ENVIRONMENT_FILE)
    for value in environment["values"]:
        if value["key"] == "baseUrl":
            value["value"] = mock.base_url
    (checkout / "postman" / ENVIRONMENT_FILE).write_text(json.dumps(environment), encoding="utf-8")
    if npm_ci:
        (checkout / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return checkout


def run_readme_command(checkout: Path, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", readme_newman_command()],
        cwd=checkout,
        env={**os.environ, "TOKEN": token},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_readme_newman_command_pins_the_version_npm_ci_installs() -> None:
    """Pinned, npx runs the same newman before `npm ci` as after it."""
    pinned = re.search(r"\bnewman@(\S+)", readme_newman_command())
    assert pinned is not None, f"the README's command does not pin newman: {readme_newman_command()}"
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert pinned.group(1) == package["devDependencies"]["newman"]


def test_readme_newman_command_runs_after_npm_ci(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    require_tool("npx")
    require_tool("newman")
    own_mock.reset()
    run = run_readme_command(readme_checkout(tmp_path, own_mock, npm_ci=True), tokens[1].token)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert own_mock.base_url in run.stdout and "AssertionError" not in run.stdout


def test_readme_newman_command_runs_in_a_fresh_checkout(
    own_mock: RunningMock, tokens, require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """Only the README's command 1 ran: no node_modules, no terminal to answer
    a prompt of npx."""
    require_tool("npx")
    own_mock.reset()
    checkout = readme_checkout(tmp_path, own_mock, npm_ci=False)
    run = run_readme_command(checkout, tokens[1].token)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert own_mock.base_url in run.stdout and "AssertionError" not in run.stdout
    assert not (checkout / "node_modules").exists()
