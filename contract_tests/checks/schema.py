"""Schema conformance with schemathesis: positive and negative data on every
operation, sent through the run's client (bounded, retried past the edge).

Default mode holds the target to the guide's contract (the spec as written)
with the checks the guide supports: no server error, documented statuses,
content types, headers and response shapes, auth enforced. Whether a request
the guide never speaks of is refused (negative data) or accepted (positive
data a business rule may refuse) is the kit's business: `--strict` holds the
target to the decided document with every check.

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
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from dentare_spec import Operation

from .._exceptions import RuleFailure
from ..context import RunContext
from ..registry import check
from ..transport import Exchange

__all__ = [
    "example_database",
    "hypothesis_settings",
    "is_phone_field",
    "make_safe",
    "schemathesis_schema",
    "selected_checks",
]

VALID_PHONES = ["+355691234567", "+38970123456", "+38344123456"]


def is_phone_field(name: str) -> bool:
    """`phone`, and a field such as `emergency_contact_phone` a server may validate as one."""
    return name == "phone" or name.endswith("_phone")


_VALID_REGIONS = ["AL", "MK", "XK", "al", "mk"]
#: What the guide supports against any correct target.
_GUIDE_CHECKS = (
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
)
#: Never run: these send probes on a session of their own (schemathesis drops the run's),
#: past --max-requests, --rate and the edge retries, so one platform 429 failed the fuzzers.
#: Auth on every operation is the auth checks', other accounts the scoping checks'.
_OUTSIDE_THE_CLIENT = (openapi_checks.ignored_auth, openapi_checks.object_level_authorization)


def schemathesis_schema(ctx: RunContext) -> Any:
    """The document schemathesis checks against, built once per run: the
    guide's contract, or with --strict the profile's decided document."""
    if "st_schema" not in ctx.cache:
        document = ctx.facts.decided.document if ctx.config.strict else ctx.facts.guide.written
        schema = schemathesis.openapi.from_dict(dict(document), config=schemathesis.Config())
        # Auth is ours to send (the auth checks test its absence); the state machine walks valid data.
        schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
        ctx.cache["st_schema"] = schema
    return ctx.cache["st_schema"]


def selected_checks(ctx: RunContext) -> dict[str, Any]:
    """`validate_response` arguments: the guide's checks, or every check under --strict."""
    if not ctx.config.strict:
        return {"checks": list(_GUIDE_CHECKS)}
    excluded = list(_OUTSIDE_THE_CLIENT)
    if ctx.expected("unsupported_methods") != "method_not_allowed":
        excluded += [openapi_checks.unsupported_method, openapi_checks.allow_header_conformance]
    return {"excluded_checks": excluded}


def example_database(ctx: RunContext) -> Any:
    """Where hypothesis keeps the examples it found failing: --example-db (a
    folder or redis://), else a per-user cache folder; never the caller's cwd."""
    return ctx.cache["example_db"]


def hypothesis_settings(ctx: RunContext, max_examples: int, **extra: Any) -> hypothesis.settings:
    """No deadline, no shrinking, no health checks: bounded and quick."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=example_database(ctx),
        derandomize=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        **extra,
    )


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_safe(ctx: RunContext, case: Any, positive: bool) -> None:
    """Tag creates, keep PATCHes on this run's patients, make positive bodies truly valid."""
    op = ctx.facts.guide.operation_at(case.method, case.path)
    body = case.body if isinstance(case.body, dict) else None
    is_create = op is not None and op.operation_id == ctx.facts.create_operation.operation_id
    if body is None or not positive:
        if is_create and body is not None and "external_id" not in body:
            case.body = {**body, "external_id": ctx.tracker.new_tag()}
        return
    fixed = dict(body)
    if is_create or "external_id" in fixed:
        fixed["external_id"] = ctx.tracker.new_tag()
    if fixed.get("phone") is not None:
        fixed["phone"] = random.choice(VALID_PHONES)
    if fixed.get("phone_country") is not None:
        fixed["phone_country"] = random.choice(_VALID_REGIONS)
    case.body = fixed


def _failure(name: str, op: Operation, exc: FailureGroup, exchange: Exchange | None) -> RuleFailure:
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
    """The body of one hypothesis test: make the case safe, send it, run the checks."""
    transport = {"base_url": ctx.base_url, "session": ctx.client.session, "headers": headers}
    chosen = selected_checks(ctx)

    def run(case: Any) -> None:
        if not positive and _empty_on_the_wire(case):
            hypothesis.reject()
        make_safe(ctx, case, positive)
        response = case.call(base_url=ctx.base_url, session=ctx.client.session, headers=headers)
        seen["last"] = ctx.client.last
        if ctx.client.last is not None and op.operation_id == ctx.facts.create_operation.operation_id:
            ctx.tracker.track(ctx.client.last, ctx.token)
        case.validate_response(response, headers=headers, transport_kwargs=transport, **chosen)

    return run


def _fuzz(ctx: RunContext, mode: GenerationMode) -> None:
    schema = schemathesis_schema(ctx)
    headers = auth_headers(ctx.token)
    positive = mode is GenerationMode.POSITIVE
    if not ctx.config.read_only and not ctx.tracker.created:
        ctx.api.created()  # something of our own for PATCH to change
    failures: list[RuleFailure] = []
    for op in ctx.facts.guide.iter_operations(writes=not ctx.config.read_only):
        st_op = schema[op.path][op.method]
        strategy = st_op.as_strategy(generation_mode=mode, headers=headers)
        if "{id}" in op.path:
            # Reads may name any patient; writes only one this run created.
            target = ctx.api.sample()["id"] if not op.writes else next(iter(ctx.tracker.created))
            pinned = st_op.as_strategy(generation_mode=mode, headers=headers, path_parameters={"id": target})
            strategy = st.one_of(strategy, pinned) if not op.writes else pinned
        seen: dict[str, Exchange | None] = {"last": None}
        test = given(case=strategy)(_sender(ctx, op, positive, headers, seen))
        test = hypothesis_settings(ctx, ctx.config.examples)(test)
        # The run's seed, as @seed sets it (@seed itself would also turn the example database off), and one
        # key per check and operation in that database (the sender's code is the same for all): a failure one
        # runner found is replayed first by every runner sharing --example-db.
        internals: Any = test  # hypothesis's own attributes, which it reads from the test function
        internals._hypothesis_internal_use_seed = ctx.config.seed
        internals._hypothesis_internal_database_key = f"dentare-contract {ctx.current} {op.label}".encode()
        try:
            test()
        except FailureGroup as exc:
            failures.append(_failure(ctx.current, op, exc, seen["last"]))
        except hypothesis.errors.Unsatisfiable:
            # Nothing of this operation can be made invalid (a profile left it no parameter to break).
            continue
    if failures:
        first = failures[0]
        if len(failures) > 1:
            others = "; ".join(f.expected.rsplit(" on ", 1)[-1] + f" ({f.actual[:80]})" for f in failures[1:])
            first.detail += f"; also failing: {others}"
        raise first


@check("valid generated requests on every operation: no server error, answers as documented")
def positive(ctx: RunContext) -> None:
    _fuzz(ctx, GenerationMode.POSITIVE)


@check("invalid generated requests on every operation: no server error, errors as documented")
def negative(ctx: RunContext) -> None:
    _fuzz(ctx, GenerationMode.NEGATIVE)
