"""Benchmarks of the Dentare mock. Not part of CI (minutes long); one command:

    .venv/bin/python bench/run.py --all

--prism     ours vs Stoplight Prism with wrk (1 and 16 connections)
--scaling   1k/10k/100k/1M patients: latency, memory, start-up (+ bench/scaling.png)
--contract  `dentare-contract` vs a plain `schemathesis run`, same examples
--durability     POST with and without --state-file, side by side (1 and 16 connections)
--http-protocol  GET /patients with uvicorn's stock protocol and the mock's, side by side

Raw output (wrk scripts, server logs, JSON) goes to bench/out/ (gitignored);
bench/RESULTS.md is rewritten from every JSON found there, with the command.
Needs wrk (`apt-get install -y wrk`), npm for Prism, and the `bench` extra.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # bench/ is a folder of scripts (not a package): its own modules import by name

BENCH = Path(__file__).resolve().parent
SIZES = (1_000, 10_000, 100_000, 1_000_000)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not (args.all or args.prism or args.scaling or args.contract or args.durability or args.http_protocol):
        _parser().error("say what to run: --all, --prism, --scaling, --contract, --durability or --http-protocol")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    python = ".venv/bin/python" if Path(sys.prefix).resolve() == (BENCH.parent / ".venv").resolve() else "python"
    command = f"{python} bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    # The side-by-side benches: the same load settings, each its own servers.
    side_by_side = dict(
        seconds=args.seconds, warmup=args.warmup, rounds=args.rounds, connections=(1, 16), store_size=args.prism_store
    )
    if args.all or args.prism:
        import prism_compare

        _save(out, "prism", command, prism_compare.run(out, **side_by_side))
    if args.all or args.scaling:
        import scaling

        _save(
            out, "scaling", command, scaling.run(out, sizes=tuple(args.sizes), seconds=args.seconds, warmup=args.warmup)
        )
    if args.all or args.contract:
        import contract

        _save(out, "contract", command, contract.run(out, store_size=args.prism_store))
    if args.all or args.durability:
        import durability

        _save(out, "durability", command, durability.run(out, **side_by_side))
    if args.all or args.http_protocol:
        import http_protocol

        _save(out, "http_protocol", command, http_protocol.run(out, **side_by_side))
    if args.report is not None:
        report.write(out, args.report, plot=args.report.with_name("scaling.png"))
        print(f"wrote {args.report}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--prism", action="store_true")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--contract", action="store_true")
    parser.add_argument("--durability", action="store_true")
    parser.add_argument("--http-protocol", action="store_true")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=list(SIZES),
        help="store sizes for --scaling (default: %(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured load")
    parser.add_argument("--warmup", type=float, default=2.0, help="length of the warm-up before each load")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side-by-side comparison")
    parser.add_argument(
        "--prism-store",
        type=int,
        default=1_000,
        help="patients in our mock for --prism, --durability and --http-protocol",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument(
        "--report", type=Path, default=BENCH / "RESULTS.md", help="Markdown to rewrite from --out's results"
    )
    parser.add_argument("--no-report", dest="report", action="store_const", const=None)
    return parser


def _save(out: Path, name: str, command: str, result: dict[str, Any]) -> None:
    result["meta"] = {
        "command": command,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "git": _git("rev-parse", "--short", "HEAD"),
        "python": platform.python_version(),
        "cpu": _cpu(),
    }
    (out / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=BENCH, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x{_nproc()}"
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nproc() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
