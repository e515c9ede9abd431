"""Stateful sequences: schemathesis walks the spec's links (create, read,
update, read back), and a hypothesis state machine over two accounts checks
that what was written is what is read, and that accounts never see each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, run_state_machine_as_test
from hypothesis.stateful import rule as transition
from schemathesis.core.failures import FailureGroup

from .._exceptions import RuleFailure
from ..client import Exchange
from ..context import RunContext
from ..registry import needs, rule, writes
from ..types import JsonObject
from .schema import _VALID_PHONES, auth_headers, hypothesis_settings, make_safe, schemathesis_schema

__all__: list[str] = []

# Fields stored exactly as sent (the rest are derived: phone_country, phone_e164, display_*).
_DERIVED = {"phone_country"}


def _seeded(ctx: RunContext, machine: Any) -> Any:
    """Apply --seed: hypothesis reads it off the state machine class."""
    if ctx.config.seed is not None:
        machine._hypothesis_internal_use_seed = ctx.config.seed
    return machine


def _steps(ctx: RunContext) -> tuple[int, int]:
    """(scenarios, steps per scenario)."""
    return (2, 5) if ctx.config.quick else (max(3, ctx.config.examples // 4), 8)


@rule("stateful.links", "create → read → update → read back through the spec's links, all checks")
@writes
def links(ctx: RunContext) -> None:
    name = "stateful.links"
    schema = schemathesis_schema(ctx)
    headers = auth_headers(ctx.token)
    kwargs = {"base_url": ctx.base_url, "session": ctx.client.session, "headers": headers}
    if not ctx.created:
        ctx.created_patient(name)
    last: dict[str, Exchange | None] = {"exchange": None}

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            make_safe(ctx, case, positive=True)
            is_update = ctx.spec.operation(case.method, case.path) is ctx.spec.update_operation
            if is_update and case.path_parameters.get("id") not in ctx.created:
                case.path_parameters = {**case.path_parameters, "id": next(iter(ctx.created))}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return kwargs

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            last["exchange"] = ctx.client.last
            if ctx.client.last is not None and case.method == "POST":
                ctx.track(ctx.client.last, ctx.token)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kw: Any) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=headers,
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    scenarios, steps = _steps(ctx)
    settings = hypothesis_settings(ctx, scenarios, stateful_step_count=steps)
    try:
        run_state_machine_as_test(_seeded(ctx, Links), settings=settings)
    except FailureGroup as exc:
        first = exc.exceptions[0]
        raise RuleFailure(
            name,
            "every check to pass along linked operations",
            f"{getattr(first, 'title', type(first).__name__)}: "
            f"{' '.join(str(getattr(first, 'message', first)).split())[:300]}",
            last["exchange"],
        ) from None


def _field_strategies(ctx: RunContext) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values for the writable fields, built from their schemas."""
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=24)
    out: dict[str, st.SearchStrategy[Any]] = {}
    for field in ctx.spec.writable:
        schema = ctx.spec.field_schema(field)
        null = st.none() if schema["nullable"] else st.nothing()
        if field in ("external_id", "phone_country"):
            continue  # the tag, and a derived value
        if field == "phone":
            value: st.SearchStrategy[Any] = st.sampled_from(_VALID_PHONES)
        elif "enum" in schema:
            value = st.sampled_from(schema["enum"])
        elif schema.get("format") == "email":
            value = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True).map(lambda s: f"{s}@example.com")
        elif schema.get("format") == "date":
            value = st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
        elif schema.get("type") == "integer":
            value = st.integers(int(schema.get("minimum", 1)), int(schema.get("maximum", 2**31 - 1)))
        elif schema.get("type") == "boolean":
            continue  # is_active: archived by its own transition
        elif schema.get("minLength"):
            value = text.filter(lambda s: s.strip() != "")
        else:
            value = text
        out[field] = value | null
    return out


@rule("stateful.two_accounts", "two accounts writing and reading: reads match writes, no cross-account view")
@writes
@needs("other_token")
def two_accounts(ctx: RunContext) -> None:
    name = "stateful.two_accounts"
    assert ctx.config.other_token is not None
    tokens = (ctx.token, ctx.config.other_token)
    strategies = _field_strategies(ctx)
    required = ctx.spec.create_required
    expansion = ctx.spec.expansion_fields
    optional = st.fixed_dictionaries({}, optional={k: v for k, v in strategies.items() if k not in required})
    create_body = st.fixed_dictionaries({k: strategies[k] for k in required}).flatmap(
        lambda req: optional.map(lambda opt: {**opt, **req})
    )
    update_body = optional.flatmap(
        lambda opt: st.fixed_dictionaries({}, optional={k: strategies[k] for k in required}).map(
            lambda req: {**opt, **req}
        )
    )

    def fail(expected: str, actual: Any, exchange: Exchange | None) -> None:
        raise RuleFailure(name, expected, actual if isinstance(actual, str) else repr(actual), exchange)

    def check_matches(
        model: JsonObject, got: JsonObject, exchange: Exchange, when: str, expanded: bool = False
    ) -> None:
        shown = {k: v for k, v in model.items() if k not in _DERIVED and (expanded or k not in expansion)}
        wrong = {k: (v, got.get(k)) for k, v in shown.items() if got.get(k) != v}
        if wrong:
            fail(f"{when}: every written field read back as written", f"(written, read) {wrong}", exchange)

    class TwoAccounts(RuleBasedStateMachine):
        patients = Bundle("patients")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[int, tuple[int, JsonObject]] = {}

        @transition(target=patients, owner=st.sampled_from([0, 1]), body=create_body)
        def create(self, owner: int, body: JsonObject) -> int:
            exchange = ctx.create_patient(tokens[owner], **body)
            got = ctx.expect_patient(name, exchange, 201)
            sent = {**body, "external_id": got.get("external_id")}
            check_matches(sent, got, exchange, "POST answer")
            self.model[got["id"]] = (owner, {**sent, "is_active": got.get("is_active", True)})
            return int(got["id"])

        @transition(pid=patients, body=update_body)
        def update(self, pid: int, body: JsonObject) -> None:
            owner, stored = self.model[pid]
            exchange = ctx.patch_patient(pid, body, tokens[owner])
            got = ctx.expect_patient(name, exchange)
            stored.update(body)
            check_matches(stored, got, exchange, "PATCH answer")
            exchange = ctx.get_patient(pid, tokens[owner], fields=expansion)
            check_matches(stored, ctx.expect_patient(name, exchange), exchange, "GET after PATCH", expanded=True)

        @transition(pid=patients, active=st.booleans())
        def set_active(self, pid: int, active: bool) -> None:
            owner, stored = self.model[pid]
            ctx.expect_patient(name, ctx.patch_patient(pid, {"is_active": active}, tokens[owner]))
            stored["is_active"] = active

        @transition(pid=patients)
        def read(self, pid: int) -> None:
            owner, stored = self.model[pid]
            exchange = ctx.get_patient(pid, tokens[owner], fields=expansion)
            check_matches(stored, ctx.expect_patient(name, exchange), exchange, "GET by the owner", expanded=True)

        @transition(pid=patients, body=update_body)
        def intrude(self, pid: int, body: JsonObject) -> None:
            owner, _ = self.model[pid]
            other = tokens[1 - owner]
            for exchange in (ctx.get_patient(pid, other), ctx.patch_patient(pid, body, other)):
                if exchange.status != 404 or exchange.json() != ctx.spec.error_bodies[404]:
                    fail(
                        f"404 {ctx.spec.error_bodies[404]} for the other account",
                        exchange.describe_response(),
                        exchange,
                    )

        @transition(pid=patients)
        def listed(self, pid: int) -> None:
            owner, stored = self.model[pid]
            tag = stored["external_id"]
            for who, want in ((owner, [pid]), (1 - owner, [])):
                exchange = ctx.list_patients(tokens[who], external_id=tag, is_active=stored["is_active"])
                data, _ = ctx.expect_list(name, exchange)
                ids = [item.get("id") for item in data]
                if ids != want:
                    fail(
                        f"exactly {want} listed by {'the owner' if who == owner else 'the other account'}",
                        f"ids {ids}",
                        exchange,
                    )

    scenarios, steps = _steps(ctx)
    settings = hypothesis_settings(ctx, scenarios, stateful_step_count=steps)
    run_state_machine_as_test(_seeded(ctx, TwoAccounts), settings=settings)
