"""The start-up cache of large generated stores gives exactly the store it
would have built, and is ignored when stale, corrupt or not private."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import mockserver.store.snapshot as snapshot
from mockserver.settings import MockSettings
from mockserver.store.documents import export_state
from mockserver.store.memory_backend import MemoryBackend
from mockserver.web.app import build_backend as MockState
from tests.support import FIXTURES_DIR


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(snapshot.CACHE_ENV, str(folder))
    monkeypatch.setattr(snapshot, "SNAPSHOT_MIN_PATIENTS", 10)
    return folder


def settings(**changes: object) -> MockSettings:
    return MockSettings(fixtures_dir=FIXTURES_DIR, **{"generate": 40, **changes})  # type: ignore[arg-type]


def test_a_cached_store_is_the_store_it_would_build(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = MockState(settings())
    assert len(list(cache.iterdir())) == 1
    fresh = MockState(settings(snapshot=False))
    monkeypatch.setattr(MemoryBackend, "_build_fixture_store", lambda self: pytest.fail("rebuilt despite the snapshot"))
    loaded = MockState(settings())
    assert export_state(loaded.store) == export_state(built.store) == export_state(fresh.store)
    loaded.store.create_patient(1, {"first_name": "After", "last_name": "Load"})  # the lock came back


def test_other_settings_get_their_own_snapshot(cache: Path) -> None:
    MockState(settings())
    MockState(settings(seed=7))
    MockState(settings(generate=5))  # below the threshold: not cached
    assert len(list(cache.iterdir())) == 2


def test_a_corrupt_snapshot_is_rebuilt(cache: Path) -> None:
    expected = export_state(MockState(settings()).store)
    [file] = cache.iterdir()
    file.write_bytes(b"not a pickle")
    assert export_state(MockState(settings()).store) == expected


def test_a_snapshot_others_can_write_is_never_loaded(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    MockState(settings())
    [file] = cache.iterdir()
    os.chmod(file, 0o666)
    monkeypatch.setattr(snapshot.pickle, "load", lambda *_: pytest.fail("unpickled a world-writable file"))
    assert MockState(settings()).store.count(1) > 40
