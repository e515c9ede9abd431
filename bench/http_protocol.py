"""Benchmark 5: what the mock's HTTP protocol class costs (mockserver/web/http_protocol.py).

The same app served twice, side by side in one run: with uvicorn's stock
httptools protocol and with the mock's subclass (JSON parse errors, raw
UTF-8 request lines percent-encoded, the head limit counted while reading,
one write per answer; its kept answers at the connection off: bench/_serve.py).
GET /patients (a 20-patient page) at 1 and 16 connections with wrk; the
ratios are subclass / stock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from _servers import BENCH_TOKEN, serve_command, start_command, write_bench_fixtures
from _side_by_side import Load, compare

__all__ = ["run"]

HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}


def run(
    out: Path, *, seconds: float, warmup: float, rounds: int, connections: tuple[int, ...], store_size: int
) -> dict[str, Any]:
    fixtures = write_bench_fixtures(out / "fixtures")
    stock_cmd, stock_port = serve_command(fixtures, store_size, "stock")
    json_cmd, json_port = serve_command(fixtures, store_size, "json")
    with (
        start_command("stock", stock_cmd, f"http://127.0.0.1:{stock_port}/api/v1", log_dir=out) as stock,
        start_command("json-errors", json_cmd, f"http://127.0.0.1:{json_port}/api/v1", log_dir=out) as ours,
    ):
        for server in (stock, ours):
            answer = httpx.get(server.base_url + "/patients", headers=HEADERS, timeout=30)
            if answer.status_code != 200:
                raise RuntimeError(f"{server.name} answers GET /patients with {answer.status_code}")
        loads = [Load("list", "GET /patients", ("/patients",), headers=HEADERS)]
        rows = compare(
            stock, ours, loads, connections=connections, rounds=rounds, seconds=seconds, warmup=warmup, out=out
        )
    return {
        "store_size": store_size,
        "seconds": seconds,
        "warmup": warmup,
        "rounds": rounds,
        "stock_command": " ".join(stock_cmd[1:]),
        "json_errors_command": " ".join(json_cmd[1:]),
        "rows": rows,
    }
