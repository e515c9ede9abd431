"""Kept answers (mockserver/api/answers.py) are never stale.

Each way the data can change is followed by the reads it changes, on an app
whose reads have just been kept; and a long random run of reads and writes
gets byte-identical answers from an app that keeps answers and one that does
not. Each runs on the memory backend as it is by default and with a state file
(`--state-file`: every write takes the durable path, planned, recorded, then
applied). The decision checks (test_decisions.py) run with answers kept as well.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dentare_spec import load_spec
from mockserver import MockSettings, create_app
from mockserver.api.answers import AnswerCache, Slot
from mockserver.store.memory_backend import MemoryBackend
from tests.support import FIXTURES_DIR, SPEC_PATH, load_tokens

TOKENS = load_tokens()
MARIA = 4821  # account 1
READS = (
    "/patients",
    "/patients?q=hoxha",
    "/patients?is_active=false",
    "/patients?per_page=5&page=2",
    "/patients?lang=mk",
    "/patients?email=maria@example.com",
    f"/patients/{MARIA}",
    f"/patients/{MARIA}?fields=allergies,vip,preferences",
    f"/patients/{MARIA}?lang=mk",
    "/me.json",
)


ADMIN_KEY = "answers-test"  # the test client is not a loopback client: the control API wants the key


def _app(answer_cache: bool = True, profile: dict[str, str] | None = None, state_file: Path | None = None) -> Starlette:
    settings = MockSettings(
        fixtures_dir=FIXTURES_DIR, answer_cache=answer_cache, admin_key=ADMIN_KEY, state_file=state_file
    )
    app = create_app(settings, spec=load_spec(SPEC_PATH, profile) if profile else None)
    assert (app.state.backend._state_file is not None) == (state_file is not None)  # the durable path or not
    return app


def _client(app: Starlette, token: str) -> TestClient:
    headers = {"Authorization": f"Bearer {token}", "X-Mock-Admin-Key": ADMIN_KEY}
    return TestClient(app, base_url="http://127.0.0.1/api/v1", headers=headers)


@pytest.fixture(params=["memory", "state-file"])
def state_file(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | None]:
    """None (writes change memory only) or a state file (every write durable first)."""
    yield tmp_path / "state.db" if request.param == "state-file" else None


@pytest.fixture
def app(state_file: Path | None) -> Iterator[Starlette]:
    app = _app(state_file=state_file)
    yield app
    app.state.backend.shutdown()


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with _client(app, TOKENS[1].token) as c:
        yield c


def _read_all(client: TestClient) -> dict[str, bytes]:
    answers = {}
    for url in READS:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        answers[url] = response.content
    return answers


def _fresh(app: Starlette) -> dict[str, bytes]:
    """What an app that keeps nothing answers for the same state."""
    twin = _app(answer_cache=False)
    asyncio.run(twin.state.backend.replace(asyncio.run(app.state.backend.export())))
    with _client(twin, TOKENS[1].token) as c:
        return _read_all(c)


def test_reads_are_kept_and_given_again(app: Starlette, client: TestClient) -> None:
    first = _read_all(client)
    assert len(app.state.answers) == len(READS)
    with (
        mock.patch.object(MemoryBackend, "list_patients", side_effect=AssertionError("not kept")),
        mock.patch.object(MemoryBackend, "get_patient", side_effect=AssertionError("not kept")),
    ):
        assert _read_all(client) == first


def test_create_is_seen_by_the_next_read(app: Starlette, client: TestClient) -> None:
    before = _read_all(client)
    total = client.get("/patients").json()["meta"]["total"]
    created = client.post("/patients", json={"first_name": "Ana", "last_name": "Hoxha"}).json()["data"]
    assert client.get("/patients").json()["meta"]["total"] == total + 1
    assert created["id"] in [p["id"] for p in client.get("/patients?q=hoxha&per_page=100").json()["data"]]
    after = _read_all(client)
    assert after != before and after == _fresh(app)


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": "Mariana"},
        {"email": "m.hoxha@example.com"},
        {"is_active": False},
        {"locale": "mk"},
        {"allergies": "Latex"},
        {"first_name": "Maria"},  # as stored: a no-op
    ],
)
def test_a_change_is_seen_by_the_next_read(app: Starlette, client: TestClient, change: dict[str, Any]) -> None:
    _read_all(client)
    response = client.patch(f"/patients/{MARIA}", json=change)
    assert response.status_code == 200, response.text
    shown = client.get(f"/patients/{MARIA}?fields=allergies,vip,preferences").json()["data"]
    assert {k: shown[k] for k in change} == change
    assert _read_all(client) == _fresh(app)
    archived = [p["id"] for p in client.get("/patients?is_active=false&per_page=100").json()["data"]]
    assert (MARIA in archived) == (change.get("is_active") is False)


def test_noop_patch_that_touches_is_seen(state_file: Path | None) -> None:
    app = _app(profile={"noop_patch": "touches"}, state_file=state_file)
    with _client(app, TOKENS[1].token) as c:
        before = c.get(f"/patients/{MARIA}").json()["data"]["updated_at"]
        c.patch(f"/patients/{MARIA}", json={"first_name": "Maria"})
        assert c.get(f"/patients/{MARIA}").json()["data"]["updated_at"] > before


def test_reset_and_state_load_are_seen(app: Starlette, client: TestClient) -> None:
    original = _read_all(client)
    client.patch(f"/patients/{MARIA}", json={"first_name": "Mariana"})
    changed = _read_all(client)
    assert changed != original
    assert client.post("http://127.0.0.1/__mock/reset", json={}).status_code == 200
    assert _read_all(client) == original

    document = client.get("http://127.0.0.1/__mock/state").json()
    maria = next(p for p in document["patients"] if p["id"] == MARIA)
    maria["last_name"] = "Loaded"
    document["accounts"][0]["users"][0]["name"] = "Someone Else"
    assert client.put("http://127.0.0.1/__mock/state", json=document).status_code == 200
    assert client.get(f"/patients/{MARIA}").json()["data"]["last_name"] == "Loaded"
    assert client.get("/me.json").json()["name"] == "Someone Else"
    assert _read_all(client) == _fresh(app)


def test_csv_import_is_seen(app: Starlette, client: TestClient) -> None:
    _read_all(client)
    total = client.get("/patients").json()["meta"]["total"]
    response = client.post(
        "http://127.0.0.1/__mock/accounts/1/import",
        content=b"first_name,last_name\nIra,Hoxha\n",
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert client.get("/patients").json()["meta"]["total"] == total + 1
    assert _read_all(client) == _fresh(app)


def test_a_revoked_token_is_refused_at_once(app: Starlette) -> None:
    token_id, secret = 2, TOKENS[1].live[1]  # fixtures: account 1's second live token
    with _client(app, secret) as c, _client(app, TOKENS[1].token) as same_user:
        for _ in range(2):  # the second read is a kept answer
            assert c.get("/patients").status_code == 200 and c.get("/me.json").status_code == 200
        assert len(app.state.answers) > 0
        assert c.delete(f"http://127.0.0.1/__mock/tokens/{token_id}").status_code == 200
        assert c.get("/patients").status_code == 401
        assert c.get("/me.json").status_code == 401
        assert same_user.get("/patients").status_code == 200  # the user's other token still reads
        # A reset keeps it revoked (main: carry_tokens_from), so still no answer, kept or not.
        assert c.post("http://127.0.0.1/__mock/reset", json={}).status_code == 200
        assert c.get("/patients").status_code == 401 and c.get("/me.json").status_code == 401


def test_a_new_token_reads_at_once_and_is_refused_once_revoked(app: Starlette, client: TestClient) -> None:
    before = _read_all(client)
    response = client.post("http://127.0.0.1/__mock/accounts/1/tokens", json={"name": "cache test"})
    assert response.status_code == 201, response.text
    created = response.json()
    with _client(app, created["token"]) as c:
        assert _read_all(c) == before  # the same user's answers: the kept ones are right for it
        assert client.delete(f"http://127.0.0.1/__mock/tokens/{created['id']}").status_code == 200
        assert c.get("/patients").status_code == 401 and c.get("/me.json").status_code == 401
    assert _read_all(client) == before


def test_each_user_and_account_gets_its_own_answer(app: Starlette) -> None:
    document = asyncio.run(app.state.backend.export())
    account = document["accounts"][0]
    account["users"].append({"id": 99, "name": "Second User", "email": None, "role": "admin", "avatar_url": None})
    account["tokens"].append({"id": 99, "name": "second", "user_id": 99, "token": "dnt_" + "s" * 40})
    asyncio.run(app.state.backend.replace(document))
    with (
        _client(app, TOKENS[1].token) as first,
        _client(app, "dnt_" + "s" * 40) as second,
        _client(app, TOKENS[2].token) as other,
    ):
        assert first.get("/me.json").json()["id"] == 1
        assert second.get("/me.json").json()["id"] == 99
        assert first.get("/me.json").json()["id"] == 1
        assert other.get(f"/patients/{MARIA}").status_code == 404  # another account's patient
        assert first.get(f"/patients/{MARIA}").status_code == 200
        assert other.get("/patients").json() != first.get("/patients").json()


def test_lang_and_fields_are_part_of_the_key(client: TestClient) -> None:
    plain = client.get(f"/patients/{MARIA}").json()["data"]
    expanded = client.get(f"/patients/{MARIA}?fields=allergies").json()["data"]
    cyrillic = client.get(f"/patients/{MARIA}?lang=mk").json()["data"]
    assert "allergies" not in plain and "allergies" in expanded
    assert cyrillic["display_name"] != plain["display_name"]


def test_each_profile_keeps_its_own_answers() -> None:
    newest = _app(profile={"list_order": "newest_first"})
    ascending = _app()
    ids = {}
    for name, app in (("newest", newest), ("ascending", ascending), ("newest again", newest)):
        with _client(app, TOKENS[1].token) as c:
            ids[name] = [p["id"] for p in c.get("/patients").json()["data"]]
    assert ids["newest"] == sorted(ids["newest"], reverse=True) == ids["newest again"]
    assert ids["ascending"] == sorted(ids["ascending"])


def test_a_backend_that_does_not_version_keeps_nothing(app: Starlette, client: TestClient) -> None:
    with mock.patch.object(MemoryBackend, "answers_version", return_value=None):
        first = _read_all(client)
        assert len(app.state.answers) == 0
        client.patch(f"/patients/{MARIA}", json={"first_name": "Mariana"})
        assert _read_all(client) != first


def test_off_keeps_nothing() -> None:
    app = _app(answer_cache=False)
    assert app.state.answers is None
    with _client(app, TOKENS[1].token) as c:
        _read_all(c)


def test_the_cache_is_bounded() -> None:
    cache = AnswerCache(max_bytes=64_000)
    for n in range(1000):
        cache.put(Slot(("op", n), 1), 200, b"x" * 1000)
    assert 0 < len(cache) < 64
    assert cache.get(Slot(("op", 999), 1)) == (200, b"x" * 1000)
    assert cache.get(Slot(("op", 0), 1)) is None  # the oldest went first
    assert cache.get(Slot(("op", 999), 2)) is None  # another version
    cache.put(Slot(("op", "huge"), 1), 200, b"x" * 20_000)  # over an eighth of the bound: not kept
    assert cache.get(Slot(("op", "huge"), 1)) is None


# -- a random run, kept against not kept --------------------------------------------------------


def _steps(rng: random.Random, n: int) -> Iterator[tuple[str, str, Any, int]]:
    """(method, url, json body or CSV bytes, account) steps: mostly reads, repeated, and every kind of write."""
    names = ("Ana", "Hoxha", "Стојановски", "Marija", "Çela")
    for _ in range(n):
        account = rng.choice((1, 1, 1, 2))
        roll = rng.random()
        if roll < 0.6:
            yield "GET", rng.choice((*READS, "/patients?q=" + rng.choice(names).lower())), None, account
        elif roll < 0.72:
            body = {"first_name": rng.choice(names), "last_name": rng.choice(names)}
            yield "POST", "/patients", body, account
        elif roll < 0.88:
            change = rng.choice(
                (
                    {"first_name": rng.choice(names)},
                    {"is_active": rng.random() < 0.5},
                    {"email": f"x{rng.randrange(99)}@example.com"},
                    {"locale": "mk"},
                    {},
                )
            )
            yield "PATCH", f"/patients/{rng.choice((MARIA, 4822, 4823, 4830, 4841))}", change, account
        elif roll < 0.93:
            yield (
                "IMPORT",
                f"http://127.0.0.1/__mock/accounts/{account}/import",
                f"first_name,last_name\n{rng.choice(names)},{rng.choice(names)}\n".encode(),
                account,
            )
        elif roll < 0.96:
            yield "RESET", "http://127.0.0.1/__mock/reset", None, account
        else:
            yield "LOAD", "http://127.0.0.1/__mock/state", None, account


def _run(app: Starlette, steps: list[tuple[str, str, Any, int]], document: dict[str, Any]) -> list[tuple[int, bytes]]:
    clients = {n: _client(app, TOKENS[n].token) for n in (1, 2)}
    answers = []
    clock = iter(range(1_777_000_000_000, 1_778_000_000_000, 1000))
    tick = lambda: next(clock)  # noqa: E731
    with mock.patch("mockserver.decisions.now_ms", tick), mock.patch("mockserver.store.memory.now_ms", tick):
        for method, url, body, account in steps:
            c = clients[account]
            if method == "GET":
                response = c.get(url)
            elif method == "IMPORT":
                response = c.post(url, content=body, headers={"Content-Type": "text/csv"})
            elif method == "RESET":
                response = c.post(url, json={})
            elif method == "LOAD":
                response = c.put(url, content=json.dumps(document), headers={"Content-Type": "application/json"})
            else:
                response = c.request(method, url, json=body)
            answers.append((response.status_code, response.content))
    return answers


def test_a_random_run_answers_as_without_kept_answers(state_file: Path | None) -> None:
    rng = random.Random(20261201)
    steps = list(_steps(rng, 400))
    document = json.loads((Path(FIXTURES_DIR) / "accounts.json").read_text(encoding="utf-8"))
    patients = json.loads((Path(FIXTURES_DIR) / "patients.json").read_text(encoding="utf-8"))["patients"]
    document["patients"] = patients[:40]
    kept, fresh = _app(state_file=state_file), _app(answer_cache=False)
    try:
        answers = _run(kept, steps, document)
        assert answers == _run(fresh, steps, document)
    finally:
        kept.state.backend.shutdown()
    assert len(kept.state.answers) > 0
    # Every kind of step was answered as a success at least once: none was refused alike by both.
    succeeded = {step[0] for step, (status, _) in zip(steps, answers, strict=True) if status < 300}
    assert succeeded == {"GET", "POST", "PATCH", "IMPORT", "RESET", "LOAD"}
