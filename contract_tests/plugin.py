"""The pytest plugin: options, one test per rule, the rule table, cleanup.

Loaded by `contract_tests/conftest.py` for `pytest contract_tests --base-url ...`,
by the `dentare-contract` CLI, or through a `pytest11` entry point. Without
`--base-url` it stays out of the way (the rules skip), so it is harmless in
any other pytest run.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ._exceptions import BudgetExceeded, ContractError, RuleFailure, TargetUnreachable, UsageError
from .context import DEFAULT_MAX_REQUESTS, DEFAULT_RATE, ENV_TOKENS, RunConfig, RunContext, preflight
from .registry import Rule, select_rules

__all__ = ["pytest_addoption"]

_KEY = pytest.StashKey["_Session"]()


@dataclass
class _Outcome:
    rule: Rule
    status: str  # pass / FAIL / skipped
    reason: str = ""
    failure: RuleFailure | None = None
    seconds: float = 0.0


@dataclass
class _Session:
    config: RunConfig | None
    error: str | None = None
    context: RunContext | None = None
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    cleanup_problems: list[str] = field(default_factory=list)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dentare-contract", "Dentare contract suite")
    group.addoption("--base-url", dest="contract_base_url", help="API root, e.g. http://127.0.0.1:8000/api/v1")
    group.addoption("--token", dest="contract_token", help=f"account A's token (or ${ENV_TOKENS['token']})")
    group.addoption(
        "--other-token",
        dest="contract_other_token",
        help=f"account B's token, for scoping (or ${ENV_TOKENS['other_token']})",
    )
    group.addoption(
        "--revoked-token", dest="contract_revoked_token", help=f"a revoked token (or ${ENV_TOKENS['revoked_token']})"
    )
    group.addoption(
        "--read-only",
        dest="contract_read_only",
        action="store_true",
        default=False,
        help="run only what changes nothing (GET requests)",
    )
    group.addoption("--max-examples", dest="contract_max_examples", type=int, default=None)
    group.addoption("--seed", dest="contract_seed", type=int, default=None)
    group.addoption("--quick", dest="contract_quick", action="store_true", default=False)
    group.addoption("--spec", dest="contract_spec", default=None, help="path to openapi.yaml")
    group.addoption(
        "--max-requests", dest="contract_max_requests", type=int, default=DEFAULT_MAX_REQUESTS, help="request budget"
    )
    group.addoption(
        "--rate",
        dest="contract_rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"at most this many requests per second (default {DEFAULT_RATE:g}; 0: no limit)",
    )
    group.addoption("--request-timeout", dest="contract_timeout", type=float, default=10.0)
    group.addoption(
        "--rule",
        dest="contract_rules",
        action="append",
        default=None,
        help="run only rules matching this glob or group (repeatable)",
    )


def config_from_pytest(config: pytest.Config) -> RunConfig:
    option = config.option
    return RunConfig.from_options(
        base_url=option.contract_base_url,
        token=option.contract_token,
        other_token=option.contract_other_token,
        revoked_token=option.contract_revoked_token,
        read_only=option.contract_read_only,
        max_examples=option.contract_max_examples,
        seed=option.contract_seed,
        quick=option.contract_quick,
        spec_path=option.contract_spec,
        max_requests=option.contract_max_requests,
        rate=option.contract_rate,
        timeout=option.contract_timeout,
    )


def pytest_configure(config: pytest.Config) -> None:
    session = _Session(config=None)
    if getattr(config.option, "contract_base_url", None):
        try:
            session.config = config_from_pytest(config)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        patterns = config.option.contract_rules
        if patterns and not select_rules(patterns):
            raise pytest.UsageError(f"no rule matches --rule {' '.join(patterns)}")
    config.stash[_KEY] = session


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_rule" in metafunc.fixturenames:
        patterns = metafunc.config.option.contract_rules
        rules = select_rules(patterns)
        metafunc.parametrize("contract_rule", rules, ids=[r.name for r in rules])


@pytest.fixture(scope="session")
def contract(request: pytest.FixtureRequest) -> Generator[RunContext, None, None]:
    """The run's context; exits 2 with a one-line reason when the target does not answer."""
    session: _Session = request.config.stash[_KEY]
    if session.config is None:
        pytest.skip("needs --base-url (and --token) to check a deployment")
    try:
        context = RunContext(session.config)
        preflight(context)
    except (TargetUnreachable, UsageError) as exc:
        pytest.exit(f"dentare-contract: {exc}", returncode=2)
    session.context = context
    yield context
    session.cleanup_problems = context.cleanup()
    context.close()


def run_rule(ctx: RunContext, rule: Rule) -> None:
    """Run one rule; anything but a clean pass or a skip becomes a RuleFailure."""
    __tracebackhide__ = True
    reason = rule.skip_reason(ctx)
    if reason:
        pytest.skip(reason)
    try:
        rule.func(ctx)
    except RuleFailure:
        raise
    except (BudgetExceeded, TargetUnreachable) as exc:
        raise RuleFailure(rule.name, "the rule to finish", str(exc), ctx.client.last) from None
    except ContractError as exc:
        raise RuleFailure(rule.name, "the rule to finish", str(exc), ctx.client.last) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # An answer so far from the contract that the rule could not read it.
        last = ctx.client.last
        raise RuleFailure(
            rule.name,
            "answers in the documented shape",
            last.describe_response() if last else f"{type(exc).__name__}: {exc}",
            last,
            detail=f"{type(exc).__name__}: {exc}",
        ) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    callspec = getattr(item, "callspec", None)
    rule = callspec.params.get("contract_rule") if callspec is not None else None
    if not isinstance(rule, Rule):
        return report
    session: _Session = item.config.stash[_KEY]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = _Outcome(rule, "pass", seconds=report.duration)
        if report.skipped:
            outcome.status = "skipped"
            longrepr = report.longrepr
            outcome.reason = str(longrepr[2]).removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""
        elif report.failed:
            outcome.status = "FAIL"
            if call.excinfo is not None and isinstance(call.excinfo.value, RuleFailure):
                failure = call.excinfo.value
                outcome.failure = failure
                outcome.reason = failure.summary.split(": ", 1)[-1]
                report.longrepr = str(failure)
            else:
                outcome.reason = str(call.excinfo.value) if call.excinfo else "error"
        session.outcomes[rule.name] = outcome
        item.user_properties.append(("rule", rule.name))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session: _Session | None = config.stash.get(_KEY, None)
    if session is None or not session.outcomes:
        return
    write = terminalreporter.write_line
    ctx = session.context
    terminalreporter.section("dentare contract")
    if ctx is not None:
        elapsed = time.monotonic() - session.started
        write(f"target {ctx.base_url}   run {ctx.config.run_id}   {ctx.client.count} requests   {elapsed:.1f} s")
    width = max(len(name) for name in session.outcomes) + 2
    for name, outcome in session.outcomes.items():
        line = f"  {name:<{width}}{outcome.status:<9}"
        if outcome.reason:
            line += _shorten(outcome.reason, 110)
        write(line, red=outcome.status == "FAIL", green=outcome.status == "pass", yellow=outcome.status == "skipped")
    counts = {s: sum(o.status == s for o in session.outcomes.values()) for s in ("pass", "FAIL", "skipped")}
    write(f"{counts['pass']} passed, {counts['FAIL']} failed, {counts['skipped']} skipped")
    failures = [o.failure for o in session.outcomes.values() if o.failure is not None]
    if failures and config.option.tbstyle == "no":
        for failure in failures:
            write("")
            for line in str(failure).splitlines():
                write(f"  {line}")
    for problem in session.cleanup_problems:
        write(f"cleanup: {problem}", yellow=True)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
