"""`dentare-contract`: check a deployment of the Patients API against the spec.

    dentare-contract [run] --base-url URL [options]         exit 0 conforms, 1 a guide check failed,
                                                             2 usage error or a target that cannot be checked
    dentare-contract calibrate --base-url URL --write-profile FILE [--read-only]

A thin shell: options are checked, the target is pinged, then the suite runs
as pytest with the contract plugin (or, for calibrate, the probes run here).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._exceptions import ContractError, UsageError
from .calibrate import ALIKE, calibrate, write_profile
from .config import RunConfig
from .context import RunContext, preflight
from .examples import example_database
from .options import TOKEN_OPTIONS, add_to_argparse, to_pytest_args
from .suite import select_checks

__all__ = ["build_parser", "main"]

PROG = "dentare-contract"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check a deployment of the Dentare Patients API against spec/openapi.yaml.",
        epilog="Tokens may come from "
        + ", ".join(f"${o.env}" for o in TOKEN_OPTIONS)
        + " to keep them out of shell history. `dentare-contract calibrate --help` for calibrate.",
    )
    add_to_argparse(parser)
    parser.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("-v", "--verbose", action="store_true", help="pytest's own verbose output too")
    return parser


def build_calibrate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} calibrate",
        description="Probe each decision point on the target and write the profile it takes "
        "(dentare-mock --profile FILE then answers like it).",
    )
    add_to_argparse(parser)
    parser.add_argument("--write-profile", metavar="FILE", type=Path, required=True, help="the profile to write")
    return parser


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["calibrate"]:
        return _calibrate(build_calibrate_parser().parse_args(args[1:]))
    if args[:1] == ["run"]:
        args = args[1:]
    return _run(build_parser().parse_args(args))


def _config(args: argparse.Namespace) -> RunConfig:
    return RunConfig.from_options(vars(args))


def _run(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        if config.rule and not select_checks(config.rule):
            raise UsageError(f"no check matches --rule {' '.join(config.rule)}")
        probe = RunContext(config)
        try:
            probe.cache["example_db"] = example_database(config.example_db)
            preflight(probe)
        finally:
            probe.cleanup()
            probe.close()
    except ContractError as exc:
        return _fail(str(exc))

    import pytest  # after the cheap checks: importing the suite takes a moment

    from .plugin import outcomes_of

    package = Path(__file__).resolve().parent
    values: dict[str, Any] = {**vars(args), "seed": config.seed}
    pytest_args = [
        str(package / "test_contract.py"),
        "-c", os.devnull,  # the caller's pytest config (addopts, filterwarnings) is not ours
        "--rootdir", str(package),
        "-p", "no:cacheprovider",
        "--assert=plain",  # checks raise RuleFailure; rewriting schemathesis' modules costs seconds
        "-o", "junit_suite_name=dentare-contract",
        "-o", "junit_family=xunit2",
        "--tb=no" if not args.verbose else "--tb=short",
        "-q" if not args.verbose else "-v",
        "-rN",
        *to_pytest_args(values),
    ]  # fmt: skip
    if args.junit_xml:
        pytest_args += ["--junitxml", args.junit_xml]
    # Tokens travel in the environment, never on an argument list.
    for option in TOKEN_OPTIONS:
        value = getattr(config, option.dest)
        if value and option.env:
            os.environ[option.env] = value

    class _Outcomes:
        def __init__(self) -> None:
            self.found: dict[str, Any] = {}

        def pytest_unconfigure(self, config: Any) -> None:
            self.found.update(outcomes_of(config))

    capture = _Outcomes()
    code = int(pytest.main(pytest_args, plugins=[capture]))
    if any(outcome.status == "error" for outcome in capture.found.values()):
        return 2
    return code if code in (0, 1) else 2


def _calibrate(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        ctx = RunContext(config)
    except ContractError as exc:
        return _fail(str(exc))
    try:
        result = calibrate(ctx)
        write_profile(ctx, result, args.write_profile)
    except ContractError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.write_profile}: {exc.strerror or exc}")
    finally:
        ctx.cleanup()
        ctx.close()
    catalogue = ctx.facts.decided.catalogue
    for point in catalogue:
        seen = result.found.get(point.name)
        if seen is None:
            shown = f"not probed: {result.skipped.get(point.name, '')}"
        else:
            shown = seen.alternative or f"none of the alternatives ({seen.evidence})"
        marker = "" if seen is None or seen.alternative in (None, point.default) else "   (not the kit's)"
        if seen is not None and seen.alike:
            marker += f"   ({', '.join(sorted(seen.alike))} {ALIKE})"
        print(f"  {point.name:<26} {shown}{marker}")
    print(
        f"wrote {args.write_profile}: {len(result.choices())} of {len(catalogue)} points seen; "
        f"dentare-mock --profile {args.write_profile} answers like {ctx.base_url}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
