"""A mock on a real port for the reliability tests, served from a two-account
state of their own (tests/support/reliability.py), so that ids, tokens and
the other clinic's patients are known without depending on fixture data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningMock, spawn_mock
from tests.support.reliability import two_accounts_document


@pytest.fixture(scope="session")
def reliability_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reliability-fixtures")
    document = two_accounts_document()
    (folder / "accounts.json").write_text(json.dumps({"accounts": document["accounts"]}))
    (folder / "patients.json").write_text(json.dumps({"patients": document["patients"]}))
    return folder


@pytest.fixture(scope="session")
def rmock(reliability_fixtures: Path) -> Iterator[RunningMock]:
    with spawn_mock("--fixtures", str(reliability_fixtures)) as mock:
        yield mock


@pytest.fixture
def fresh_rmock(rmock: RunningMock) -> RunningMock:
    rmock.reset()
    return rmock
