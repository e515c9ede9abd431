"""Benchmark 1: our mock side by side with Stoplight Prism on the same spec.

Both servers run at once but are never loaded at once: every measurement
alternates ours / Prism / Prism / ours (so drift on a shared, noisy machine
hits both alike), each preceded by a short warm-up, and the figures kept are
the medians over the rounds. Ratios are ours over Prism from this same run.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import httpx
from _scenarios import Scenario, prism_scenarios, sample_store
from _servers import BENCH_TOKEN, Server, ensure_prism, start_mock, start_prism, write_bench_fixtures
from _wrk import LoadResult, run_wrk

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}
POST_HEADERS = {**HEADERS, "Content-Type": "application/json"}


def run(out: Path, *, seconds: float, warmup: float, rounds: int, connections: tuple[int, ...],
        store_size: int) -> dict[str, Any]:
    ensure_prism()
    fixtures = write_bench_fixtures(out / "fixtures")
    with start_mock(fixtures, store_size, log_dir=out) as ours, start_prism(log_dir=out) as prism:
        scenarios = prism_scenarios(sample_store(ours.base_url, BENCH_TOKEN))
        statuses = {s.key: {srv.name: _preflight(srv, s) for srv in (ours, prism)} for s in scenarios}
        rows = []
        for scenario in scenarios:
            for conns in connections:
                runs: dict[str, list[LoadResult]] = {ours.name: [], prism.name: []}
                for round_no in range(rounds):
                    order = (ours, prism) if round_no % 2 == 0 else (prism, ours)
                    for server in order:
                        _load(server, scenario, conns, warmup, out)  # warm-up, discarded
                        runs[server.name].append(_load(server, scenario, conns, seconds, out))
                rows.append(_row(scenario, conns, runs[ours.name], runs[prism.name]))
                print(_line(rows[-1]), flush=True)
        return {
            "store_size": store_size, "seconds": seconds, "warmup": warmup, "rounds": rounds,
            "ours_command": " ".join(ours.command[1:]), "prism_command": " ".join(prism.command),
            "preflight_status": statuses, "rows": rows,
        }


def _preflight(server: Server, scenario: Scenario) -> int:
    """One request by hand, so a benchmark of error answers cannot pass unnoticed."""
    response = httpx.request(
        scenario.method, server.base_url + scenario.paths[0], content=scenario.body,
        headers=POST_HEADERS if scenario.body else HEADERS, timeout=30,
    )
    if response.status_code >= 300:
        raise RuntimeError(f"{server.name} answers {scenario.title} with {response.status_code}: {response.text[:300]}")
    return response.status_code


def _load(server: Server, scenario: Scenario, conns: int, seconds: float, out: Path) -> LoadResult:
    return run_wrk(
        server.base_url, scenario.paths, connections=conns, seconds=seconds, script_dir=out,
        method=scenario.method, body=scenario.body, headers=POST_HEADERS if scenario.body else HEADERS,
    )


def _median(results: list[LoadResult]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
        "failed": sum(r.failed for r in results),
        "runs": [r.as_dict() for r in results],
    }


def _row(scenario: Scenario, conns: int, ours: list[LoadResult], prism: list[LoadResult]) -> dict[str, Any]:
    a, b = _median(ours), _median(prism)
    return {
        "key": scenario.key, "title": scenario.title, "connections": conns, "ours": a, "prism": b,
        "rps_ratio": round(a["rps"] / b["rps"], 2) if b["rps"] else None,
    }


def _line(row: dict[str, Any]) -> str:
    a, b = row["ours"], row["prism"]
    return (f"{row['title']:<48} c={row['connections']:<3} ours {a['rps']:>8.0f} rps p50 {a['p50_ms']:.2f} "
            f"p99 {a['p99_ms']:.2f} | prism {b['rps']:>8.0f} rps p50 {b['p50_ms']:.2f} p99 {b['p99_ms']:.2f}"
            f" | x{row['rps_ratio']}")
