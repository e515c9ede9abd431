"""Benchmark 2: latency, memory and start-up as the store grows.

For each size, a fresh `dentare-mock --generate N --no-answer-cache` (one
account, the CLI's fixed seed) is started and timed to its first answer;
then each scenario is measured with one connection (latency without
queueing), after a warm-up. The answer cache is off so that every request
pays for its search: this measures the store, not the cache (benchmark 1 has
the mock as it ships). Then bench/startup.py times the start-up's phases
(generation, objects, indexing) each on its own, in a process of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _scenarios import Scenario, sample_store, scaling_scenarios
from _servers import BENCH_TOKEN, Server, start_mock, write_bench_fixtures
from _wrk import have_wrk, run_wrk

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}


def run(out: Path, *, sizes: tuple[int, ...], seconds: float, warmup: float) -> dict[str, Any]:
    fixtures = write_bench_fixtures(out / "fixtures")
    wrk = have_wrk()
    if not wrk:
        print("wrk is not installed: start-up and memory only, no latency (apt-get install -y wrk)", flush=True)
    rows = []
    for size in sizes:
        with start_mock(fixtures, size, log_dir=out, options=["--no-answer-cache"]) as server:
            loaded_mib = server.rss_mib()
            sample = sample_store(server.base_url, BENCH_TOKEN)
            row: dict[str, Any] = {
                "size": size,
                "startup_s": round(server.startup_s, 2),
                "rss_loaded_mib": round(loaded_mib, 1),
                "active_total": sample.total,
                "scenarios": {},
            }
            for scenario in scaling_scenarios(sample):
                row["scenarios"][scenario.key] = _measure(server, scenario, wrk, seconds, warmup, out)
            row["rss_after_mib"] = round(server.rss_mib(), 1)
            row["rss_peak_mib"] = round(server.peak_rss_mib(), 1)
        row["phases"] = _phases(size, fixtures)
        rows.append(row)
        print(_line(row), flush=True)
    return {
        "sizes": list(sizes),
        "seconds": seconds,
        "warmup": warmup,
        "wrk": wrk,
        "command": " ".join(server.command[1:]),
        "rows": rows,
    }


def _measure(server: Server, scenario: Scenario, wrk: bool, seconds: float, warmup: float, out: Path) -> dict[str, Any]:
    statuses = {httpx.get(server.base_url + p, headers=HEADERS, timeout=60).status_code for p in scenario.paths}
    if statuses != {200}:
        raise RuntimeError(f"{scenario.title} answered {sorted(statuses)}, expected 200")
    entry: dict[str, Any] = {"title": scenario.title, "queries": len(scenario.paths)}
    if not wrk:
        # Without wrk: a bounded, sequential timing with httpx (slower client, same server work).
        started = time.perf_counter()
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=60) as client:
            timings = []
            for path in scenario.paths * 3:
                t0 = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        entry.update(
            client="httpx",
            p50_ms=round(timings[len(timings) // 2], 3),
            p99_ms=round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
            requests=len(timings),
            seconds=round(time.perf_counter() - started, 3),
        )
        return entry
    run_wrk(server.base_url, scenario.paths, connections=1, seconds=warmup, script_dir=out, headers=HEADERS)
    result = run_wrk(server.base_url, scenario.paths, connections=1, seconds=seconds, script_dir=out, headers=HEADERS)
    if result.failed:
        raise RuntimeError(f"{scenario.title}: {result.errors} during the load")
    entry.update(client="wrk -c1", **result.as_dict())
    return entry


def _phases(size: int, fixtures: Path) -> dict[str, float]:
    """bench/startup.py in a process of its own (after the server has stopped)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("startup.py")), str(size), str(fixtures)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _line(row: dict[str, Any]) -> str:
    parts = [f"{k} {v['p50_ms']:.2f}/{v['p99_ms']:.2f}" for k, v in row["scenarios"].items()]
    phases = row["phases"]
    return (
        f"N={row['size']:>8} start {row['startup_s']:6.1f}s (generate {phases['generate_s']:.1f}s, objects "
        f"{phases['objects_s']:.1f}s, index {phases['index_s']:.1f}s alone) rss {row['rss_loaded_mib']:7.1f} MiB"
        " | p50/p99 ms: " + ", ".join(parts)
    )
