"""Bad input at every layer beside the API's own (test_bad_input.py): the HTTP
parser, CSV import cells and files, the control API's bodies, headers, hosts
and origins, and the validating proxy. One table per layer (cases_*.py, data
only), one test per table; every case gets its documented status and a JSON
body in the documented shape, never a 5xx, and a refused write leaves
GET /__mock/state exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.conftest import RunningMock

from ._support import (
    RunningProxy,
    assert_error_shape,
    assert_import_refused,
    control_state,
    raw_bytes,
    raw_request,
    spawn_proxy,
)
from .cases_control import CONTROL_CASES, ControlCase
from .cases_csv import CSV_CASES, CsvCase
from .cases_http import HTTP_CASES, HttpCase
from .cases_proxy import PROXY_CASES, ProxyCase

LAYERS = {"http": HTTP_CASES, "csv": CSV_CASES, "control": CONTROL_CASES, "proxy": PROXY_CASES}
#: The proxy cases that ran and count as an exchange in its summary.
COUNTED: list[str] = []


@pytest.fixture(scope="module")
def target(rmock: RunningMock) -> RunningMock:
    rmock.reset()
    return rmock


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pytest.fail(f"the answer is not JSON: {body[:200]!r}")


def _port_of(mock: RunningMock) -> str:
    return mock.root_url.rsplit(":", 1)[1]


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c.id for c in HTTP_CASES])
def test_http_layer(target: RunningMock, case: HttpCase) -> None:
    before = control_state(target.root_url) if case.writes and case.status >= 400 else None
    response = raw_bytes(target.root_url, case.data)
    assert response.status < 500
    assert response.status == case.status, response.body[:300]
    assert response.header("content-type") == "application/json"
    body = _json(response.body)
    if case.status >= 400:
        assert_error_shape(case.status, body)
        if case.error_prefix is not None:
            assert body["error"].startswith(case.error_prefix), body
    if case.status in (400, 431) and case.error_prefix in (
        "Bad Request: malformed HTTP request",
        "Request Header Fields Too Large",
    ):
        assert response.header("connection") == "close"
    if before is not None:
        assert control_state(target.root_url) == before, "a refused request changed the store"


@pytest.mark.parametrize("case", CSV_CASES, ids=[c.id for c in CSV_CASES])
def test_csv_layer(target: RunningMock, case: CsvCase) -> None:
    before = control_state(target.root_url)
    response = raw_request(
        target.root_url,
        "POST",
        f"/__mock/accounts/{case.account}/import",
        [("Content-Type", case.content_type)],
        case.data,
    )
    assert response.status < 500
    assert response.status == case.status, response.body[:500]
    assert response.header("content-type") == "application/json"
    body = _json(response.body)
    if case.status == 422:
        assert_import_refused(body)
        if case.errors is not None:
            assert body["rows"][0]["errors"] == case.errors, body
        if case.line is not None:
            assert body["rows"][0]["line"] == case.line, body
    elif case.status >= 400:
        assert_error_shape(case.status, body)
    if case.status >= 400:
        assert control_state(target.root_url) == before, "a refused import changed the store"


@pytest.mark.parametrize("case", CONTROL_CASES, ids=[c.id for c in CONTROL_CASES])
def test_control_layer(target: RunningMock, case: ControlCase) -> None:
    before = control_state(target.root_url)
    port = _port_of(target)
    headers = [(name, value.replace("{port}", port)) for name, value in case.headers]
    host = case.host if case.host is None or case.host == "default" else case.host.replace("{port}", port)
    kwargs: dict[str, Any] = {} if host == "default" else {"host": host}
    response = raw_request(target.root_url, case.method, case.path, headers, case.body, **kwargs)
    assert response.status < 500
    assert response.status == case.status, response.body[:500]
    assert response.header("content-type") == "application/json"
    body = _json(response.body)
    assert_error_shape(case.status, body)
    if case.errors is not None:
        assert body["errors"] == case.errors, body
    if case.error_prefix is not None:
        assert body["error"].startswith(case.error_prefix), body
    assert control_state(target.root_url) == before, "a refused control request changed the store"


@pytest.fixture(scope="module")
def proxy(target: RunningMock) -> Iterator[RunningProxy]:
    with spawn_proxy(target.root_url) as running:
        yield running


@pytest.mark.parametrize("case", PROXY_CASES, ids=[c.id for c in PROXY_CASES])
def test_proxy_layer(target: RunningMock, proxy: RunningProxy, case: ProxyCase) -> None:
    before = control_state(target.root_url) if case.status >= 400 else None
    if case.raw is not None:
        response = raw_bytes(proxy.root_url, case.raw)
    else:
        response = raw_request(proxy.root_url, case.method, case.target, case.headers, case.body)
    if case.counted:
        COUNTED.append(case.id)
    assert response.status < 500
    assert response.status == case.status, response.body[:300]
    assert response.header("content-type") == "application/json"
    body = _json(response.body)
    if case.status >= 400:
        assert_error_shape(case.status, body)
    if case.error_prefix is not None:
        assert body["error"].startswith(case.error_prefix), body
    if before is not None:
        assert control_state(target.root_url) == before, "a refused request changed the store"


def test_the_proxy_counted_every_exchange(proxy: RunningProxy) -> None:
    """Run after the proxy cases (this module's order): one exchange per request that reached
    the mock (those openapi-core could not read included) or that it refused with a violation."""
    output = proxy.stop()
    summary = next(line for line in output.splitlines() if line.startswith("dentare-mock proxy:"))
    assert summary.startswith(f"dentare-mock proxy: {len(COUNTED)} exchanges checked:"), summary
    assert "Traceback" not in output
    assert "0 upstream errors" in summary


def test_the_tables_are_large_enough() -> None:
    """Guards against a generator silently yielding nothing; the ids are unique."""
    for name, cases in LAYERS.items():
        assert len({c.id for c in cases}) == len(cases), name
    assert len(HTTP_CASES) >= 100
    assert len(CSV_CASES) >= 100
    assert len(CONTROL_CASES) >= 200
    assert len(PROXY_CASES) >= 100
