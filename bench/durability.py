"""Benchmark 4: what durability costs a write (`--state-file`, mockserver/store/state_file.py).

Two mocks on the same fixtures and store, side by side in one run: one in
memory only, one with a state file (SQLite, WAL, synchronous=FULL: every
acknowledged POST is fsynced before its answer). Each is loaded with the
same POST /patients at 1 and 16 connections; the ratios are with / without.
The state file lives in the bench's out folder, on the disk the repo is on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from _scenarios import POST_BODY
from _servers import BENCH_TOKEN, serve_command, start_command, write_bench_fixtures
from _side_by_side import Load, compare

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}


def run(
    out: Path, *, seconds: float, warmup: float, rounds: int, connections: tuple[int, ...], store_size: int
) -> dict[str, Any]:
    fixtures = write_bench_fixtures(out / "fixtures")
    state = out / "durability-state.db"
    for leftover in (state, state.with_name(state.name + "-wal")):
        leftover.unlink(missing_ok=True)
    memory_cmd, memory_port = serve_command(fixtures, store_size)
    durable_cmd, durable_port = serve_command(fixtures, store_size, state_file=state)
    with (
        start_command("memory", memory_cmd, f"http://127.0.0.1:{memory_port}/api/v1", log_dir=out) as memory,
        start_command("state-file", durable_cmd, f"http://127.0.0.1:{durable_port}/api/v1", log_dir=out) as durable,
    ):
        for server in (memory, durable):
            answer = httpx.post(server.base_url + "/patients", content=POST_BODY, headers=HEADERS, timeout=30)
            if answer.status_code != 201:
                raise RuntimeError(f"{server.name} answers POST with {answer.status_code}: {answer.text[:300]}")
        loads = [Load("post", "POST /patients", ("/patients",), method="POST", body=POST_BODY, headers=HEADERS)]
        rows = compare(
            memory, durable, loads, connections=connections, rounds=rounds, seconds=seconds, warmup=warmup, out=out
        )
        state_bytes = sum(p.stat().st_size for p in (state, state.with_name(state.name + "-wal")) if p.exists())
    return {
        "store_size": store_size,
        "seconds": seconds,
        "warmup": warmup,
        "rounds": rounds,
        "memory_command": " ".join(memory_cmd[1:]),
        "state_file_command": " ".join(durable_cmd[1:]),
        "state_file_bytes_at_end": state_bytes,
        "rows": rows,
    }
