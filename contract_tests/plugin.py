"""The pytest plugin: options, one test per check, the report, cleanup.

Loaded by `contract_tests/conftest.py` for `pytest contract_tests --base-url ...`,
by the `dentare-contract` CLI, or through a `pytest11` entry point. Without
`--base-url` it stays out of the way (the checks skip), so it is harmless in
any other pytest run.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ._exceptions import (
    BudgetExceeded,
    ContractError,
    Deviation,
    EdgeUnavailable,
    RuleFailure,
    TargetUnreachable,
    UsageError,
)
from .config import RunConfig
from .context import RunContext, preflight
from .examples import example_database
from .options import OPTIONS, add_to_pytest
from .registry import UNREADABLE, Check, Observed
from .report import Outcome, write_report
from .suite import select_checks

__all__ = ["pytest_addoption", "run_check"]

_KEY = pytest.StashKey["_Session"]()


@dataclass
class _Session:
    config: RunConfig | None
    context: RunContext | None = None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    cleanup_problems: list[str] = field(default_factory=list)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_to_pytest(parser.getgroup("dentare-contract", "Dentare contract suite"))


def config_from_pytest(config: pytest.Config) -> RunConfig:
    option = config.option
    return RunConfig.from_options({o.dest: getattr(option, f"contract_{o.dest}") for o in OPTIONS})


def pytest_configure(config: pytest.Config) -> None:
    session = _Session(config=None)
    if getattr(config.option, "contract_base_url", None):
        try:
            session.config = config_from_pytest(config)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        patterns = config.option.contract_rule
        if patterns and not select_checks(patterns):
            raise pytest.UsageError(f"no check matches --rule {' '.join(patterns)}")
    config.stash[_KEY] = session


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_check" in metafunc.fixturenames:
        checks = select_checks(metafunc.config.option.contract_rule)
        metafunc.parametrize("contract_check", checks, ids=[c.name for c in checks])


@pytest.fixture(scope="session")
def contract(request: pytest.FixtureRequest) -> Generator[RunContext, None, None]:
    """The run's context; exits 2 with a one-line reason when the target cannot be checked."""
    session: _Session = request.config.stash[_KEY]
    if session.config is None:
        pytest.skip("needs --base-url (and --token) to check a deployment")
    try:
        context = RunContext(session.config)
        context.cache["example_db"] = example_database(session.config.example_db)
        preflight(context)
    except (TargetUnreachable, UsageError, BudgetExceeded) as exc:
        pytest.exit(f"dentare-contract: {exc}", returncode=2)
    session.context = context
    yield context
    context.current = "cleanup"
    session.cleanup_problems = context.cleanup()
    context.close()


def run_check(ctx: RunContext, check: Check) -> Observed | None:
    """Run one check; anything but a pass, a skip or (for a probe) the expected
    alternative becomes a RuleFailure (a Deviation is one only with --strict)."""
    __tracebackhide__ = True
    reason = check.skip_reason(ctx.config.read_only, ctx.tokens)
    if reason:
        pytest.skip(reason)
    ctx.current = check.name
    try:
        if check.point is None:
            check.func(ctx)
            return None
        result = check.observe(ctx)
    except RuleFailure:
        raise
    except EdgeUnavailable:
        raise
    except ContractError as exc:
        raise RuleFailure(check.name, "the check to finish", str(exc), ctx.client.last) from None
    except UNREADABLE as exc:
        # An answer so far from the contract that the check could not read it.
        last = ctx.client.last
        raise RuleFailure(
            check.name,
            "answers in the documented shape",
            last.describe_response() if last else f"{type(exc).__name__}: {exc}",
            last,
            detail=f"{type(exc).__name__}: {exc}",
        ) from None
    ctx.cache.setdefault("observed", {})[check.point] = result
    expected = ctx.expected(check.point)
    if result.alternative != expected:
        deviation = Deviation(check.name, check.point, expected, result.alternative, result.evidence, result.exchange)
        if ctx.config.strict:
            raise deviation
        ctx.cache.setdefault("deviations", {})[check.name] = deviation
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    callspec = getattr(item, "callspec", None)
    found = callspec.params.get("contract_check") if callspec is not None else None
    if not isinstance(found, Check):
        return report
    session: _Session = item.config.stash[_KEY]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = Outcome(found, "pass", seconds=report.duration)
        ctx = session.context
        deviation = (ctx.cache.get("deviations", {}) if ctx else {}).get(found.name)
        if report.skipped:
            outcome.status = "skipped"
            longrepr = report.longrepr
            outcome.reason = str(longrepr[2]).removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""
        elif report.failed:
            error = call.excinfo.value if call.excinfo is not None else None
            if isinstance(error, EdgeUnavailable):
                outcome.status = "error"
                outcome.reason = str(error)
            elif isinstance(error, RuleFailure):
                outcome.status = "FAIL"
                outcome.failure = error
                outcome.reason = error.summary.split(": ", 1)[-1]
                report.longrepr = str(error)
            else:
                outcome.status = "FAIL"
                outcome.reason = str(error) if error else "error"
        elif deviation is not None:
            outcome.status = "deviates"
            outcome.failure = deviation
            outcome.reason = deviation.summary.split(": ", 1)[-1]
        session.outcomes[found.name] = outcome
        item.user_properties.append(("check", found.name))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session: _Session | None = config.stash.get(_KEY, None)
    if session is None or not session.outcomes or session.context is None:
        return
    write_report(
        terminalreporter,
        session.context,
        session.outcomes,
        time.monotonic() - session.started,
        session.cleanup_problems,
        details=config.option.tbstyle == "no",
    )


def outcomes_of(config: pytest.Config) -> dict[str, Outcome]:
    session: _Session | None = config.stash.get(_KEY, None)
    return dict(session.outcomes) if session is not None else {}
