"""Benchmark 1: our mock side by side with Stoplight Prism on the same spec,
and with the ceiling (bench/ceiling.py: a bare Starlette app replaying our
mock's exact answers).

Our mock runs three times: as it ships (a read's answer is kept until the
data changes, mockserver/api/answers.py, and a repeated GET is given it by the
HTTP protocol before the app: web/http_protocol.py); **app-kept**, the same app
with the answers kept by the app only, so every request is authenticated and
validated before its kept answer is given (bench/_serve.py); and with
`--no-answer-cache` (every answer computed). The five servers run at once but
are never loaded at once: every measurement rotates the order (then the
reverse) so drift on a shared, noisy machine hits all alike, each load
preceded by a short warm-up, and the figures kept are the medians over the
rounds. Ratios are over Prism and over the ceiling, from this same run.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import httpx
from _scenarios import Scenario, prism_scenarios, sample_store
from _servers import (
    BENCH_TOKEN,
    Server,
    ensure_prism,
    serve_command,
    start_ceiling,
    start_command,
    start_mock,
    start_prism,
    write_bench_fixtures,
)
from _wrk import LoadResult, run_wrk

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}
#: Our three servers' roles in a row, beside "prism" and "ceiling".
OURS = ("ours", "app_kept", "uncached")
POST_HEADERS = {**HEADERS, "Content-Type": "application/json"}


def run(
    out: Path, *, seconds: float, warmup: float, rounds: int, connections: tuple[int, ...], store_size: int
) -> dict[str, Any]:
    ensure_prism()
    fixtures = write_bench_fixtures(out / "fixtures")
    app_kept_cmd, app_kept_port = serve_command(fixtures, store_size)
    with (
        start_mock(fixtures, store_size, log_dir=out) as ours,
        start_command("app-kept", app_kept_cmd, f"http://127.0.0.1:{app_kept_port}/api/v1", log_dir=out) as app_kept,
        start_prism(log_dir=out) as prism,
        start_mock(fixtures, store_size, log_dir=out, options=["--no-answer-cache"], name="uncached") as fresh,
    ):
        scenarios = prism_scenarios(sample_store(ours.base_url, BENCH_TOKEN))
        mocks = (ours, app_kept, fresh, prism)
        statuses = {s.key: {srv.name: _preflight(srv, s) for srv in mocks} for s in scenarios}
        answers = _record(ours, scenarios, out / "ceiling-answers.json")
        with start_ceiling(answers, log_dir=out) as ceiling:
            for s in scenarios:
                statuses[s.key][ceiling.name] = _preflight(ceiling, s)
            servers = {"ours": ours, "app_kept": app_kept, "uncached": fresh, "prism": prism, "ceiling": ceiling}
            rows = []
            for scenario in scenarios:
                for conns in connections:
                    runs: dict[str, list[LoadResult]] = {role: [] for role in servers}
                    for round_no in range(rounds):
                        order = list(servers.items()) if round_no % 2 == 0 else list(servers.items())[::-1]
                        for role, server in order:
                            _load(server, scenario, conns, warmup, out)  # warm-up, discarded
                            runs[role].append(_load(server, scenario, conns, seconds, out))
                    rows.append(_row(scenario, conns, runs))
                    print(_line(rows[-1]), flush=True)
            ceiling_command = " ".join(ceiling.command[1:])
        return {
            "store_size": store_size,
            "seconds": seconds,
            "warmup": warmup,
            "rounds": rounds,
            "ours_command": " ".join(ours.command[1:]),
            "prism_command": " ".join(prism.command),
            "app_kept_command": " ".join(app_kept_cmd[1:]),
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


def _row(scenario: Scenario, conns: int, runs: dict[str, list[LoadResult]]) -> dict[str, Any]:
    """Each server's medians, and each of ours over Prism and over the ceiling."""
    medians = {role: _median(results) for role, results in runs.items()}
    prism, ceiling = medians["prism"]["rps"], medians["ceiling"]["rps"]
    row: dict[str, Any] = {"key": scenario.key, "title": scenario.title, "connections": conns, **medians}
    for role in OURS:
        rps = medians[role]["rps"]
        row[f"{role}_prism_ratio"] = round(rps / prism, 2) if prism else None
        row[f"{role}_ceiling_share"] = round(rps / ceiling, 3) if ceiling else None
    return row


def _line(row: dict[str, Any]) -> str:
    parts = [f"{row['title']:<48} c={row['connections']:<3}"]
    for role in OURS:
        m = row[role]
        parts.append(
            f"{role} {m['rps']:>7.0f} rps p99 {m['p99_ms']:.2f} x{row[f'{role}_prism_ratio']} "
            f"{100 * (row[f'{role}_ceiling_share'] or 0):.0f}%"
        )
    for role in ("prism", "ceiling"):
        parts.append(f"{role} {row[role]['rps']:>7.0f} p99 {row[role]['p99_ms']:.2f}")
    return " | ".join(parts)
