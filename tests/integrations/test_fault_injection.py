"""Fault and latency injection (mockserver/web/faults.py) through the real CLI:
off by default, per-request headers when on, seeded random faults, edge-style
answers, dropped connections, and never on /__mock."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import spawn_mock

ROOT = Path(__file__).resolve().parents[2]


def new_token(root: str) -> dict[str, str]:
    account_id = httpx.get(f"{root}/__mock/accounts").json()["data"][0]["id"]
    created = httpx.post(f"{root}/__mock/accounts/{account_id}/tokens", json={"name": "retry tests"})
    return {"Authorization": f"Bearer {created.json()['token']}"}


def outcome(client: httpx.Client, url: str, **headers: str) -> str:
    try:
        return str(client.get(url, headers=headers).status_code)
    except httpx.RemoteProtocolError:
        return "drop"


@pytest.fixture(scope="module")
def faulty_mock() -> Iterator[Any]:
    with spawn_mock("--faults") as mock:
        yield mock


def test_a_plain_mock_ignores_fault_headers(mock_server: Any) -> None:
    auth = new_token(mock_server.root_url)
    started = time.monotonic()
    for fault in ("429", "503", "drop"):
        response = httpx.get(
            f"{mock_server.base_url}/me.json", headers={**auth, "X-Mock-Fault": fault, "X-Mock-Latency-Ms": "2000"}
        )
        assert response.status_code == 200
    assert time.monotonic() - started < 2, "no latency was added"


@pytest.mark.parametrize(("fault", "retry_after"), [("429", "1"), ("503", "1"), ("502", None), ("504", None)])
def test_edge_faults_are_html_pages_with_retry_after(faulty_mock: Any, fault: str, retry_after: str | None) -> None:
    auth = new_token(faulty_mock.root_url)
    response = httpx.get(f"{faulty_mock.base_url}/patients", headers={**auth, "X-Mock-Fault": fault})
    assert response.status_code == int(fault)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<title>{fault} " in response.text
    assert response.headers.get("retry-after") == retry_after


def test_retry_after_can_be_chosen_per_request(faulty_mock: Any) -> None:
    response = httpx.get(f"{faulty_mock.base_url}/me.json", headers={"X-Mock-Fault": "429", "X-Mock-Retry-After": "7"})
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")


def test_500_is_the_api_failing_in_its_own_shape(faulty_mock: Any) -> None:
    response = httpx.get(f"{faulty_mock.base_url}/me.json", headers={"X-Mock-Fault": "500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Internal Server Error"}


def test_drop_closes_the_connection_without_an_answer(faulty_mock: Any) -> None:
    auth = new_token(faulty_mock.root_url)
    with httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{faulty_mock.base_url}/me.json", headers={**auth, "X-Mock-Fault": "drop"})
        assert client.get(f"{faulty_mock.base_url}/me.json", headers=auth).status_code == 200, "the retry works"


def test_latency_header_delays_the_answer(faulty_mock: Any) -> None:
    auth = new_token(faulty_mock.root_url)
    started = time.monotonic()
    response = httpx.get(f"{faulty_mock.base_url}/me.json", headers={**auth, "X-Mock-Latency-Ms": "400"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


@pytest.mark.parametrize("path", ["/__mock/accounts", "/__mock/tokens"])
def test_the_control_api_never_misbehaves(faulty_mock: Any, path: str) -> None:
    for fault in ("429", "503", "drop"):
        response = httpx.get(f"{faulty_mock.root_url}{path}", headers={"X-Mock-Fault": fault})
        assert response.status_code == 200


def test_an_unknown_fault_is_a_400_naming_the_choices(faulty_mock: Any) -> None:
    response = httpx.get(f"{faulty_mock.base_url}/me.json", headers={"X-Mock-Fault": "teapot"})
    assert response.status_code == 400
    assert "429, 500, 502, 503, 504, drop" in response.json()["error"]


@pytest.mark.parametrize("header", ["X-Mock-Latency-Ms", "X-Mock-Retry-After"])
@pytest.mark.parametrize("value", ["9" * 5000, "-1", "1.5", "١", "60001" + "0" * 20])
def test_a_fault_header_number_of_any_length_is_a_400(faulty_mock: Any, header: str, value: str) -> None:
    response = httpx.get(f"{faulty_mock.base_url}/me.json", headers={header: value.encode()})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error.startswith(f"{header}: expected a whole number from 0 to ")
    assert len(error) < 200, "the value is not echoed whole"


def test_each_injected_fault_is_logged() -> None:
    with spawn_mock("--faults") as mock:
        for fault in ("429", "502", "drop"):
            outcome(httpx.Client(), f"{mock.base_url}/me.json", **{"X-Mock-Fault": fault})
        httpx.get(f"{mock.root_url}/__mock/accounts")
    log = mock.output()
    assert "fault injection ON" in log
    lines = [line for line in log.splitlines() if "fault injected" in line]
    assert [line.split("(header): ")[1] for line in lines] == [
        "429 on GET /api/v1/me.json",
        "502 on GET /api/v1/me.json",
        "drop on GET /api/v1/me.json",
    ]


def random_outcomes(*args: str, count: int = 60) -> list[str]:
    with spawn_mock(*args) as mock, httpx.Client() as client:
        auth = new_token(mock.root_url)
        assert all(httpx.get(f"{mock.root_url}/__mock/accounts").status_code == 200 for _ in range(10)), (
            "random faults never hit /__mock (and do not use up draws)"
        )
        return [outcome(client, f"{mock.base_url}/me.json", **auth) for _ in range(count)]


def test_random_faults_replay_with_the_same_seed() -> None:
    args = ("--fault-rate", "0.3", "--fault", "429,503,drop", "--fault-seed", "7")
    first = random_outcomes(*args)
    assert random_outcomes(*args) == first
    faults = [o for o in first if o != "200"]
    assert set(faults) <= {"429", "503", "drop"}
    assert 5 <= len(faults) <= 35, f"{len(faults)} faults in 60 requests at rate 0.3"
    assert random_outcomes("--fault-rate", "0.3", "--fault", "429,503,drop", "--fault-seed", "8") != first


def test_rate_one_faults_every_api_request() -> None:
    assert set(random_outcomes("--fault-rate", "1", "--fault", "502", count=10)) == {"502"}


def test_latency_option_applies_to_the_api_only() -> None:
    with spawn_mock("--latency-ms", "500") as mock:
        auth = new_token(mock.root_url)
        started = time.monotonic()
        assert httpx.get(f"{mock.base_url}/me.json", headers=auth).status_code == 200
        api_time = time.monotonic() - started
        started = time.monotonic()
        assert httpx.get(f"{mock.root_url}/__mock/accounts").status_code == 200
        control_time = time.monotonic() - started
    assert api_time >= 0.5
    assert control_time < 0.4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-rate", "1.5"], "--fault-rate must be between 0 and 1"),
        (["--fault-rate", "0.1", "--fault", "429,teapot"], "unknown fault teapot"),
        (["--latency-ms", "-5"], "--latency-ms must be between 0 and 60000"),
    ],
)
def test_bad_fault_options_exit_2(args: list[str], message: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert message in run.stderr
