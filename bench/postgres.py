"""Benchmark: the PostgreSQL store beside the memory store, in one run.

    .venv/bin/python bench/postgres.py                      # a throwaway cluster (.ci/postgres.sh)
    .venv/bin/python bench/postgres.py --dsn postgresql://postgres@127.0.0.1:55432/dentare

Part 1, throughput: three servers hold the same store (the bench fixtures and
`--generate --size` patients) and run side by side: the memory store, the
PostgreSQL store with one process, and with two (`--workers 2`, the same
database). Only one is loaded at a time, with `wrk -c16`, in alternating
rounds (the order rotates each round); each figure is the median of the
rounds. During each load the CPU time of the mock's processes, of the
PostgreSQL server's processes and of wrk is read from /proc/PID/stat, so the
split of the two cores is known. A POST load is followed by a reset.

Part 2, a million patients on PostgreSQL: `dentare-mock --generate --big`
against an empty database, timed to its first answer (generation, COPY,
index builds); then each scaling scenario (bench/_scenarios.py) with one
connection: p50/p99 of `q` by name and of the filters.

Loopback only, every load bounded by wrk's -d; every process started here is
stopped here by its PID. Raw results: bench/out/postgres.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _scenarios import POST_BODY, Scenario, _q, sample_store, scaling_scenarios
from _servers import ACCOUNT_ID, BENCH_TOKEN, ROOT, Server, free_port, start_server, write_bench_fixtures
from _wrk import run_wrk

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}
SCRIPT = ROOT / ".ci" / "postgres.sh"
_TICK = os.sysconf("SC_CLK_TCK")


# -- processes and their CPU ---------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/stat", encoding="ascii") as stat:
            if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def _postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (every backend, the checkpointer, ...)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry))
    return pids


@contextlib.contextmanager
def cpu_split(server: Server) -> Iterator[dict[str, float]]:
    """CPU seconds per wall second of the mock's processes and of the database server, over the block."""
    mock = {pid: _cpu_seconds(pid) for pid in _tree(server.pid)}
    database = {pid: _cpu_seconds(pid) for pid in _postgres_pids()}
    started = time.perf_counter()
    split: dict[str, float] = {}
    yield split
    wall = time.perf_counter() - started

    def used(before: dict[int, float], now: list[int]) -> float:
        # Per process, so one that ended meanwhile (a closed connection's backend) does not count negative.
        return sum(_cpu_seconds(pid) - before.get(pid, 0.0) for pid in now)

    split["mock_cores"] = round(used(mock, _tree(server.pid)) / wall, 2)
    split["postgres_cores"] = round(used(database, _postgres_pids()) / wall, 2)


# -- servers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def start(name: str, fixtures: Path, size: int, out: Path, *extra: str, timeout: float = 1800) -> Iterator[Server]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver.cli",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--fixtures",
        str(fixtures),
        "--generate",
        str(size),
        "--generate-account",
        str(ACCOUNT_ID),
        *extra,
    ]
    with start_server(
        name, command, f"http://127.0.0.1:{port}/api/v1", "/me.json", BENCH_TOKEN, out, timeout
    ) as server:
        yield server


@contextlib.contextmanager
def cluster(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    folder = Path(tempfile.mkdtemp(prefix="dentare-bench-pg-"))
    env = {**os.environ, "DENTARE_PG_PORT": str(free_port())}
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(folder)], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], env=env, timeout=120, check=False)


def database(server_dsn: str, name: str) -> str:
    import asyncio

    import asyncpg

    async def make() -> None:
        conn = await asyncpg.connect(server_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(make())
    return server_dsn.rsplit("/", 1)[0] + "/" + name


# -- part 1: throughput ------------------------------------------------------------------------


def throughput_scenarios(sample: Any) -> list[Scenario]:
    people = sample.patients
    names = sorted({p["last_name"].lower() for p in people if p["last_name"].isascii()})[:10] or ["hoxha"]
    ids = [p["id"] for p in people][:20]
    return [
        Scenario("list", "GET /patients", ("/patients",)),
        Scenario("q", "GET /patients?q=<last name>", tuple(_q({"q": n}) for n in names)),
        Scenario("get", "GET /patients/{id}", tuple(f"/patients/{i}" for i in ids)),
        Scenario("post", "POST /patients", ("/patients",), method="POST", body=POST_BODY),
    ]


def part_throughput(args: argparse.Namespace, server_dsn: str, fixtures: Path, out: Path) -> dict[str, Any]:
    dsn = database(server_dsn, "bench_throughput")
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with contextlib.ExitStack() as stack:
        servers = {
            "memory": stack.enter_context(start("memory", fixtures, args.size, out)),
            # The store beside the store: the memory store's kept answers (api/answers.py)
            # serve a repeated read without asking it; PostgreSQL keeps none.
            "memory_uncached": stack.enter_context(
                start("memory_uncached", fixtures, args.size, out, "--no-answer-cache")
            ),
            "postgresql_1": stack.enter_context(
                start("postgresql_1", fixtures, args.size, out, "--store", dsn, "--pool-size", str(args.pool_size))
            ),
            "postgresql_2": stack.enter_context(
                start(
                    "postgresql_2",
                    fixtures,
                    args.size,
                    out,
                    "--store",
                    dsn,
                    "--workers",
                    "2",
                    "--pool-size",
                    str(args.pool_size),
                )
            ),
        }
        scenarios = throughput_scenarios(sample_store(servers["memory"].base_url, BENCH_TOKEN))
        order = list(servers)
        for round_no in range(args.rounds):
            for name in order[round_no % len(order) :] + order[: round_no % len(order)]:
                server = servers[name]
                for scenario in scenarios:
                    entry = _load(server, scenario, args, out)
                    results.setdefault(name, {}).setdefault(scenario.key, []).append(entry)
                    print(
                        f"round {round_no + 1} {name:13} {scenario.key:5} {entry['rps']:8.0f} req/s  "
                        f"p99 {entry['p99_ms']:6.2f} ms  cpu mock {entry['mock_cores']:.2f} "
                        f"postgres {entry['postgres_cores']:.2f}",
                        flush=True,
                    )
                    if scenario.method == "POST":
                        reset = server.base_url.removesuffix("/api/v1") + "/__mock/reset"
                        httpx.post(reset, json={}, timeout=600).raise_for_status()
    summary = {
        name: {key: _median(rounds) for key, rounds in per_scenario.items()} for name, per_scenario in results.items()
    }
    return {
        "size": args.size,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "pool_size": args.pool_size,
        "median": summary,
        "raw": results,
    }


def _load(server: Server, scenario: Scenario, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    headers = {**HEADERS, **({"Content-Type": "application/json"} if scenario.body else {})}
    run_wrk(
        server.base_url,
        scenario.paths,
        connections=args.connections,
        seconds=args.warmup,
        script_dir=out,
        method=scenario.method,
        body=scenario.body,
        headers=headers,
    )
    with cpu_split(server) as split:
        result = run_wrk(
            server.base_url,
            scenario.paths,
            connections=args.connections,
            seconds=args.seconds,
            script_dir=out,
            method=scenario.method,
            body=scenario.body,
            headers=headers,
        )
    if result.failed:
        raise RuntimeError(f"{server.name} {scenario.title}: {result.errors}")
    return {**result.as_dict(), **split}


def _median(rounds: list[dict[str, Any]]) -> dict[str, float]:
    return {
        key: round(statistics.median(r[key] for r in rounds), 2)
        for key in ("rps", "p50_ms", "p99_ms", "mock_cores", "postgres_cores")
    }


# -- part 2: a million patients ----------------------------------------------------------------


def part_big(args: argparse.Namespace, server_dsn: str, fixtures: Path, out: Path) -> dict[str, Any]:
    dsn = database(server_dsn, "bench_big")
    with start(
        "postgresql_big", fixtures, args.big, out, "--store", dsn, "--pool-size", str(args.pool_size), timeout=3600
    ) as server:
        load_s = round(server.startup_s, 1)
        print(f"{args.big} patients loaded into PostgreSQL in {load_s} s", flush=True)
        sample = sample_store(server.base_url, BENCH_TOKEN)
        rows = {}
        for scenario in scaling_scenarios(sample):
            run_wrk(
                server.base_url, scenario.paths, connections=1, seconds=args.warmup, script_dir=out, headers=HEADERS
            )
            result = run_wrk(
                server.base_url, scenario.paths, connections=1, seconds=args.seconds, script_dir=out, headers=HEADERS
            )
            rows[scenario.key] = {"title": scenario.title, **result.as_dict()}
            print(
                f"  {scenario.key:10} p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                f"({result.requests} requests)",
                flush=True,
            )
    return {"size": args.big, "load_s": load_s, "active_total": sample.total, "scenarios": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="a PostgreSQL server to use (default: a throwaway cluster)")
    parser.add_argument("--size", type=int, default=10_000, help="patients for the throughput part")
    parser.add_argument("--big", type=int, default=1_000_000, help="patients for the latency part (0: skip)")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    fixtures = write_bench_fixtures(out / "fixtures")
    result: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "cpus": os.cpu_count(),
    }
    with cluster(args.dsn) as server_dsn:
        if not args.skip_throughput:
            result["throughput"] = part_throughput(args, server_dsn, fixtures, out)
        if args.big:
            result["big"] = part_big(args, server_dsn, fixtures, out)
    (out / "postgres.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "throughput"}
            | {"throughput": result.get("throughput", {}).get("median")},
            indent=2,
        )
    )
    return 0


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
