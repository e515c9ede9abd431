from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import RunningMock
from tests.spec_check import SpecCheckedClient


@pytest.fixture(params=["memory", "postgresql"])
def reset_mock(request: pytest.FixtureRequest) -> RunningMock:
    """The mock on each store, freshly reset: every test here runs against both."""
    mock: RunningMock = request.getfixturevalue("mock_server" if request.param == "memory" else "pg_mock_server")
    mock.reset()
    return mock


@pytest.fixture
def api(reset_mock, tokens) -> Iterator[Callable[..., SpecCheckedClient]]:
    """A factory of spec-checked clients on a freshly reset mock: api(account=1)."""
    clients: list[SpecCheckedClient] = []

    def make(account: int | None = 1, token: str | None = None) -> SpecCheckedClient:
        chosen = token if token is not None else (tokens[account].token if account else None)
        client = SpecCheckedClient(reset_mock.base_url, chosen)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
