"""spec/openapi.yaml as client generators read it: openapi-python-client,
openapi-typescript and @hey-api/openapi-ts generate from it with no warning,
datamodel-code-generator's models pass mypy --strict,
give every 2xx/401/404/422 answer a model, refuse a create without the names,
and name nothing after a JS built-in or with a number. The Python client then
runs an integrator's script against the mock (python_walk.py); the TypeScript
programs in ts/ compile, strict, against both TS outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dentare_spec import load_spec
from tests.support import ROOT, SPEC_PATH, RunningMock, missing_tool

from . import generators
from .generators import Generated

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    exe = Path(sys.executable).parent / "openapi-python-client"
    if not exe.exists():
        missing_tool("openapi-python-client is not installed (pip install -e '.[clients]')")
    return generators.openapi_python_client(SPEC_PATH, tmp_path_factory.mktemp("py") / "dentare_client", str(exe))


@pytest.fixture
def typescript(require_tool: Callable[[str], str], tmp_path: Path) -> Iterator[tuple[Path, Generated, Generated]]:
    """Both TS outputs and the programs of ts/ in one folder, ready for `tsc -p`."""
    ot = generators.openapi_typescript(SPEC_PATH, tmp_path / "schema.d.ts", require_tool("openapi-typescript"))
    hey = generators.hey_api(SPEC_PATH, tmp_path / "hey", require_tool("openapi-ts"))
    for source in (HERE / "ts").iterdir():
        shutil.copy(source, tmp_path / source.name)
    (tmp_path / "ot_answers.ts").write_text(generators.openapi_typescript_answer_types(SPEC_PATH, "./schema"))
    (tmp_path / "hey_answers.ts").write_text(generators.hey_api_answer_types(SPEC_PATH, "./hey/types.gen"))
    yield tmp_path, ot, hey


def tsc(require_tool: Callable[[str], str], project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("tsc"), "-p", str(project / "tsconfig.json")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- Python ------------------------------------------------------------------------------------


def test_openapi_python_client_has_no_warnings_and_types_every_answer(python_client: Generated) -> None:
    assert python_client.warnings == [], "\n\n".join(python_client.warnings)
    typed = generators.python_typed_answers(python_client)
    untyped = [a for a in generators.answers(SPEC_PATH) if (a.operation_id, a.status) not in typed]
    assert untyped == [] and len(typed) >= 18, untyped
    assert typed[("createPatient", "422")] == typed[("getMe", "422")] == "ValidationError"
    assert typed[("getPatient", "200")] == "PatientEnvelope" and typed[("listPatients", "200")] == "PatientList"


def test_python_models_are_named_once_and_the_create_model_needs_the_names(python_client: Generated) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import dentare_client.models as m\n"
        "print(' '.join(m.__all__))\n"
        "for kwargs in ({'first_name': 'Maria'}, {'last_name': 'Hoxha'}):\n"
        "    try:\n        m.PatientCreate(**kwargs)\n    except TypeError:\n        continue\n"
        "    raise SystemExit(f'PatientCreate({kwargs}) was built without a required name')\n"
        "m.PatientCreate(first_name='Maria', last_name='Hoxha')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(python_client.out.parent)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    names = run.stdout.split()
    assert {"PatientCreate", "ValidationError", "ApiError", "PatientEnvelope"} <= set(names), names
    assert generators.name_collisions(names) == [], names


def test_datamodel_code_generator_models_type_check_and_the_create_model_needs_the_names(tmp_path: Path) -> None:
    """Its models of a create that was an allOf of two schemas both defining the names had
    two bases whose `first_name` clashed: mypy --strict refused the generated module."""
    exe = Path(sys.executable).parent / "datamodel-codegen"
    if not exe.exists():
        missing_tool("datamodel-code-generator is not installed (pip install -e '.[clients]')")
    models = generators.datamodel_codegen(SPEC_PATH, tmp_path / "dentare_models.py", str(exe)).out
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(models)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import pydantic, dentare_models as m\n"
        "for kwargs in ({'first_name': 'Maria'}, {'last_name': 'Hoxha'}):\n"
        "    try:\n        m.PatientCreate(**kwargs)\n    except pydantic.ValidationError:\n        continue\n"
        "    raise SystemExit(f'PatientCreate({kwargs}) was built without a required name')\n"
        "m.PatientCreate(first_name='Maria', last_name='Hoxha', email=None)\n"
        "assert m.PatientUpdate().model_dump(exclude_unset=True) == {}\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_an_integrator_script_runs_through_the_python_client(
    python_client: Generated, reset_mock: RunningMock, tokens: Any
) -> None:
    run_id = f"legacy-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(python_client.out.parent), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-m", "tests.integrations.clients.python_walk", reset_mock.base_url, tokens[1].token, run_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"imported": 20' in run.stdout


# -- TypeScript --------------------------------------------------------------------------------


def test_typescript_generators_have_no_warnings_and_the_programs_compile(
    typescript: tuple[Path, Generated, Generated], require_tool: Callable[[str], str]
) -> None:
    project, ot, hey = typescript
    assert ot.warnings == [] and hey.warnings == [], ot.warnings + hey.warnings
    assert generators.name_collisions(generators.hey_api_type_names(hey)) == []
    run = tsc(require_tool, project)
    # Unused `@ts-expect-error` (TS2578) means a body without a required name compiled.
    assert run.returncode == 0, run.stdout + run.stderr
    typed_lines = (project / "ot_answers.ts").read_text().count("typed<")
    assert typed_lines == (project / "hey_answers.ts").read_text().count("typed<") >= 18


def test_the_typed_answer_check_refuses_unknown(
    typescript: tuple[Path, Generated, Generated], require_tool: Callable[[str], str]
) -> None:
    """A check that cannot fail proves nothing: an answer typed `unknown` must not compile,
    nor a create without last_name once its @ts-expect-error is gone."""
    project, _, _ = typescript
    answers = project / "ot_answers.ts"
    answers.write_text(answers.read_text() + "typed<unknown>();\n")
    program = project / "openapi_typescript_program.ts"
    program.write_text(program.read_text().replace("// @ts-expect-error: last_name is required", "//"))
    run = tsc(require_tool, project)
    assert run.returncode != 0
    assert "ot_answers.ts" in run.stdout and "error TS2554" in run.stdout, run.stdout
    assert "openapi_typescript_program.ts" in run.stdout and "last_name" in run.stdout, run.stdout


# -- the document itself -----------------------------------------------------------------------


def test_written_spec_has_no_const_and_keeps_the_guide_values_as_examples() -> None:
    """A `const` error string would make generated clients refuse a differently worded
    message; the guide's words stay as examples, and the kit's wording is a decision."""
    written = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    consts = [path for path in _paths_of(written, "const") if not path.startswith("x-decisions")]
    assert consts == []
    responses = written["components"]["responses"]
    assert responses["Unauthorized"]["content"]["application/json"]["example"]["error"] == "Unauthorized"
    assert responses["NotFound"]["content"]["application/json"]["example"]["error"] == "Not Found"
    assert responses["ValidationFailed"]["content"]["application/json"]["example"]["error"] == "Validation failed"
    decided = load_spec().document["components"]["schemas"]
    assert decided["ValidationError"]["properties"]["error"]["const"] == "Validation failed"


def _paths_of(node: Any, key: str, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{prefix}.{k}" if prefix else str(k)
            if k == key:
                yield here
            yield from _paths_of(v, key, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths_of(v, key, f"{prefix}[{i}]")


@pytest.mark.parametrize("view", ["written", "decided"])
def test_answers_carry_no_default_and_no_empty_object(view: str) -> None:
    """What generators make of an answer's schema: openapi-generator and
    datamodel-code-generator fill an absent field with its `default` (an archived
    patient whose PATCH answer left `is_active` out parsed as active, every patient
    got `vip: false`), openapi-typescript makes the field required; an object with
    neither properties nor additionalProperties became an empty model that dropped
    the preferences, or `Record<string, never>`."""
    decided = load_spec()
    spec = decided.guide_contract() if view == "written" else decided
    found: list[str] = []
    for op in spec.operations:
        for status in op.responses:
            schema = op.response_schema(status)
            found += [f"{op.operation_id} {status}{p}" for p in _defaults_and_empty_objects(schema)]
    assert found == []


def _defaults_and_empty_objects(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        if "default" in node:
            yield f"{path}.default"
        if node.get("type") == "object" and not {"properties", "additionalProperties", "allOf", "$ref"} & set(node):
            yield f"{path}: an object of nothing"
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _defaults_and_empty_objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _defaults_and_empty_objects(value, f"{path}[{index}]")
