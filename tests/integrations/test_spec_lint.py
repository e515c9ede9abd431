"""spec/openapi.yaml passes Spectral (ruleset: .spectral.yaml) with no errors,
and the ruleset does catch the mistakes it is there for."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
RULESET = ROOT / ".spectral.yaml"


def spectral(binary: str, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "lint", str(target), "--ruleset", str(RULESET), "--fail-severity", "error", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def spectral_bin(require_tool: Callable[[str], str]) -> str:
    return require_tool("spectral")


def test_spec_has_no_lint_errors(spectral_bin: str) -> None:
    run = spectral(spectral_bin, SPEC)
    print(run.stdout)  # warnings are allowed; -rP or a failure shows them
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruleset_catches_a_broken_spec(spectral_bin: str, tmp_path: Path) -> None:
    """A lint that cannot fail proves nothing: break the spec in ways each of
    our rules (and a stock one) must report, and check each is reported."""
    document: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    paths = document["paths"]
    paths["/patients/{id}"]["patch"]["operationId"] = "getPatient"  # operation-operationId-unique
    del paths["/me.json"]["get"]["responses"]["401"]  # dentare-operation-401
    paths["/patients"]["post"]["requestBody"]["required"] = False  # dentare-write-body-required
    responses = document["components"]["responses"]
    responses["NotFound"]["content"] = {"text/plain": responses["NotFound"]["content"]["application/json"]}
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")

    run = spectral(spectral_bin, broken, "--format", "json", "--quiet")
    assert run.returncode == 1, run.stdout + run.stderr
    errors = {(r["code"], ".".join(map(str, r["path"]))) for r in json.loads(run.stdout) if r["severity"] == 0}
    assert {code for code, _ in errors} >= {
        "operation-operationId-unique",
        "dentare-operation-401",
        "dentare-write-body-required",
        "dentare-error-json",
    }, errors
    assert ("dentare-operation-401", "paths./me.json.get.responses") in errors
    assert ("dentare-error-json", "components.responses.NotFound.content") in errors
