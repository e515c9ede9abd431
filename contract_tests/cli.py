"""`dentare-contract`: check a deployment of the Patients API against the spec.

A thin shell: options are checked, the target is pinged, then the suite runs
as pytest with the contract plugin. Exit 0 when the target conforms, 1 when a
rule fails, 2 for usage errors or an unreachable target (one-line reason).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._exceptions import ContractError
from .context import DEFAULT_MAX_REQUESTS, DEFAULT_RATE, ENV_TOKENS, RunConfig, RunContext, preflight
from .registry import select_rules

__all__ = ["build_parser", "main"]

PROG = "dentare-contract"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check a deployment of the Dentare Patients API against spec/openapi.yaml.",
        epilog="Tokens may come from "
        + ", ".join(f"${v}" for v in ENV_TOKENS.values())
        + " to keep them out of shell history.",
    )
    parser.add_argument("--base-url", required=True, help="API root, e.g. http://127.0.0.1:8000/api/v1")
    parser.add_argument("--token", help="account A's token")
    parser.add_argument("--other-token", help="account B's token (scoping rules)")
    parser.add_argument("--revoked-token", help="a revoked token (auth.revoked_token)")
    parser.add_argument("--read-only", action="store_true", help="send only requests that change nothing")
    parser.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--max-examples", type=int, help="schemathesis examples per operation and mode")
    parser.add_argument("--seed", type=int, help="seed for generated data")
    parser.add_argument("--quick", action="store_true", help="a fast smoke profile (few examples)")
    parser.add_argument("--spec", metavar="PATH", help="the OpenAPI document (default: the bundled one)")
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help="stop after this many requests")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"at most this many requests per second (default {DEFAULT_RATE:g}; 0: no limit)",
    )
    parser.add_argument("--request-timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--rule", action="append", metavar="GLOB", help="run only matching rules (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="pytest's own verbose output too")
    return parser


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = RunConfig.from_options(
            base_url=args.base_url,
            token=args.token,
            other_token=args.other_token,
            revoked_token=args.revoked_token,
            spec_path=args.spec,
        )
        probe = RunContext(config)
        try:
            preflight(probe)
        finally:
            probe.close()
    except ContractError as exc:
        return _fail(str(exc))
    if args.rule and not select_rules(args.rule):
        return _fail(f"no rule matches --rule {' '.join(args.rule)}")

    import pytest  # after the cheap checks: importing the suite takes a moment

    package = Path(__file__).resolve().parent
    pytest_args = [
        str(package / "test_contract.py"),
        "-c",
        os.devnull,  # the caller's pytest config (addopts, filterwarnings) is not ours
        "--rootdir",
        str(package),
        "-p",
        "no:cacheprovider",
        "--assert=plain",  # rules raise RuleFailure; rewriting schemathesis' modules costs seconds
        "-o",
        "junit_suite_name=dentare-contract",
        "-o",
        "junit_family=xunit2",
        "--tb=no" if not args.verbose else "--tb=short",
        "-q" if not args.verbose else "-v",
        "-rN",
        "--base-url",
        args.base_url,
        "--max-requests",
        str(args.max_requests),
        "--rate",
        str(args.rate),
        "--request-timeout",
        str(args.request_timeout),
    ]
    # Tokens travel in the environment, never on an argument list.
    env = {"token": args.token, "other_token": args.other_token, "revoked_token": args.revoked_token}
    for key, value in env.items():
        if value:
            os.environ[ENV_TOKENS[key]] = value
    for flag, value in (
        ("--max-examples", args.max_examples),
        ("--seed", args.seed),
        ("--spec", args.spec),
        ("--junitxml", args.junit_xml),
    ):
        if value is not None:
            pytest_args += [flag, str(value)]
    if args.read_only:
        pytest_args.append("--read-only")
    if args.quick:
        pytest_args.append("--quick")
    for pattern in args.rule or []:
        pytest_args += ["--rule", pattern]
    code = int(pytest.main(pytest_args))
    if code in (0, 1):
        return code
    return 2


if __name__ == "__main__":
    sys.exit(main())
