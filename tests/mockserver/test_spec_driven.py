"""The mock is generated from the spec: change a constraint in a copy of the
spec and the mock's behaviour changes with no code change; a spec and handler
set that disagree stop start-up with a message naming the difference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from dentare_spec import load_spec
from mockserver import HANDLERS, MockSettings, SpecError, create_app
from mockserver.store.documents import export_state
from tests.support import FIXTURES_DIR, SPEC_PATH, load_tokens


def spec_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    edit(document)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def client_for(spec_path: Path) -> TestClient:
    app = create_app(MockSettings(spec_path=spec_path, fixtures_dir=FIXTURES_DIR))
    token = load_tokens()[1].token
    return TestClient(app, base_url="http://127.0.0.1/api/v1", headers={"Authorization": f"Bearer {token}"})


def test_per_page_maximum_comes_from_the_spec(tmp_path: Path) -> None:
    original = client_for(SPEC_PATH)
    assert original.get("/patients?per_page=60").status_code == 200

    def lower_max(doc: dict[str, Any]) -> None:
        doc["components"]["parameters"]["per_page"]["schema"]["maximum"] = 50

    changed = client_for(spec_copy(tmp_path, lower_max))
    response = changed.get("/patients?per_page=60")
    assert response.status_code == 422
    assert response.json()["errors"] == {"per_page": ["must be less than or equal to 50"]}


def test_required_fields_come_from_the_spec(tmp_path: Path) -> None:
    body = {"first_name": "A", "last_name": "B"}
    assert client_for(SPEC_PATH).post("/patients", json=body).status_code == 201

    def require_email(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["PatientCreate"]["allOf"][1]["required"].append("email")

    response = client_for(spec_copy(tmp_path, require_email)).post("/patients", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": ["can't be blank"]}


def test_enums_come_from_the_spec(tmp_path: Path) -> None:
    body = {"first_name": "A", "last_name": "B", "locale": "de"}
    assert client_for(SPEC_PATH).post("/patients", json=body).status_code == 422

    def add_german(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["Locale"]["enum"].append("de")

    response = client_for(spec_copy(tmp_path, add_german)).post("/patients", json=body)
    assert response.status_code == 201 and response.json()["data"]["locale"] == "de"


def test_response_shape_comes_from_the_spec(tmp_path: Path) -> None:
    def drop_locale_from_list(doc: dict[str, Any]) -> None:
        item = doc["components"]["schemas"]["PatientSummary"]
        del item["properties"]["locale"]
        item["required"].remove("locale")

    listed = client_for(spec_copy(tmp_path, drop_locale_from_list)).get("/patients").json()["data"]
    assert listed and all("locale" not in p for p in listed)
    assert all("locale" in p for p in client_for(SPEC_PATH).get("/patients").json()["data"])


def test_base_path_comes_from_the_spec(tmp_path: Path) -> None:
    def move(doc: dict[str, Any]) -> None:
        doc["servers"][1]["url"] = "http://127.0.0.1:8000/api/v2"

    app = create_app(MockSettings(spec_path=spec_copy(tmp_path, move), fixtures_dir=FIXTURES_DIR))
    client = TestClient(app, headers={"Authorization": f"Bearer {load_tokens()[1].token}"})
    assert client.get("/api/v2/me.json").status_code == 200
    assert client.get("/api/v1/me.json").status_code == 404


def test_an_operation_without_handler_fails_start_up(tmp_path: Path) -> None:
    def add_operation(doc: dict[str, Any]) -> None:
        doc["paths"]["/appointments"] = {
            "get": {"operationId": "listAppointments", "responses": {"200": {"description": "ok"}}}
        }

    with pytest.raises(SpecError, match="without a handler: listAppointments"):
        create_app(MockSettings(spec_path=spec_copy(tmp_path, add_operation), fixtures_dir=None))


def test_a_handler_without_operation_fails_start_up() -> None:
    extra = {**HANDLERS, "deletePatient": HANDLERS["getPatient"]}
    with pytest.raises(SpecError, match="does not define: deletePatient"):
        create_app(MockSettings(fixtures_dir=None), handlers=extra)


def test_an_invalid_spec_fails_with_where(tmp_path: Path) -> None:
    def break_it(doc: dict[str, Any]) -> None:
        doc["paths"]["/patients"]["get"]["responses"] = "nope"

    with pytest.raises(SpecError, match="not a valid OpenAPI document"):
        load_spec(spec_copy(tmp_path, break_it))
    with pytest.raises(SpecError, match="cannot read the spec"):
        load_spec(tmp_path / "missing.yaml")


def test_the_spec_passes_openapi_spec_validator() -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, _ = read_from_filename(str(SPEC_PATH))
    validate(document)  # raises on any error
    assert document["openapi"].startswith("3.1")


def test_a_field_added_to_the_spec_needs_no_code(tmp_path: Path) -> None:
    """The patient's fields come from the spec alone: a new writable, returned
    field is stored, answered, cleared, exported and defaults to null for the
    patients the fixtures hold, with no code change."""

    def add_nickname(doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        schemas["PatientWritable"]["properties"]["nickname"] = {
            "anyOf": [{"$ref": "#/components/schemas/TextValue"}, {"type": "null"}]
        }
        schemas["PatientRecord"]["properties"]["nickname"] = {"type": ["string", "null"]}

    client = client_for(spec_copy(tmp_path, add_nickname))
    created = client.post("/patients", json={"first_name": "A", "last_name": "B", "nickname": "Ace"})
    assert created.status_code == 201, created.text
    patient_id = created.json()["data"]["id"]
    assert created.json()["data"]["nickname"] == "Ace"
    assert client.get(f"/patients/{patient_id}").json()["data"]["nickname"] == "Ace"
    assert client.patch(f"/patients/{patient_id}", json={"nickname": None}).json()["data"]["nickname"] is None
    assert client.get("/patients/4821").json()["data"]["nickname"] is None
    too_long = client.post("/patients", json={"first_name": "A", "last_name": "B", "nickname": "x" * 256})
    assert too_long.json()["errors"] == {"nickname": ["is too long (maximum is 255 characters)"]}
    exported = export_state(client.app.state.backend.store)["patients"]  # type: ignore[attr-defined]
    assert {p["id"]: p["nickname"] for p in exported}[patient_id] is None
    assert "nickname" not in client_for(SPEC_PATH).get("/patients/4821").json()["data"]
