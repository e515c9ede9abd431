"""Stateful sequences: schemathesis walks the spec's links (create, read,
update, read back), and a hypothesis state machine over two accounts checks
that what was written is what is read, and that accounts never see each other.

The values written are ones every alternative of the spec's decisions keeps
as sent (no surrounding whitespace, E.164 phones, short text), and only the
fields an answer carries are compared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, run_state_machine_as_test
from hypothesis.stateful import rule as transition
from schemathesis.core.failures import FailureGroup

from .._exceptions import RuleFailure
from .._types import JsonObject
from ..context import RunContext
from ..registry import check
from ..transport import Exchange
from .schema import (
    VALID_PHONES,
    auth_headers,
    hypothesis_settings,
    is_phone_field,
    make_safe,
    schemathesis_schema,
    selected_checks,
)

__all__: list[str] = []

# Fields a server derives from others (region from the phone, display names) or keeps for itself.
_DERIVED = {"phone_country"}


def _seeded(ctx: RunContext, machine: Any) -> Any:
    """Apply the run's seed: hypothesis reads it off the state machine class."""
    machine._hypothesis_internal_use_seed = ctx.config.seed
    return machine


def _steps(ctx: RunContext) -> tuple[int, int]:
    """(scenarios, steps per scenario)."""
    return (3, 8) if ctx.config.quick else (max(4, ctx.config.examples // 4), 10)


@check("create → read → update → read back through the spec's links, every check", writes=True)
def links(ctx: RunContext) -> None:
    schema = schemathesis_schema(ctx)
    headers = auth_headers(ctx.token)
    kwargs = {"base_url": ctx.base_url, "session": ctx.client.session, "headers": headers}
    chosen = selected_checks(ctx)
    if not ctx.tracker.created:
        ctx.api.created()
    last: dict[str, Exchange | None] = {"exchange": None}
    update = ctx.facts.update_operation

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            make_safe(ctx, case, positive=True)
            if (
                case.method == update.method
                and case.path == update.path
                and not ctx.tracker.ours(case.path_parameters.get("id"))
            ):
                case.path_parameters = {**case.path_parameters, "id": next(iter(ctx.tracker.created))}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return kwargs

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            last["exchange"] = ctx.client.last
            if ctx.client.last is not None and case.method == "POST":
                ctx.tracker.track(ctx.client.last, ctx.token)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kw: Any) -> None:
            case.validate_response(response, headers=headers, transport_kwargs=kwargs, recorder=self.recorder, **chosen)

    scenarios, steps = _steps(ctx)
    settings = hypothesis_settings(ctx, scenarios, stateful_step_count=steps)
    try:
        run_state_machine_as_test(_seeded(ctx, Links), settings=settings)
    except FailureGroup as exc:
        first = exc.exceptions[0]
        raise RuleFailure(
            ctx.current,
            "every check to pass along linked operations",
            f"{getattr(first, 'title', type(first).__name__)}: "
            f"{' '.join(str(getattr(first, 'message', first)).split())[:300]}",
            last["exchange"],
        ) from None


def _field_strategies(ctx: RunContext) -> dict[str, st.SearchStrategy[Any]]:
    """Values for the writable fields that every alternative, and any stricter server the
    guide allows, stores as sent: a real phone in a phone field, dates in the past (a server
    may refuse a birthdate to come), a personal number as an ID card prints it (one may store
    it upper-cased), a doctor id the target already holds (one may check it exists)."""
    text = st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=24
    )
    out: dict[str, st.SearchStrategy[Any]] = {}
    for field in ctx.facts.writable:
        found = ctx.facts.field(field)
        decided = ctx.facts.field(field, decided=True)
        null = st.none() if found.nullable else st.nothing()
        if field in ("external_id", "phone_country", "is_active"):
            continue  # the tag; a derived value; archived by its own transition
        if is_phone_field(field):
            value: st.SearchStrategy[Any] = st.sampled_from(VALID_PHONES)
        elif field == "personal_no":
            value = st.from_regex(r"[A-Z0-9]{4,13}", fullmatch=True)
        elif field == "preferred_doctor_id":
            value = st.sampled_from(doctors) if (doctors := _doctor_ids(ctx)) else st.nothing()
        elif decided.enum or found.enum:
            value = st.sampled_from(list(decided.enum or found.enum or ()))
        elif found.format == "email":
            value = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True).map(lambda s: f"{s}@example.com")
        elif found.format == "date":
            value = st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)).map(dt.date.isoformat)
        elif found.type == "integer":
            value = st.integers(1, 2**31 - 1)
        else:
            value = text
        out[field] = value | null
    return out


def _doctor_ids(ctx: RunContext, reads: int = 10) -> list[int]:
    """The preferred doctors of the main account's first patients (read one by one: a
    list item need not show them)."""
    data, _ = ctx.expect.listing(ctx.api.list(per_page=reads))
    patients = [ctx.expect.patient(ctx.api.get(item["id"])) for item in data]
    return sorted({p["preferred_doctor_id"] for p in patients if type(p.get("preferred_doctor_id")) is int})


@check(
    "two accounts writing and reading: reads match writes, no cross-account view", needs=["other_token"], writes=True
)
def two_accounts(ctx: RunContext) -> None:
    assert ctx.config.other_token is not None
    tokens = (ctx.token, ctx.config.other_token)
    strategies = _field_strategies(ctx)
    required = ctx.facts.create_required
    expansion = ctx.facts.expansion_fields
    optional = st.fixed_dictionaries({}, optional={k: v for k, v in strategies.items() if k not in required})
    create_body = st.fixed_dictionaries({k: strategies[k] for k in required}).flatmap(
        lambda req: optional.map(lambda opt: {**opt, **req})
    )
    update_body = optional.flatmap(
        lambda opt: st.fixed_dictionaries({}, optional={k: strategies[k] for k in required}).map(
            lambda req: {**opt, **req}
        )
    )
    not_found = "404 with an error body, for the other account"

    def fail(expected: str, actual: Any, exchange: Exchange | None) -> None:
        raise RuleFailure(ctx.current, expected, actual if isinstance(actual, str) else repr(actual), exchange)

    def check_matches(
        model: JsonObject, got: JsonObject, exchange: Exchange, when: str, expanded: bool = False
    ) -> None:
        shown = {k: v for k, v in model.items() if k not in _DERIVED and k in got and (expanded or k not in expansion)}
        wrong = {k: (v, got.get(k)) for k, v in shown.items() if got.get(k) != v}
        if wrong:
            fail(f"{when}: every written field read back as written", f"(written, read) {wrong}", exchange)

    class TwoAccounts(RuleBasedStateMachine):
        active = Bundle("active")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[int, tuple[int, JsonObject]] = {}

        # A patient from the first step on, so each step of a short run can update, read or intrude.
        @initialize(target=active, owner=st.sampled_from([0, 1]), body=create_body)
        def first(self, owner: int, body: JsonObject) -> int:
            return self._new(owner, body)

        @transition(target=active, owner=st.sampled_from([0, 1]), body=create_body)
        def create(self, owner: int, body: JsonObject) -> int:
            return self._new(owner, body)

        def _new(self, owner: int, body: JsonObject) -> int:
            exchange = ctx.api.create(tokens[owner], **body)
            got = ctx.expect.patient(exchange, 201)
            tagged = exchange.sent_json()
            sent = {**body, "external_id": tagged.get("external_id") if isinstance(tagged, dict) else None}
            check_matches(sent, got, exchange, "POST answer")
            self.model[got["id"]] = (owner, {**sent, "is_active": True})
            return int(got["id"])

        @transition(pid=active, body=update_body)
        def update(self, pid: int, body: JsonObject) -> None:
            owner, stored = self.model[pid]
            if not stored["is_active"]:
                return
            exchange = ctx.api.patch(pid, body, tokens[owner])
            got = ctx.expect.patient(exchange)
            stored.update(body)
            check_matches(stored, got, exchange, "PATCH answer")
            exchange = ctx.api.get(pid, tokens[owner], fields=expansion)
            check_matches(stored, ctx.expect.patient(exchange), exchange, "GET after PATCH", expanded=True)

        @transition(pid=active)
        def archive(self, pid: int) -> None:
            owner, stored = self.model[pid]
            if stored["is_active"]:
                ctx.expect.patient(ctx.api.patch(pid, {"is_active": False}, tokens[owner]))
                stored["is_active"] = False

        @transition(pid=active)
        def read(self, pid: int) -> None:
            owner, stored = self.model[pid]
            if stored["is_active"]:  # an archived patient by id is a decision (decided.archived_by_id)
                exchange = ctx.api.get(pid, tokens[owner], fields=expansion)
                check_matches(stored, ctx.expect.patient(exchange), exchange, "GET by the owner", expanded=True)

        @transition(pid=active, body=update_body)
        def intrude(self, pid: int, body: JsonObject) -> None:
            owner, _ = self.model[pid]
            other = tokens[1 - owner]
            for exchange in (ctx.api.get(pid, other), ctx.api.patch(pid, body, other)):
                if exchange.status != 404:
                    fail(not_found, exchange.describe_response(), exchange)
                ctx.expect.error_body(exchange, "the other account's patient")

        @transition(pid=active)
        def listed(self, pid: int) -> None:
            owner, stored = self.model[pid]
            tag = stored["external_id"]
            for who, want in ((owner, [pid]), (1 - owner, [])):
                exchange = ctx.api.list(tokens[who], external_id=tag, is_active=stored["is_active"])
                data, _ = ctx.expect.listing(exchange)
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
