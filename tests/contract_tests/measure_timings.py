"""Measure the contract suite's wall-clock time against the local mock.

    .venv/bin/python -m tests.contract_tests.measure_timings [--repeat N]

Serves `dentare-mock` in its own process (as a developer or CI would), then
runs the full default profile and `--quick` through the `dentare-contract`
CLI, each from a fresh mock, and prints wall-clock seconds. The issue's
budgets are 60 s (default) and 15 s (--quick) on the 2-core machine; this
script reports, it never asserts (timings do not belong in unit tests).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from tests.conftest import ROOT, spawn_mock

from .conftest import FIXTURES, load_accounts

PROFILES = {"default": [], "quick": ["--quick"]}
BUDGETS = {"default": 60.0, "quick": 15.0}


def measure(profile: str) -> tuple[float, int, str]:
    accounts = load_accounts()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DENTARE_")}
    env.update(
        DENTARE_TOKEN=accounts.live[1][0],
        DENTARE_OTHER_TOKEN=accounts.live[2][0],
        DENTARE_REVOKED_TOKEN=accounts.revoked[1][0],
    )
    with spawn_mock("--fixtures", str(FIXTURES)) as mock:
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, "-m", "contract_tests.cli", "--base-url", mock.base_url, *PROFILES[profile]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
    found = re.search(r"(\d+) requests", process.stdout)
    summary = process.stdout.strip().splitlines()[-1] if process.stdout.strip() else process.stderr.strip()
    return elapsed, int(found.group(1)) if found else 0, f"exit {process.returncode}: {summary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for profile in PROFILES:
        for _ in range(args.repeat):
            elapsed, requests, summary = measure(profile)
            verdict = "within" if elapsed <= BUDGETS[profile] else "OVER"
            print(
                f"{profile:8} {elapsed:6.1f} s  {requests:5d} requests  ({verdict} {BUDGETS[profile]:.0f} s)  {summary}"
            )


if __name__ == "__main__":
    main()
