"""Unit tests of the suite's own parts: spec facts, the client's bounds and
masking, failures, the rule registry, and the public surface."""

from __future__ import annotations

import pytest

import contract_tests
from contract_tests import BudgetExceeded, Client, Exchange, RuleFailure, load_spec, select_rules
from contract_tests import client as client_module
from contract_tests.context import RunConfig, RunContext, api_base_url
from contract_tests.rules.validation import invalid_values


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return load_spec()


def test_public_surface_is_complete() -> None:
    for name in contract_tests.__all__:
        assert hasattr(contract_tests, name), name
    public = {n for n in vars(contract_tests) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(contract_tests, n)).__name__ == "module"}
    assert public - modules == set(contract_tests.__all__)


def test_facts_come_from_the_spec(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.per_page == (1, 20, 100)
    assert spec.create_required == ["first_name", "last_name"]
    assert "allergies" in spec.expansion_fields and len(spec.expansion_fields) == 14
    assert spec.error_bodies == {401: {"error": "Unauthorized"}, 404: {"error": "Not Found"}}
    assert spec.unauthorized_header == ("WWW-Authenticate", "Bearer")
    assert spec.base_path == "/api/v1"
    assert {"id", "legacy_id", "created_at"} <= set(spec.read_only_fields)
    assert spec.methods_for("/patients/{id}") == {"GET", "PATCH"}


def test_a_bare_origin_gets_the_spec_base_path(spec) -> None:  # type: ignore[no-untyped-def]
    assert api_base_url("http://127.0.0.1:8000", spec) == "http://127.0.0.1:8000/api/v1"
    assert api_base_url("https://dentare.io/api/v1/", spec) == "https://dentare.io/api/v1"


def test_invalid_values_cover_each_declared_constraint(spec) -> None:  # type: ignore[no-untyped-def]
    ctx = RunContext(RunConfig(base_url="http://127.0.0.1:9", token="t"), spec)
    classes = {field: [what for what, _ in invalid_values(ctx, field)] for field in spec.writable}
    assert any("enum" in c for c in classes["gender"])
    assert any("date" in c for c in classes["birthdate"])
    assert any("email" in c for c in classes["email"])
    assert any("maximum" in c for c in classes["preferred_doctor_id"])
    assert any("null" in c for c in classes["first_name"]) and any("pattern" in c for c in classes["first_name"])
    assert all(classes.values())


def test_budget_and_rate_are_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", waits.append)
    client = Client("http://127.0.0.1:9", secrets={}, max_requests=3, rate=10)
    for _ in range(3):
        client._admit()
    assert len(waits) == 2 and all(0.05 < w <= 0.2 for w in waits)
    with pytest.raises(BudgetExceeded, match="budget of 3"):
        client._admit()


def test_failures_carry_a_masked_curl() -> None:
    secret = "dnt_live_0123456789abcdef"
    exchange = Exchange(
        "GET",
        "http://h/api/v1/patients",
        {"Authorization": f"Bearer {secret}"},
        None,
        200,
        {},
        b'{"data": []}',
        secrets={"DENTARE_TOKEN": secret},
    )
    failure = RuleFailure("pagination.default_page_size", "20 patients", "0 patients", exchange)
    text = str(failure)
    assert isinstance(failure, AssertionError)
    assert "rule:     pagination.default_page_size" in text and "expected: 20 patients" in text
    assert "curl -X GET" in text and secret not in text
    assert '-H "Authorization: Bearer ${DENTARE_TOKEN}"' in text  # runnable once the variable is set
    near = Exchange(
        "GET",
        "http://h/",
        {"Authorization": f"Bearer {secret[:-1]}Z"},
        None,
        401,
        {},
        b"",
        secrets={"DENTARE_TOKEN": secret},
    )
    assert secret[:-1] not in near.as_curl()


def test_rules_are_registered_once_and_selectable() -> None:
    names = [r.name for r in select_rules(None)]
    assert len(names) == len(set(names))
    assert {n.split(".")[0] for n in names} == {
        "auth",
        "pagination",
        "scoping",
        "validation",
        "business",
        "schema",
        "stateful",
    }
    assert [r.name for r in select_rules(["auth.*"])] == [n for n in names if n.startswith("auth.")]
    assert select_rules(["scoping"]) == select_rules(["scoping.*"])


def test_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENTARE_TOKEN", "a")
    monkeypatch.setenv("DENTARE_OTHER_TOKEN", "b")
    config = RunConfig.from_options(base_url="http://x")
    assert (config.token, config.other_token, config.revoked_token) == ("a", "b", None)
