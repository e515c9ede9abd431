"""Two servers measured in one run, alternating (A, B, then B, A, ...), each load
after a warm-up; the figures kept are the medians over the rounds and the
ratios are B over A from this same run (bench/README.md: drift on a shared
machine then hits both alike)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _servers import Server
from _wrk import LoadResult, run_wrk

__all__ = ["Load", "compare"]


@dataclass(frozen=True)
class Load:
    key: str
    title: str
    paths: tuple[str, ...]
    method: str = "GET"
    body: bytes | None = None
    headers: Mapping[str, str] | None = None


def compare(
    a: Server,
    b: Server,
    loads: list[Load],
    *,
    connections: tuple[int, ...],
    rounds: int,
    seconds: float,
    warmup: float,
    out: Path,
) -> list[dict[str, Any]]:
    rows = []
    for load in loads:
        for conns in connections:
            runs: dict[str, list[LoadResult]] = {a.name: [], b.name: []}
            for round_no in range(rounds):
                for server in (a, b) if round_no % 2 == 0 else (b, a):
                    _run(server, load, conns, warmup, out)  # warm-up, discarded
                    runs[server.name].append(_run(server, load, conns, seconds, out))
            first, second = _median(runs[a.name]), _median(runs[b.name])
            row = {
                "key": load.key,
                "title": load.title,
                "connections": conns,
                a.name: first,
                b.name: second,
                "rps_ratio": round(second["rps"] / first["rps"], 3) if first["rps"] else None,
                "p50_ratio": round(second["p50_ms"] / first["p50_ms"], 3) if first["p50_ms"] else None,
                "p99_ratio": round(second["p99_ms"] / first["p99_ms"], 3) if first["p99_ms"] else None,
            }
            rows.append(row)
            print(
                f"{load.title:32s} c={conns:<3d} {a.name} {first['rps']:9.1f} req/s p50 {first['p50_ms']:.2f} ms "
                f"| {b.name} {second['rps']:9.1f} req/s p50 {second['p50_ms']:.2f} ms "
                f"| ratio {row['rps_ratio']}",
                flush=True,
            )
    return rows


def _run(server: Server, load: Load, conns: int, seconds: float, out: Path) -> LoadResult:
    return run_wrk(
        server.base_url,
        load.paths,
        connections=conns,
        seconds=seconds,
        script_dir=out,
        method=load.method,
        body=load.body,
        headers=load.headers,
    )


def _median(results: list[LoadResult]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 3),
        "p90_ms": round(statistics.median(r.p90_ms for r in results), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
        "failed": sum(r.failed for r in results),
        "runs": [r.as_dict() for r in results],
    }
