"""Unit tests of the suite's own parts: spec facts, the client's bounds,
retries and masking, failures, the options table, the check registry, and
the public surface."""

from __future__ import annotations

import argparse

import pytest

import contract_tests
from contract_tests import BudgetExceeded, Client, Exchange, RuleFailure, load_facts, select_checks
from contract_tests import transport as transport_module
from contract_tests.checks.writes import invalid_values
from contract_tests.config import RunConfig
from contract_tests.context import RunContext, api_base_url
from contract_tests.options import OPTIONS, add_to_argparse, to_pytest_args
from contract_tests.registry import CHECKS


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return load_facts()


def test_public_surface_is_complete() -> None:
    for name in contract_tests.__all__:
        assert hasattr(contract_tests, name), name
    public = {n for n in vars(contract_tests) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(contract_tests, n)).__name__ == "module"}
    assert public - modules == set(contract_tests.__all__)


def test_facts_come_from_the_guides_contract(facts) -> None:  # type: ignore[no-untyped-def]
    assert facts.per_page == (1, 20, 100)
    assert facts.create_required == ["first_name", "last_name"]
    assert "allergies" in facts.expansion_fields and len(facts.expansion_fields) == 14
    assert facts.base_path == "/api/v1"
    assert {"id", "legacy_id", "created_at"} <= set(facts.read_only_fields)
    assert facts.methods_for("/patients/{id}") == {"GET", "PATCH"}
    assert facts.example_keys(facts.update_operation, "contact") == [
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "phone_e164",
        "updated_at",
    ]
    # The guide never states a length; the kit's decision does.
    assert facts.field("first_name").max_length is None and facts.field("first_name", decided=True).max_length == 255


def test_a_bare_origin_gets_the_spec_base_path(facts) -> None:  # type: ignore[no-untyped-def]
    root, note = api_base_url("http://127.0.0.1:8000", facts)
    assert root == "http://127.0.0.1:8000/api/v1" and "/api/v1 was added" in note
    assert api_base_url("https://dentare.io/api/v1/", facts) == ("https://dentare.io/api/v1", "")


def test_invalid_values_are_what_the_guide_calls_malformed(facts) -> None:  # type: ignore[no-untyped-def]
    ctx = RunContext(RunConfig(base_url="http://127.0.0.1:9", token="t"), facts)
    classes = {field: [what for what, _ in invalid_values(ctx, field)] for field in facts.writable}
    assert any("list" in c for c in classes["gender"])
    assert any("date" in c for c in classes["birthdate"])
    assert any("email" in c for c in classes["email"])
    assert any("null" in c for c in classes["first_name"]) and any("empty" in c for c in classes["first_name"])
    assert classes["preferred_doctor_id"] == []  # no range is the guide's (decided.value_ranges)
    assert not any("type" in c for cs in classes.values() for c in cs)  # decided.type_coercion


def test_budget_and_rate_are_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(transport_module.time, "sleep", waits.append)
    client = Client("http://127.0.0.1:9", secrets={}, max_requests=3, rate=10)
    for _ in range(3):
        client._admit()
    assert len(waits) == 2 and all(0.05 < w <= 0.2 for w in waits)
    with pytest.raises(BudgetExceeded, match="budget of 3"):
        client._admit()


def test_edge_retries_are_bounded_and_honour_retry_after() -> None:
    client = Client("http://127.0.0.1:9", secrets={}, max_retries=3, retry_seconds=5)
    assert client._retry_wait(0, "2") == 2
    assert client._retry_wait(1, None) == 1.0  # 0.5 * 2**1
    assert client._retry_wait(2, "999") is None  # over the run's retry budget (5 s): give up
    assert client._retry_wait(3, None) is None  # over --max-retries
    assert client.retries == 2 and client.retry_waited == 3


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
    assert "check:    pagination.default_page_size" in text and "expected: 20 patients" in text
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
    shouted = Exchange(
        "GET",
        "http://h/",
        {"Authorization": f"Bearer {secret.upper()}"},
        None,
        401,
        {},
        secret.upper().encode(),
        secrets={"DENTARE_TOKEN": secret},
    )
    assert secret.upper() not in shouted.as_curl() and secret.upper() not in shouted.describe_response()


def test_checks_are_registered_once_and_selectable() -> None:
    names = [c.name for c in select_checks(None)]
    assert len(names) == len(set(names)) == len(CHECKS)
    assert {n.split(".")[0] for n in names} == {
        "auth",
        "scoping",
        "pagination",
        "listing",
        "reads",
        "writes",
        "schema",
        "stateful",
        "decided",
    }
    assert [c.name for c in select_checks(["auth.*"])] == [n for n in names if n.startswith("auth.")]
    assert select_checks(["scoping"]) == select_checks(["scoping.*"])


def test_every_decision_point_has_one_probe(facts) -> None:  # type: ignore[no-untyped-def]
    probes = {c.point for c in select_checks(["decided"])}
    assert probes == {p.name for p in facts.decided.catalogue}


def test_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENTARE_TOKEN", "a")
    monkeypatch.setenv("DENTARE_OTHER_TOKEN", "b")
    config = RunConfig.from_options({"base_url": "http://x"})
    assert (config.token, config.other_token, config.revoked_token) == ("a", "b", None)


def test_credentials_in_the_base_url_are_refused_and_never_echoed() -> None:
    with pytest.raises(contract_tests.UsageError) as caught:
        RunConfig.from_options({"base_url": "https://alice:s3cret-pass@dentare.io/api/v1", "token": "t"})
    assert "s3cret-pass" not in str(caught.value) and "alice" not in str(caught.value)


def test_one_options_table_feeds_argparse_and_pytest() -> None:
    parser = argparse.ArgumentParser()
    add_to_argparse(parser)
    args = parser.parse_args(
        [
            "--base-url",
            "http://x",
            "--strict",
            "--rule",
            "auth",
            "--rule",
            "decided",
            "--max-retries",
            "5",
            "--token",
            "secret",
        ]
    )
    flags = list(to_pytest_args(vars(args)))
    assert flags == [
        "--base-url",
        "http://x",
        "--strict-decisions",
        "--max-retries",
        "5",
        "--rule",
        "auth",
        "--rule",
        "decided",
    ]
    assert "secret" not in flags  # tokens travel in the environment
    assert {o.dest for o in OPTIONS} <= set(vars(args))


def test_a_probe_that_cannot_read_an_answer_sees_none_of_the_alternatives() -> None:
    """A target's answer missing a key the probe reads: reported as none of the
    alternatives (a difference, never a failed default run or a traceback)."""
    from types import SimpleNamespace

    from contract_tests.registry import Check, Observed

    def reads_a_missing_key(ctx: object) -> Observed:
        return Observed("seen", str({}["external_id"]))

    probe = Check("decided.example", "a probe", reads_a_missing_key, point="example")
    seen = probe.observe(SimpleNamespace(client=SimpleNamespace(last=None)))  # type: ignore[arg-type]
    assert seen.alternative is None and "KeyError: 'external_id'" in seen.evidence
    working = Check("decided.example", "a probe", lambda ctx: Observed("seen", "fine"), point="example")
    assert working.observe(SimpleNamespace(client=SimpleNamespace(last=None))).alternative == "seen"  # type: ignore[arg-type]
