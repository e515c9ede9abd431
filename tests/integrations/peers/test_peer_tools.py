"""Peer tools run the spec's own examples against the mock, green.

Specmatic (`specmatic test`) sends each named request example of
spec/openapi.yaml and checks the answer against the response example of the
same name by *type* (its default: values such as timestamps and ids may
differ); the `id` parameter's named examples pair it with them. Run by hand:

    bearerAuth=$TOKEN java -jar node_modules/specmatic/specmatic.jar test spec/openapi.yaml \
        --testBaseURL http://127.0.0.1:8000/api/v1

(`npx specmatic` runs the same jar but exits 0 even when a test fails.)

Dredd sends one request per documented answer and checks headers and body
against the answer's schema; dredd-hooks.js provokes each non-2xx answer (no
token for 401, an unknown id for 404, a bad value for 422, ...). It reads the
spec through dredd_document.py (named parameter examples as one `example`).

Each tool is also run on a spec copy whose `User` demands a field the mock never
sends: the tool must fail there, or its green would prove nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT, SPEC_PATH, spawn_mock

from .dredd_document import dredd_document

HERE = Path(__file__).resolve().parent
#: The spec's named request examples, each answered by the response example of its name.
SPECMATIC_SCENARIOS = {
    "GET /me.json -> 200": "me",
    "POST /patients -> 201": "minimal",
    "GET /patients -> 200": "firstPage",
    "GET /patients/(id:number) -> 200": "patient",
    "PATCH /patients/(id:number) -> 200": "contact",
}


def _with_impossible_user(document: dict[str, Any]) -> dict[str, Any]:
    user = document["components"]["schemas"]["User"]
    user["required"] = [*user["required"], "nickname"]
    user["properties"]["nickname"] = {"type": "string"}
    for example in document["paths"]["/me.json"]["get"]["responses"]["200"]["content"]["application/json"][
        "examples"
    ].values():
        example["value"]["nickname"] = "el"
    return document


# -- Specmatic ---------------------------------------------------------------------------------


def specmatic(
    jar: list[str], spec: Path, base_url: str, token: str, workdir: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*jar, "test", str(spec), "--testBaseURL", base_url, "--junitReportDir", str(workdir / "junit"), *extra],
        cwd=workdir,
        env={**os.environ, "bearerAuth": token},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def specmatic_bin(require_tool: Callable[[str], str]) -> list[str]:
    """The jar of the npm package `specmatic`, on Debian's JRE. Not its `specmatic` wrapper:
    that exits 0 when tests fail (2.55.1), the jar exits 1."""
    java = require_tool("java")
    require_tool("specmatic")
    jar = ROOT / "node_modules" / "specmatic" / "specmatic.jar"
    assert jar.is_file(), f"{jar} is missing: npm ci"
    return [java, "-jar", str(jar)]


def test_specmatic_runs_the_spec_examples_against_the_mock(
    specmatic_bin: list[str], tokens: Any, tmp_path: Path
) -> None:
    with spawn_mock() as mock:
        run = specmatic(specmatic_bin, SPEC_PATH, mock.base_url, tokens[1].token, tmp_path)
    output = run.stdout + run.stderr
    summary = re.search(r"Tests run: (\d+), Successes: (\d+), Failures: (\d+), WIP: \d+, Errors: (\d+)", output)
    assert summary, output[-3000:]
    ran, passed, failed, errors = map(int, summary.groups())
    assert run.returncode == 0 and failed == errors == 0 and passed == ran >= 7, output[-5000:]
    for scenario, example in SPECMATIC_SCENARIOS.items():
        assert f"Scenario: {scenario} with the request from the example '{example}' has SUCCEEDED" in output
    assert "example 'archive' has SUCCEEDED" in output and "example 'full' has SUCCEEDED" in output


def test_specmatic_fails_when_an_answer_lacks_a_field(specmatic_bin: list[str], tokens: Any, tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    document = _with_impossible_user(yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8")))
    broken.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with spawn_mock() as mock:
        run = specmatic(specmatic_bin, broken, mock.base_url, tokens[1].token, tmp_path, "--filter", "PATH='/me.json'")
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "GET /me.json -> 200 with the request from the example 'me' has FAILED" in output, output[-3000:]
    assert "nickname" in output


# -- Dredd -------------------------------------------------------------------------------------


def dredd(
    binary: str, document: dict[str, Any], base_url: str, token: str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    spec = workdir / "dredd.json"
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [
            binary,
            str(spec),
            base_url,
            "--hookfiles",
            str(HERE / "dredd-hooks.js"),
            "--language",
            "nodejs",
            "--color",
            "false",
        ],
        cwd=ROOT,
        env={**os.environ, "DENTARE_TOKEN": token, "DENTARE_DREDD_SPEC": str(spec)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _dredd_summary(output: str) -> tuple[int, int, int, int]:
    found = re.search(r"complete: (\d+) passing, (\d+) failing, (\d+) errors, (\d+) skipped", output)
    assert found, output[-3000:]
    passing, failing, errors, skipped = map(int, found.groups())
    return passing, failing, errors, skipped


def test_dredd_checks_every_documented_answer_of_the_mock(
    require_tool: Callable[[str], str], tokens: Any, tmp_path: Path
) -> None:
    with spawn_mock() as mock:
        run = dredd(require_tool("dredd"), dredd_document(), mock.base_url, tokens[1].token, tmp_path)
    output = run.stdout + run.stderr
    passing, failing, errors, skipped = _dredd_summary(output)
    assert run.returncode == 0 and failing == errors == 0, output[-5000:]
    # 24 documented answers; the list's 404 is skipped: x-decisions.page_past_end answers 200.
    assert (passing, skipped) == (23, 1), output[-3000:]
    for answer in (
        "GET (401) /me.json",
        "GET (422) /me.json",
        "POST (415) /patients",
        "PATCH (404) /patients/4821",
        "POST (413) /patients",
        "GET (200) /patients/4821",
    ):
        assert f"pass: {answer}" in output, answer


def test_dredd_fails_when_an_answer_lacks_a_field(
    require_tool: Callable[[str], str], tokens: Any, tmp_path: Path
) -> None:
    with spawn_mock() as mock:
        run = dredd(
            require_tool("dredd"), _with_impossible_user(dredd_document()), mock.base_url, tokens[1].token, tmp_path
        )
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "fail: GET (200) /me.json" in output and "nickname" in output, output[-3000:]
