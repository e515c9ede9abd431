"""Benchmark 3: a full default `dentare-contract` run against the mock and a
`--quick` one, next to a plain `schemathesis run` of the same spec with the
same number of examples per operation. Each gets a fresh mock, so neither inherits the
other's writes; both are bounded by a timeout and their exit codes are kept
(a finding is a result here, not a crash of the bench).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _servers import SPEC, start_mock

from contract_tests.config import DEFAULT_MAX_EXAMPLES  # the CLI's own default, read, not copied

__all__ = ["run"]

TOKENS = {
    "token": "dnt_bench_contract_a_0123456789abcdefghij",
    "other_token": "dnt_bench_contract_b_0123456789abcdefghij",
    "revoked_token": "dnt_bench_contract_r_0123456789abcdefghij",
}
TIMEOUT_S = 1800


def run(out: Path, *, store_size: int, timeout: float = TIMEOUT_S) -> dict[str, Any]:
    fixtures = _contract_fixtures(out / "contract-fixtures")
    contract_cmd = [
        str(Path(sys.executable).with_name("dentare-contract")),
        "--base-url",
        "{base}",
        "--token",
        TOKENS["token"],
        "--other-token",
        TOKENS["other_token"],
        "--revoked-token",
        TOKENS["revoked_token"],
    ]
    schemathesis_cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(SPEC),
        "--url",
        "{base}",
        "--header",
        f"Authorization: Bearer {TOKENS['token']}",
        "--max-examples",
        str(DEFAULT_MAX_EXAMPLES),
        "--seed",
        "4821",
    ]
    results = {}
    runs = (
        ("dentare-contract", contract_cmd),
        ("dentare-contract --quick", [*contract_cmd, "--quick"]),
        ("schemathesis run", schemathesis_cmd),
    )
    for name, template in runs:
        with start_mock(fixtures, store_size, log_dir=out, token=TOKENS["token"]) as server:
            command = [part.replace("{base}", server.base_url) for part in template]
            started = time.perf_counter()
            with open(out / f"{name.replace(' ', '-')}.out", "wb") as log:
                try:
                    # Run from bench/out: schemathesis keeps a .schemathesis/ cache in its working folder.
                    done = subprocess.run(
                        command, cwd=out, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
                    )
                    exit_code: int | None = done.returncode
                except subprocess.TimeoutExpired:
                    exit_code = None
            seconds = time.perf_counter() - started
            results[name] = {
                "seconds": round(seconds, 1),
                "exit_code": exit_code,
                "command": " ".join(p if "Bearer" not in p else "Authorization: Bearer <token>" for p in command),
            }
            print(f"{name:<18} {seconds:7.1f} s  exit {exit_code}", flush=True)
    return {"max_examples": DEFAULT_MAX_EXAMPLES, "store_size": store_size, "runs": results}


def _contract_fixtures(folder: Path) -> Path:
    """Two accounts (for the scoping rules) and a revoked token (for the auth rules)."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts = [
        {
            "id": 1,
            "name": "Bench Clinic A",
            "country": "MK",
            "users": [{"id": 1, "name": "User A"}],
            "tokens": [
                {"id": 1, "user_id": 1, "name": "a", "token": TOKENS["token"], "revoked": False},
                {"id": 3, "user_id": 1, "name": "r", "token": TOKENS["revoked_token"], "revoked": True},
            ],
        },
        {
            "id": 2,
            "name": "Bench Clinic B",
            "country": "AL",
            "users": [{"id": 2, "name": "User B"}],
            "tokens": [{"id": 2, "user_id": 2, "name": "b", "token": TOKENS["other_token"], "revoked": False}],
        },
    ]
    (folder / "accounts.json").write_text(json.dumps({"accounts": accounts}, indent=2), encoding="utf-8")
    return folder
