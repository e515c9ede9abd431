"""examples/ci/contract.yml, the GitHub Actions recipe: its contract step, run
here as written (the mock in place of the deployment, fixture tokens in place
of the secrets), writes the JUnit XML its upload step uploads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from tests.support import ROOT, RunningMock

WORKFLOW = ROOT / "examples" / "ci" / "contract.yml"


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    [job] = workflow["jobs"].values()
    return list(job["steps"])


def test_tokens_come_from_secrets_and_the_report_is_uploaded_always() -> None:
    steps = _steps()
    [contract] = [s for s in steps if "dentare-contract" in s.get("run", "")]
    assert contract["env"] == {
        name: f"${{{{ secrets.{name} }}}}" for name in ("DENTARE_TOKEN", "DENTARE_OTHER_TOKEN", "DENTARE_REVOKED_TOKEN")
    }
    [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"  # a failing rule exits 1: the report matters most then
    report = re.search(r"--junit-xml (\S+)", contract["run"])
    assert report and upload["with"]["path"] == report.group(1)


def test_the_contract_step_runs_as_written(reset_mock: RunningMock, tokens: Any, tmp_path: Path) -> None:
    [contract] = [s for s in _steps() if "dentare-contract" in s.get("run", "")]
    command = contract["run"].replace("${{ vars.DENTARE_BASE_URL }}", reset_mock.base_url)
    assert "${{" not in command
    secrets = {
        "DENTARE_TOKEN": tokens[1].token,
        "DENTARE_OTHER_TOKEN": tokens[2].token,
        "DENTARE_REVOKED_TOKEN": tokens[1].revoked[0],
    }
    env = {**os.environ, **secrets, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    # 0: conforms, 1: a rule failed (the step fails the job, the report is uploaded); 2: unusable target.
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    report = tmp_path / re.search(r"--junit-xml (\S+)", command).group(1)  # type: ignore[union-attr]
    cases = ET.parse(report).getroot().findall(".//testcase")
    assert len(cases) >= 20
    assert all(secret not in report.read_text() + run.stdout + run.stderr for secret in secrets.values())
