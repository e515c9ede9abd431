"""The backend's write path with a state file, in-process: a change is recorded
before it is applied, a refused one changes nothing, concurrent writes and a
cancelled request keep memory and file the same; reset keeps every token."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from mockserver import NotSaved, TokenRefused
from mockserver.settings import MockSettings
from mockserver.store.memory_backend import MemoryBackend
from mockserver.store.state_file import Change, StateFile
from mockserver.web.app import build_backend
from tests.support import FIXTURES_DIR, acting_as, load_tokens

TOKENS = load_tokens()


def backend(state_file: Path | None = None) -> MemoryBackend:
    return build_backend(MockSettings(fixtures_dir=FIXTURES_DIR, state_file=state_file))


def on_disk(path: Path) -> dict[str, Any]:
    """What a new start would load from the file."""
    state_file = StateFile.open(path)
    try:
        document = state_file.load()
    finally:
        state_file.close()
    assert document is not None
    return document


def test_a_refused_write_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = backend(tmp_path / "state.db")
    before = asyncio.run(b.export())

    def full(self: StateFile, change: Change) -> None:
        raise NotSaved("No space left on device")

    monkeypatch.setattr(StateFile, "write", full)
    patient = next(iter(b.store.patients(1)))
    with pytest.raises(NotSaved):
        asyncio.run(b.create_patient(acting_as(1), {"first_name": "A", "last_name": "B", "is_active": True}))
    with pytest.raises(NotSaved):
        asyncio.run(b.update_patient(acting_as(1), patient.id, {"last_name": "Changed"}))
    with pytest.raises(NotSaved):
        asyncio.run(b.revoke_token(1))
    with pytest.raises(NotSaved):
        asyncio.run(b.reset())
    assert asyncio.run(b.export()) == before
    monkeypatch.undo()
    b.shutdown()
    assert b.save_error is not None and "4 changes could not be saved" in b.save_error
    assert on_disk(tmp_path / "state.db") == before


def test_concurrent_writes_reach_the_file_in_order(tmp_path: Path) -> None:
    b = backend(tmp_path / "state.db")
    first = next(iter(b.store.patients(1)))

    async def many() -> list[Any]:
        creates = [
            b.create_patient(acting_as(1), {"first_name": f"C{i}", "last_name": "X", "is_active": True})
            for i in range(40)
        ]
        patches = [b.update_patient(acting_as(1), first.id, {"last_name": f"P{i}"}) for i in range(20)]
        return await asyncio.gather(*creates, *patches)

    asyncio.run(many())
    memory = asyncio.run(b.export())
    b.shutdown()
    assert b.save_error is None
    assert on_disk(tmp_path / "state.db") == memory
    ids = [p["id"] for p in memory["patients"]]
    assert len(ids) == len(set(ids))


def test_a_cancelled_request_leaves_memory_and_file_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = backend(tmp_path / "state.db")
    real = StateFile.write

    def slow(self: StateFile, change: Change) -> None:
        import time

        time.sleep(0.3)
        real(self, change)

    monkeypatch.setattr(StateFile, "write", slow)

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(
            b.create_patient(acting_as(1), {"first_name": "Cut", "last_name": "Off", "is_active": True})
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.6)  # the shielded write finishes

    asyncio.run(cancel_midway())
    memory = asyncio.run(b.export())
    b.shutdown()
    assert on_disk(tmp_path / "state.db") == memory
    assert "Cut" in [p["first_name"] for p in memory["patients"]]


@pytest.mark.parametrize("with_file", [False, True], ids=["memory", "state-file"])
def test_reset_keeps_every_token(tmp_path: Path, with_file: bool) -> None:
    b = backend(tmp_path / "state.db" if with_file else None)
    fixture_live = asyncio.run(b.authenticate(TOKENS[1].live[1]))
    asyncio.run(b.revoke_token(fixture_live.token_id))
    created, secret = asyncio.run(b.create_token(2, "created before the reset"))
    revoked_new, revoked_secret = asyncio.run(b.create_token(2, "revoked before the reset"))
    asyncio.run(b.revoke_token(revoked_new.id))

    asyncio.run(b.reset())

    assert asyncio.run(b.authenticate(secret)).token_id == created.id
    for refused in (TOKENS[1].live[1], revoked_secret, *TOKENS[1].revoked):
        with pytest.raises(TokenRefused):
            asyncio.run(b.authenticate(refused))
    assert asyncio.run(b.authenticate(TOKENS[1].token)).account_id == 1
    ids = [t.id for t in b.store.tokens()]
    assert len(ids) == len(set(ids))
    if with_file:
        b.shutdown()
        again = backend(tmp_path / "state.db")
        assert asyncio.run(again.authenticate(secret)).token_id == created.id
        with pytest.raises(TokenRefused):
            asyncio.run(again.authenticate(TOKENS[1].live[1]))
        again.shutdown()
