"""Benchmark 1: our mock side by side with Stoplight Prism on the same spec,
and with the ceiling (bench/ceiling.py: a bare Starlette app replaying our
mock's exact answers).

Our mock runs twice: as it ships (a read's answer is kept until the data
changes: mockserver/api/answers.py) and with `--no-answer-cache` (every
answer computed). The four servers run at once but are never loaded at once:
every measurement rotates the order (ours, ours uncached, Prism, ceiling;
then the reverse) so drift on a shared, noisy machine hits all alike, each
load preceded by a short warm-up, and the figures kept are the medians over
the rounds. Ratios are ours over Prism and ours over the ceiling, from this same run.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import httpx
from _scenarios import Scenario, prism_scenarios, sample_store
from _servers import BENCH_TOKEN, Server, ensure_prism, start_ceiling, start_mock, start_prism, write_bench_fixtures
from _wrk import LoadResult, run_wrk

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}
POST_HEADERS = {**HEADERS, "Content-Type": "application/json"}


def run(
    out: Path, *, seconds: float, warmup: float, rounds: int, connections: tuple[int, ...], store_size: int
) -> dict[str, Any]:
    ensure_prism()
    fixtures = write_bench_fixtures(out / "fixtures")
    with (
        start_mock(fixtures, store_size, log_dir=out) as ours,
        start_prism(log_dir=out) as prism,
        start_mock(fixtures, store_size, log_dir=out, options=["--no-answer-cache"], name="uncached") as fresh,
    ):
        scenarios = prism_scenarios(sample_store(ours.base_url, BENCH_TOKEN))
        statuses = {s.key: {srv.name: _preflight(srv, s) for srv in (ours, fresh, prism)} for s in scenarios}
        answers = _record(ours, scenarios, out / "ceiling-answers.json")
        with start_ceiling(answers, log_dir=out) as ceiling:
            for s in scenarios:
                statuses[s.key][ceiling.name] = _preflight(ceiling, s)
            servers = (ours, fresh, prism, ceiling)
            rows = []
            for scenario in scenarios:
                for conns in connections:
                    runs: dict[str, list[LoadResult]] = {server.name: [] for server in servers}
                    for round_no in range(rounds):
                        order = servers if round_no % 2 == 0 else servers[::-1]
                        for server in order:
                            _load(server, scenario, conns, warmup, out)  # warm-up, discarded
                            runs[server.name].append(_load(server, scenario, conns, seconds, out))
                    rows.append(
                        _row(scenario, conns, runs[ours.name], runs[fresh.name], runs[prism.name], runs[ceiling.name])
                    )
                    print(_line(rows[-1]), flush=True)
            ceiling_command = " ".join(ceiling.command[1:])
        return {
            "store_size": store_size,
            "seconds": seconds,
            "warmup": warmup,
            "rounds": rounds,
            "ours_command": " ".join(ours.command[1:]),
            "prism_command": " ".join(prism.command),
            "uncached_command": " ".join(fresh.command[1:]),
            "ceiling_command": ceiling_command,
            "preflight_status": statuses,
            "rows": rows,
        }


def _record(ours: Server, scenarios: list[Scenario], path: Path) -> Path:
    """Our mock's answer to each scenario's requests (and the start-up probe), for the ceiling to replay."""
    answers = {}
    for scenario in scenarios:
        for target in scenario.paths:
            response = httpx.request(
                scenario.method,
                ours.base_url + target,
                content=scenario.body,
                headers=POST_HEADERS if scenario.body else HEADERS,
                timeout=30,
            )
            answers[f"{scenario.method} {target}"] = {"status": response.status_code, "body": response.text}
    probe = httpx.get(ours.base_url + "/me.json", headers=HEADERS, timeout=30)
    answers["GET /me.json"] = {"status": probe.status_code, "body": probe.text}
    path.write_text(json.dumps(answers), encoding="utf-8")
    return path


def _preflight(server: Server, scenario: Scenario) -> int:
    """One request by hand, so a benchmark of error answers cannot pass unnoticed."""
    response = httpx.request(
        scenario.method,
        server.base_url + scenario.paths[0],
        content=scenario.body,
        headers=POST_HEADERS if scenario.body else HEADERS,
        timeout=30,
    )
    if response.status_code >= 300:
        raise RuntimeError(f"{server.name} answers {scenario.title} with {response.status_code}: {response.text[:300]}")
    return response.status_code


def _load(server: Server, scenario: Scenario, conns: int, seconds: float, out: Path) -> LoadResult:
    return run_wrk(
        server.base_url,
        scenario.paths,
        connections=conns,
        seconds=seconds,
        script_dir=out,
        method=scenario.method,
        body=scenario.body,
        headers=POST_HEADERS if scenario.body else HEADERS,
    )


def _median(results: list[LoadResult]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
        "failed": sum(r.failed for r in results),
        "runs": [r.as_dict() for r in results],
    }


def _row(
    scenario: Scenario,
    conns: int,
    ours: list[LoadResult],
    fresh: list[LoadResult],
    prism: list[LoadResult],
    ceiling: list[LoadResult],
) -> dict[str, Any]:
    a, u, b, c = _median(ours), _median(fresh), _median(prism), _median(ceiling)

    def ratio(x: dict[str, Any], y: dict[str, Any], digits: int) -> float | None:
        return round(x["rps"] / y["rps"], digits) if y["rps"] else None

    return {
        "key": scenario.key,
        "title": scenario.title,
        "connections": conns,
        "ours": a,
        "uncached": u,
        "prism": b,
        "ceiling": c,
        "rps_ratio": ratio(a, b, 2),
        "ceiling_share": ratio(a, c, 3),
        "uncached_rps_ratio": ratio(u, b, 2),
        "uncached_ceiling_share": ratio(u, c, 3),
    }


def _line(row: dict[str, Any]) -> str:
    a, u, b, c = row["ours"], row["uncached"], row["prism"], row["ceiling"]
    return (
        f"{row['title']:<48} c={row['connections']:<3} ours {a['rps']:>7.0f} rps p99 {a['p99_ms']:.2f} "
        f"x{row['rps_ratio']} {100 * (row['ceiling_share'] or 0):.0f}% | uncached {u['rps']:>7.0f} p99 "
        f"{u['p99_ms']:.2f} x{row['uncached_rps_ratio']} | prism {b['rps']:>7.0f} p99 {b['p99_ms']:.2f} "
        f"| ceiling {c['rps']:>7.0f} p99 {c['p99_ms']:.2f}"
    )
