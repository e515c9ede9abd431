"""Schema conformance with schemathesis: positive and negative data on every
operation, all built-in checks, authenticated, sent through the bounded client.

Generated data is made safe for a live deployment before it is sent: writes
only ever touch patients this run created, creates carry the run's tag, and
positive bodies get a real phone and region so "positive" means accepted.
"""

from __future__ import annotations

import random
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from .._exceptions import RuleFailure
from ..client import Exchange
from ..context import RunContext
from ..registry import rule
from ..spec import Operation

__all__ = ["hypothesis_settings", "make_safe", "schemathesis_schema"]

_VALID_PHONES = ["+355691234567", "+38970123456", "+38349123456"]
_VALID_REGIONS = ["AL", "MK", "XK", "al", "mk"]


def schemathesis_schema(ctx: RunContext) -> Any:
    """The spec as a schemathesis schema, built once per run."""
    if "st_schema" not in ctx._cache:
        config = schemathesis.Config()
        schema = schemathesis.openapi.from_dict(ctx.spec.raw, config=config)
        # Auth is ours to send (the auth rules test its absence); the state machine walks valid data.
        schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
        ctx._cache["st_schema"] = schema
    return ctx._cache["st_schema"]


def hypothesis_settings(ctx: RunContext, max_examples: int, **extra: Any) -> hypothesis.settings:
    """No database, no deadline, no shrinking, no health checks: bounded and quick."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        **extra,
    )


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_safe(ctx: RunContext, case: Any, positive: bool) -> None:
    """Tag creates, keep PATCHes on this run's patients, make positive bodies truly valid."""
    op = ctx.spec.operation(case.method, case.path)
    body = case.body if isinstance(case.body, dict) else None
    if body is None or not positive:
        if op is ctx.spec.create_operation and body is not None and "external_id" not in body:
            case.body = {**body, "external_id": ctx.new_tag()}
        return
    fixed = dict(body)
    if op is ctx.spec.create_operation or "external_id" in fixed:
        fixed["external_id"] = ctx.new_tag()
    if "phone" in fixed and fixed["phone"] is not None:
        fixed["phone"] = random.choice(_VALID_PHONES)
    if "phone_country" in fixed and fixed["phone_country"] is not None:
        fixed["phone_country"] = random.choice(_VALID_REGIONS)
    case.body = fixed


def _failure(ctx: RunContext, name: str, op: Operation, exc: FailureGroup, exchange: Exchange | None) -> RuleFailure:
    first = exc.exceptions[0]
    title = getattr(first, "title", type(first).__name__)
    message = str(getattr(first, "message", first)).strip().splitlines()
    checks = sorted({c for f in exc.exceptions for c in getattr(f, "checks", ())} or {type(first).__name__})
    return RuleFailure(
        name,
        f"every schemathesis check to pass on {op.label}",
        f"{title}: {' '.join(message[:3])}",
        exchange,
        detail=f"failed checks: {', '.join(checks)}",
    )


def _empty_on_the_wire(case: Any) -> bool:
    """`?fields=` is both [] (valid) and [""] (invalid): negative data that proves nothing."""
    return any(value in ("", [], [""]) for value in (case.query or {}).values())


def _sender(
    ctx: RunContext, op: Operation, positive: bool, headers: dict[str, str], seen: dict[str, Exchange | None]
) -> Any:
    """The body of one hypothesis test: make the case safe, send it, run every check."""
    transport = {"base_url": ctx.base_url, "session": ctx.client.session, "headers": headers}

    def run(case: Any) -> None:
        if not positive and _empty_on_the_wire(case):
            hypothesis.reject()
        make_safe(ctx, case, positive)
        response = case.call(base_url=ctx.base_url, session=ctx.client.session, headers=headers)
        seen["last"] = ctx.client.last
        if ctx.client.last is not None and op is ctx.spec.create_operation:
            ctx.track(ctx.client.last, ctx.token)
        case.validate_response(response, headers=headers, transport_kwargs=transport)

    return run


def _fuzz(ctx: RunContext, name: str, mode: GenerationMode) -> None:
    schema = schemathesis_schema(ctx)
    headers = auth_headers(ctx.token)
    positive = mode is GenerationMode.POSITIVE
    if not ctx.config.read_only and not ctx.created:
        ctx.created_patient(name)  # something of our own for PATCH to change
    failures: list[RuleFailure] = []
    for op in ctx.spec.iter_operations(writes=not ctx.config.read_only):
        st_op = schema[op.path][op.method]
        strategy = st_op.as_strategy(generation_mode=mode, headers=headers)
        if op.has_path_id:
            # Reads may name any patient; writes only one this run created.
            target = ctx.sample_patient(name)["id"] if not op.writes else next(iter(ctx.created))
            pinned = st_op.as_strategy(generation_mode=mode, headers=headers, path_parameters={"id": target})
            strategy = st.one_of(strategy, pinned) if not op.writes else pinned
        seen: dict[str, Exchange | None] = {"last": None}
        test = given(case=strategy)(_sender(ctx, op, positive, headers, seen))
        test = hypothesis_settings(ctx, ctx.config.examples)(test)
        if ctx.config.seed is not None:
            test = hypothesis.seed(ctx.config.seed)(test)
        try:
            test()
        except FailureGroup as exc:
            failures.append(_failure(ctx, name, op, exc, seen["last"]))
    if failures:
        first = failures[0]
        if len(failures) > 1:
            others = "; ".join(f.expected.rsplit(" on ", 1)[-1] + f" ({f.actual[:80]})" for f in failures[1:])
            first.detail += f"; also failing: {others}"
        raise first


@rule("schema.positive", "valid generated requests on every operation pass all schemathesis checks")
def positive_data(ctx: RunContext) -> None:
    _fuzz(ctx, "schema.positive", GenerationMode.POSITIVE)


@rule("schema.negative", "invalid generated requests on every operation are rejected, in the documented shapes")
def negative_data(ctx: RunContext) -> None:
    _fuzz(ctx, "schema.negative", GenerationMode.NEGATIVE)
