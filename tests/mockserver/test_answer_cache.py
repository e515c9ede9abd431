"""Kept answers (mockserver/api/answers.py) are never stale.

Each way the data can change is followed by the reads it changes, on an app
whose reads have just been kept; and a long random run of reads and writes
gets byte-identical answers from an app that keeps answers and one that does
not. Each runs on the memory backend as it is by default and with a state file
(`--state-file`: every write takes the durable path, planned, recorded, then
applied), and each through two transports: in process (the app's own cache)
and over real keep-alive connections to the app served with `dentare-mock`'s
HTTP protocol, which gives a repeated request its kept answer itself, before
the app (web/http_protocol.py). The decision checks (test_decisions.py) run
with answers kept as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dentare_spec import load_spec
from mockserver import MockSettings, create_app
from mockserver.api.answers import AnswerCache, Slot
from mockserver.store.memory_backend import MemoryBackend
from mockserver.web.http_protocol import http_protocol
from tests.support import FIXTURES_DIR, SPEC_PATH, load_tokens, serve_in_thread

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


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Mock-Admin-Key": ADMIN_KEY}


def _asgi_client(app: Starlette, token: str) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1/api/v1", headers=_headers(token))


class _ToPort(httpx.HTTPTransport):
    """The tests' URLs (http://127.0.0.1/...) sent to the port the app is served on."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=self.port)
        return super().handle_request(request)


Connect = Callable[[Starlette, str], "contextlib.AbstractContextManager[httpx.Client]"]


@contextlib.contextmanager
def _served(app: Starlette) -> Iterator[int]:
    protocol = http_protocol(app.state.settings.max_header_bytes, app.state.recall_answer)
    with serve_in_thread(app, http=protocol) as root:
        yield int(root.rsplit(":", 1)[1])


@pytest.fixture(params=["in-process", "connection"])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """`connect(app, token)`: a client of `app` with that token, in process or over
    real connections to the app served with the mock's HTTP protocol (one server per app)."""
    with contextlib.ExitStack() as servers:
        ports: dict[int, int] = {}

        def port_of(app: Starlette) -> int:
            if id(app) not in ports:
                ports[id(app)] = servers.enter_context(_served(app))
            return ports[id(app)]

        def make(app: Starlette, token: str) -> contextlib.AbstractContextManager[httpx.Client]:
            if request.param == "in-process":
                return _asgi_client(app, token)
            transport = _ToPort(port_of(app))
            return httpx.Client(base_url="http://127.0.0.1/api/v1", headers=_headers(token), transport=transport)

        yield make


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
def client(app: Starlette, connect: Connect) -> Iterator[httpx.Client]:
    with connect(app, TOKENS[1].token) as c:
        yield c


def _read_all(client: httpx.Client) -> dict[str, bytes]:
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
    with _asgi_client(twin, TOKENS[1].token) as c:
        return _read_all(c)


def test_reads_are_kept_and_given_again(app: Starlette, client: httpx.Client) -> None:
    first = _read_all(client)
    assert len(app.state.answers) == len(READS)
    with (
        mock.patch.object(MemoryBackend, "list_patients", side_effect=AssertionError("not kept")),
        mock.patch.object(MemoryBackend, "get_patient", side_effect=AssertionError("not kept")),
    ):
        assert _read_all(client) == first


def test_create_is_seen_by_the_next_read(app: Starlette, client: httpx.Client) -> None:
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
def test_a_change_is_seen_by_the_next_read(app: Starlette, client: httpx.Client, change: dict[str, Any]) -> None:
    _read_all(client)
    response = client.patch(f"/patients/{MARIA}", json=change)
    assert response.status_code == 200, response.text
    shown = client.get(f"/patients/{MARIA}?fields=allergies,vip,preferences").json()["data"]
    assert {k: shown[k] for k in change} == change
    assert _read_all(client) == _fresh(app)
    archived = [p["id"] for p in client.get("/patients?is_active=false&per_page=100").json()["data"]]
    assert (MARIA in archived) == (change.get("is_active") is False)


def test_noop_patch_that_touches_is_seen(state_file: Path | None, connect: Connect) -> None:
    app = _app(profile={"noop_patch": "touches"}, state_file=state_file)
    with connect(app, TOKENS[1].token) as c:
        before = c.get(f"/patients/{MARIA}").json()["data"]["updated_at"]
        c.patch(f"/patients/{MARIA}", json={"first_name": "Maria"})
        assert c.get(f"/patients/{MARIA}").json()["data"]["updated_at"] > before


def test_reset_and_state_load_are_seen(app: Starlette, client: httpx.Client) -> None:
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


def test_csv_import_is_seen(app: Starlette, client: httpx.Client) -> None:
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


def test_a_revoked_token_is_refused_at_once(app: Starlette, connect: Connect) -> None:
    token_id, secret = 2, TOKENS[1].live[1]  # fixtures: account 1's second live token
    with connect(app, secret) as c, connect(app, TOKENS[1].token) as same_user:
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


def test_a_new_token_reads_at_once_and_is_refused_once_revoked(
    app: Starlette, client: httpx.Client, connect: Connect
) -> None:
    before = _read_all(client)
    response = client.post("http://127.0.0.1/__mock/accounts/1/tokens", json={"name": "cache test"})
    assert response.status_code == 201, response.text
    created = response.json()
    with connect(app, created["token"]) as c:
        assert _read_all(c) == before  # the same user's answers: the kept ones are right for it
        assert client.delete(f"http://127.0.0.1/__mock/tokens/{created['id']}").status_code == 200
        assert c.get("/patients").status_code == 401 and c.get("/me.json").status_code == 401
    assert _read_all(client) == before


def test_each_user_and_account_gets_its_own_answer(app: Starlette, connect: Connect) -> None:
    document = asyncio.run(app.state.backend.export())
    account = document["accounts"][0]
    account["users"].append({"id": 99, "name": "Second User", "email": None, "role": "admin", "avatar_url": None})
    account["tokens"].append({"id": 99, "name": "second", "user_id": 99, "token": "dnt_" + "s" * 40})
    asyncio.run(app.state.backend.replace(document))
    with (
        connect(app, TOKENS[1].token) as first,
        connect(app, "dnt_" + "s" * 40) as second,
        connect(app, TOKENS[2].token) as other,
    ):
        assert first.get("/me.json").json()["id"] == 1
        assert second.get("/me.json").json()["id"] == 99
        assert first.get("/me.json").json()["id"] == 1
        assert other.get(f"/patients/{MARIA}").status_code == 404  # another account's patient
        assert first.get(f"/patients/{MARIA}").status_code == 200
        assert other.get("/patients").json() != first.get("/patients").json()


def test_lang_and_fields_are_part_of_the_key(client: httpx.Client) -> None:
    plain = client.get(f"/patients/{MARIA}").json()["data"]
    expanded = client.get(f"/patients/{MARIA}?fields=allergies").json()["data"]
    cyrillic = client.get(f"/patients/{MARIA}?lang=mk").json()["data"]
    assert "allergies" not in plain and "allergies" in expanded
    assert cyrillic["display_name"] != plain["display_name"]


def test_each_profile_keeps_its_own_answers(connect: Connect) -> None:
    newest = _app(profile={"list_order": "newest_first"})
    ascending = _app()
    ids = {}
    for name, app in (("newest", newest), ("ascending", ascending), ("newest again", newest)):
        with connect(app, TOKENS[1].token) as c:
            ids[name] = [p["id"] for p in c.get("/patients").json()["data"]]
    assert ids["newest"] == sorted(ids["newest"], reverse=True) == ids["newest again"]
    assert ids["ascending"] == sorted(ids["ascending"])


def test_a_backend_that_does_not_version_keeps_nothing(app: Starlette, client: httpx.Client) -> None:
    with mock.patch.object(MemoryBackend, "answers_version", return_value=None):
        first = _read_all(client)
        assert len(app.state.answers) == 0
        client.patch(f"/patients/{MARIA}", json={"first_name": "Mariana"})
        assert _read_all(client) != first


def test_off_keeps_nothing(connect: Connect) -> None:
    app = _app(answer_cache=False)
    assert app.state.answers is None
    with connect(app, TOKENS[1].token) as c:
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


# -- at the connection ---------------------------------------------------------------------------


@contextlib.contextmanager
def _counted_authentication() -> Iterator[list[str]]:
    """The secrets the app authenticated, in order: a request answered at the connection adds none."""
    calls: list[str] = []
    original = MemoryBackend.caller

    async def counted(self: MemoryBackend, secret: str) -> Any:
        calls.append(secret)
        return await original(self, secret)

    with mock.patch.object(MemoryBackend, "caller", counted):
        yield calls


def _exchange(port: int, raw: bytes, answers: int) -> list[bytes]:
    """Send `raw` (one or more requests) on one connection; the `answers` answers, each whole
    (an answer to HEAD is its head)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data, found = b"", []
        while len(found) < answers:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1").lower()
                length = 0 if raw.startswith(b"HEAD ") else int(head.split("content-length: ")[1].split("\r\n")[0])
                if len(data) >= head_end + 4 + length:
                    found.append(data[: head_end + 4 + length])
                    data = data[head_end + 4 + length :]
                    continue
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(found)} of {answers} answers"
            data += chunk
        return found


def _without_date(answer: bytes) -> bytes:
    return b"\r\n".join(line for line in answer.split(b"\r\n") if not line.lower().startswith(b"date:"))


def _get(target: str, *extra: str, version: str = "1.1") -> bytes:
    lines = [
        f"GET /api/v1{target} HTTP/{version}",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {TOKENS[1].token}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_repeated_request_is_answered_at_the_connection(app: Starlette) -> None:
    """The second identical request is not authenticated again (the app never sees it), and
    gets the very bytes the app sent, date aside; a request with another header goes to the app."""
    with _served(app) as port, _counted_authentication() as calls:
        first = _exchange(port, _get("/patients?q=hoxha"), 1)[0]
        assert len(calls) == 1
        again = _exchange(port, _get("/patients?q=hoxha"), 1)[0]
        assert len(calls) == 1, "answered by the app, not the connection"
        assert _without_date(again) == _without_date(first)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n") and b"Hoxha" in first
        other = _exchange(port, _get("/patients?q=hoxha", "X-Request-Id: 7"), 1)[0]
        assert len(calls) == 2 and other.partition(b"\r\n\r\n")[2] == first.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(_get("/patients", version="1.0"), id="HTTP/1.0"),
        pytest.param(_get("/patients", "Connection: close"), id="Connection: close"),
        pytest.param(_get("/patients", "Content-Length: 0"), id="with a body"),
        pytest.param(_get("/patients").replace(b"GET ", b"HEAD ", 1), id="HEAD"),
        pytest.param(_get("/patients", "X-Pad: " + "a" * 4096), id="a head over 4 KiB"),  # not remembered
    ],
)
def test_only_a_plain_keep_alive_get_is_answered_at_the_connection(app: Starlette, request_bytes: bytes) -> None:
    """Each goes to the app, though the plain GET beside it has its answer kept."""
    with _served(app) as port, _counted_authentication() as calls:
        _exchange(port, _get("/patients"), 1)
        for n in (1, 2):
            answer = _exchange(port, request_bytes, 1)[0]
            if request_bytes.startswith(b"HEAD"):
                assert answer.startswith(b"HTTP/1.1 405 ")  # the operation has no HEAD; not the GET's 200
            else:
                assert answer.startswith(b"HTTP/1.") and answer.split(b" ", 2)[1] == b"200"
                assert len(calls) == 1 + n  # authenticated by the app


def test_pipelined_requests_are_answered_in_order(app: Starlette) -> None:
    """A kept answer behind a request still in the app's hands waits its turn."""
    with _served(app) as port:
        kept = _get(f"/patients/{MARIA}")
        _exchange(port, kept, 1)
        answers = _exchange(port, kept + _get("/patients?per_page=3") + kept + _get("/me.json") + kept, 5)
    bodies = [json.loads(answer.partition(b"\r\n\r\n")[2]) for answer in answers]
    assert [b.get("data", {}).get("id") if isinstance(b.get("data"), dict) else None for b in bodies] == [
        MARIA,
        None,
        MARIA,
        None,
        MARIA,
    ]
    assert len(bodies[1]["data"]) == 3 and bodies[3]["id"] == 1


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


def _run(
    app: Starlette, steps: list[tuple[str, str, Any, int]], document: dict[str, Any], connect: Connect
) -> list[tuple[int, bytes]]:
    clients = {n: connect(app, TOKENS[n].token) for n in (1, 2)}
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


def test_a_random_run_answers_as_without_kept_answers(state_file: Path | None, connect: Connect) -> None:
    rng = random.Random(20261201)
    steps = list(_steps(rng, 400))
    document = json.loads((Path(FIXTURES_DIR) / "accounts.json").read_text(encoding="utf-8"))
    patients = json.loads((Path(FIXTURES_DIR) / "patients.json").read_text(encoding="utf-8"))["patients"]
    document["patients"] = patients[:40]
    kept, fresh = _app(state_file=state_file), _app(answer_cache=False)
    try:
        answers = _run(kept, steps, document, connect)
        assert answers == _run(fresh, steps, document, _asgi_client)
    finally:
        kept.state.backend.shutdown()
    assert len(kept.state.answers) > 0
    # Every kind of step was answered as a success at least once: none was refused alike by both.
    succeeded = {step[0] for step, (status, _) in zip(steps, answers, strict=True) if status < 300}
    assert succeeded == {"GET", "POST", "PATCH", "IMPORT", "RESET", "LOAD"}
