"""The benchmark scripts still run (they are not part of CI: minutes long).

The scaling bench at 1k patients with one-second loads: it starts a real
`dentare-mock --generate 1000`, samples its patients, answers every scenario
and renders RESULTS.md. Without wrk the bench times with httpx instead, so
only the wrk-specific check skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import missing_tool, require_module

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"


@pytest.fixture(scope="module")
def scaling_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--scaling",
            "--sizes",
            "1000",
            "--seconds",
            "1",
            "--warmup",
            "1",
            "--out",
            str(out),
            "--no-report",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return out


def test_scaling_bench_measures_every_scenario(scaling_run: Path) -> None:
    result = json.loads((scaling_run / "scaling.json").read_text(encoding="utf-8"))
    (row,) = result["rows"]
    assert row["size"] == 1000
    assert 0 < row["active_total"] <= 1000
    assert row["startup_s"] > 0 and row["rss_loaded_mib"] > 0
    assert set(row["scenarios"]) == {"list", "deep_page", "q_name", "q_phone", "email", "phone", "get"}
    for scenario in row["scenarios"].values():
        assert scenario["p50_ms"] > 0 and scenario["p99_ms"] >= scenario["p50_ms"]


def test_scaling_bench_used_wrk(scaling_run: Path) -> None:
    if shutil.which("wrk") is None:
        missing_tool("wrk is not installed (apt-get install -y wrk); the bench fell back to httpx")
    result = json.loads((scaling_run / "scaling.json").read_text(encoding="utf-8"))
    for scenario in result["rows"][0]["scenarios"].values():
        assert scenario["client"] == "wrk -c1"
        assert scenario["requests"] > 0 and not scenario["errors"]


def _report_module() -> Any:
    """bench/report.py, imported as the bench scripts import it (bench/ is not a package)."""
    require_module("matplotlib", "the plot needs the bench extra: pip install -e '.[bench]'")
    sys.path.insert(0, str(RUN.parent))
    try:
        import report
    finally:
        sys.path.remove(str(RUN.parent))
    return report


def test_report_renders(scaling_run: Path, tmp_path: Path) -> None:
    report = _report_module()
    target = tmp_path / "RESULTS.md"
    report.write(scaling_run, target, plot=tmp_path / "scaling.png")
    text = target.read_text(encoding="utf-8")
    assert "## 2. Scaling with the store" in text and "![latency against store size](scaling.png)" in text
    assert "**TODO**" in text  # no contract run in this folder
    assert (tmp_path / "scaling.png").stat().st_size > 1000


def test_report_keeps_the_sections_of_parts_not_run_here(scaling_run: Path, tmp_path: Path) -> None:
    """A part run alone (bench/out holds only its result) rewrites its own section and
    keeps the others' as RESULTS.md had them: bench/out is not committed."""
    report = _report_module()
    target = tmp_path / "RESULTS.md"
    target.write_text(
        "# Benchmarks\n\n## 1. Side by side with Stoplight Prism and the ceiling\n\nCommand: an earlier prism run.\n\n"
        "## 2. Scaling with the store\n\nCommand: an earlier scaling run.\n\n"
        "## 3. The contract suite\n\n**TODO** — not measured yet.\n",
        encoding="utf-8",
    )
    report.write(scaling_run, target, plot=tmp_path / "scaling.png")
    text = target.read_text(encoding="utf-8")
    assert "Command: an earlier prism run." in text  # kept: no prism result here
    assert "an earlier scaling run" not in text and "![latency against store size](scaling.png)" in text
    assert text.count("## 3. The contract suite") == 1 and "**TODO**" in text  # a placeholder is rendered anew
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## 1. Side by side with Stoplight Prism and the ceiling",
        "## 2. Scaling with the store",
        "## 3. The contract suite",
    ]


def test_side_by_side_benches_run(tmp_path: Path, require_tool: Any) -> None:
    """bench/durability.py and bench/http_protocol.py, with one-second loads: both pairs of
    servers answer and every row has its ratio (the figures themselves are bench/RESULTS.md's)."""
    require_tool("wrk")
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--durability",
            "--http-protocol",
            "--seconds",
            "1",
            "--warmup",
            "1",
            "--rounds",
            "1",
            "--out",
            str(tmp_path),
            "--no-report",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    for name, pair in (("durability", ("memory", "state-file")), ("http_protocol", ("stock", "json-errors"))):
        result = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert [(row["connections"]) for row in result["rows"]] == [1, 16]
        for row in result["rows"]:
            assert all(row[server]["rps"] > 0 and row[server]["failed"] == 0 for server in pair)
            assert row["rps_ratio"] > 0


@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "bench").glob("*.py")))
def test_every_bench_script_imports(script: str) -> None:
    """The parts the smoke run does not load (Prism, contract, PostgreSQL, ...)
    still import what they use: a renamed name fails here, not in a bench run."""
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, 'bench'); import {script}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
