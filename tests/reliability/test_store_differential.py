"""The two stores answer alike: the same request corpus goes to a mock on the
memory store and to one on the PostgreSQL store, both loaded with the same
state, one request at a time, and every answer is compared (status, the
headers the spec names, the JSON body) with created ids and timestamps
normalized. Three corpora:

- the requests of a `dentare-contract --quick` run, recorded through an ASGI
  middleware on a third (memory) mock, then replayed byte for byte;
- the bad-input table of test_bad_input.py;
- a fixed script of the isolation machine's kind of traffic (create, patch,
  archive, get, search, filter, revoke, over two accounts), drawn once from a
  seeded generator.

Ids: a created patient is named by the order it was created in (the
PostgreSQL store may skip ids after a refused insert, as sequences do), in
request paths and in answers alike. Timestamps the fixtures do not hold are
"<now>". After each corpus the whole states must agree too.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from mockserver import MockSettings, create_app
from tests.support import ROOT, RunningMock, load_tokens, serve_in_thread, spawn_mock
from tests.support.reliability import raw_request, token, two_accounts_document

from .test_bad_input import AUTH, CASES, JSON

_PATIENT_PATH = re.compile(rb"(/patients/)(\d+)")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_COMPARED_HEADERS = ("content-type", "www-authenticate", "allow", "retry-after")
_UNRECORDED = {b"host", b"content-length", b"connection", b"transfer-encoding", b"user-agent", b"accept-encoding"}


@dataclass
class Sent:
    """One request of a corpus: the target (path and query) may name created patients as `{p:N}`."""

    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    chunked: bool = False


@dataclass
class Target:
    mock: RunningMock
    created: list[int] = field(default_factory=list)
    fixture_stamps: set[str] = field(default_factory=set)

    def begin(self) -> None:
        self.created.clear()
        state = raw_request(self.mock.root_url, "GET", "/__mock/state").json()
        self.fixture_stamps = {v for v in _walk_strings(state) if _TIMESTAMP.match(v)}

    def send(self, sent: Sent) -> Any:
        target = re.sub(rb"\{p:(\d+)\}", lambda m: str(self.created[int(m.group(1))]).encode(), sent.target)
        response = raw_request(self.mock.root_url, sent.method, target, sent.headers, sent.body, chunked=sent.chunked)
        body: Any = response.body
        try:
            body = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            body = response.body[:200]
        if sent.method == "POST" and response.status == 201 and isinstance(body, dict) and "data" in body:
            self.created.append(body["data"]["id"])
        headers = {name: response.header(name) for name in _COMPARED_HEADERS}
        return {"status": response.status, "headers": headers, "body": self.normalize(body)}

    def normalize(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            patient = "first_name" in value  # a token's or an account's id is no patient's
            return {k: self.normalize(v, k if patient or k == "ids" else None) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalize(v, key) for v in value]
        if key in ("id", "ids") and isinstance(value, int) and value in self.created:
            return f"<p:{self.created.index(value)}>"
        if isinstance(value, str) and _TIMESTAMP.match(value) and value not in self.fixture_stamps:
            return "<now>"
        return value

    def state(self) -> Any:
        return self.normalize(raw_request(self.mock.root_url, "GET", "/__mock/state").json())


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_strings(item)
    elif isinstance(value, str):
        yield value


@pytest.fixture(scope="module")
def targets(new_database: Callable[[str], str]) -> Iterator[tuple[Target, Target]]:
    with spawn_mock() as memory, spawn_mock("--store", new_database("differential")) as postgres:
        yield Target(memory), Target(postgres)


def differences(targets: tuple[Target, Target], corpus: list[Sent], load: Callable[[RunningMock], None]) -> list[str]:
    memory, postgres = targets
    for target in targets:
        load(target.mock)
        target.begin()
    found = []
    for n, sent in enumerate(corpus):
        expected, got = memory.send(sent), postgres.send(sent)
        if expected != got:
            found.append(f"#{n} {sent.method} {sent.target[:120]!r}:\n  memory     {expected}\n  postgresql {got}")
    if memory.state() != postgres.state():
        found.append("the states differ after the corpus")
    return found


def _reset(mock: RunningMock) -> None:
    mock.reset()


def _two_accounts(mock: RunningMock) -> None:
    body = json.dumps(two_accounts_document()).encode()
    loaded = raw_request(mock.root_url, "PUT", "/__mock/state", [("Content-Type", "application/json")], body)
    assert loaded.status == 200


# -- corpus 1: a contract run, recorded ------------------------------------------------------


class Recorder:
    """ASGI middleware keeping each API request as sent, and the ids its 201s created."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent: list[Sent] = []
        self.created: list[int] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        answer: dict[str, Any] = {"body": b""}

        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receiving, sending)
        with self._lock:
            self.sent.append(self._symbolic(scope, b"".join(chunks)))
            if scope["method"] == "POST" and answer.get("status") == 201:
                self.created.append(orjson.loads(answer["body"])["data"]["id"])

    def _symbolic(self, scope: Any, body: bytes) -> Sent:
        target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")

        def name(match: re.Match[bytes]) -> bytes:
            patient_id = int(match.group(2))
            if patient_id in self.created:
                return match.group(1) + b"{p:%d}" % self.created.index(patient_id)
            return match.group(0)

        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _UNRECORDED]
        return Sent(scope["method"], _PATIENT_PATH.sub(name, target), headers, body)


@pytest.fixture(scope="module")
def contract_corpus() -> list[Sent]:
    recorder = Recorder(create_app(MockSettings()))
    tokens = load_tokens()
    with serve_in_thread(recorder) as root:
        env = {
            "DENTARE_TOKEN": tokens[1].token,
            "DENTARE_OTHER_TOKEN": tokens[2].token,
            "DENTARE_REVOKED_TOKEN": tokens[1].revoked[0],
            "PATH": "/usr/bin:/bin",
        }
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "contract_tests.cli",
                "--base-url",
                f"{root}/api/v1",
                "--quick",
                "--seed",
                "4821",
                "--rate",
                "0",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert len(recorder.sent) > 300, "the contract run sent too little to compare"
    return recorder.sent


def test_a_contract_run_is_answered_alike(targets: tuple[Target, Target], contract_corpus: list[Sent]) -> None:
    found = differences(targets, contract_corpus, _reset)
    assert found == [], "\n".join(found[:10])


# -- corpus 2: the bad-input table ------------------------------------------------------------


def test_bad_input_is_answered_alike(targets: tuple[Target, Target]) -> None:
    corpus = []
    for case in CASES:
        headers = case.headers if case.headers is not None else ([AUTH, JSON] if case.is_write else [AUTH])
        corpus.append(
            Sent(
                case.method,
                b"/api/v1" + case.path.encode(),
                [(_bytes(k), _bytes(v)) for k, v in headers],
                case.body,
                case.chunked,
            )
        )
    found = differences(targets, corpus, _two_accounts)
    assert found == [], "\n".join(found[:10])


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


# -- corpus 3: the isolation machine's kind of traffic, scripted ----------------------------

NAMES = [
    "Ana",
    "Bojan",
    "Ema",
    "Fani",
    "Genta",
    "Mimoza",
    "Sufi",
    "Zana",
    "Ана",
    "Ëmira",
    "Çela",
    "Stojanovska",
    "Hoxha",
    "Џафери",
    "Xhaferi",
]
OPTIONAL: dict[str, list[Any]] = {
    "email": ["ana@example.com", "Ema@Example.org", None],
    "personal_no": ["I90515123A", "1505990450001", None],
    "external_id": ["ext-1", "ext-2", "ext-3", None],
    "phone": ["+38970123456", "069 123 4567", None],
    "locale": ["en", "sq", "mk", None],
    "gender": ["male", "female", "other", None],
    "allergies": ["Penicilinë", "латекс", "", None],
    "is_active": [True, False],
}
QUERIES = [
    "an",
    "ZANA",
    "mo",
    "ext-1",
    "hoxha",
    "џафери",
    "dzhaferi",
    "ana@",
    "example.org",
    "i90515",
    "070 123",
    "355691",
    "çela",
    "cela",
    "ëmira",
    "стојановска",
    "stojanovska",
]


def scripted_corpus(steps: int = 400, seed: int = 13) -> list[Sent]:
    rnd = random.Random(seed)
    corpus: list[Sent] = []
    created = 0
    ids = [("id", 1), ("id", 2), ("id", 3), ("id", 4), ("id", 5), ("id", 6)]  # the document's patients

    def auth(account: int, n: int) -> list[tuple[bytes, bytes]]:
        return [(b"Authorization", f"Bearer {token(account, n)}".encode())]

    def path_of(patient: tuple[str, int]) -> bytes:
        kind, value = patient
        return f"/api/v1/patients/{value}".encode() if kind == "id" else b"/api/v1/patients/{p:%d}" % value

    def some_fields() -> dict[str, Any]:
        return {k: rnd.choice(v) for k, v in OPTIONAL.items() if rnd.random() < 0.4}

    for _ in range(steps):
        account, n = rnd.choice((1, 2)), rnd.choice((1, 1, 2))
        step = rnd.random()
        if step < 0.25:
            body = {"first_name": rnd.choice(NAMES), "last_name": rnd.choice(NAMES), **some_fields()}
            body.pop("is_active", None)
            corpus.append(
                Sent(
                    "POST",
                    b"/api/v1/patients",
                    [*auth(account, n), (b"Content-Type", b"application/json")],
                    json.dumps(body).encode(),
                )
            )
            ids.append(("p", created))  # the k-th create that succeeds, on each target alike
            created += 1
        elif step < 0.45:
            body = some_fields()
            if rnd.random() < 0.3:
                body[rnd.choice(("first_name", "last_name"))] = rnd.choice(NAMES)
            corpus.append(
                Sent(
                    "PATCH",
                    path_of(rnd.choice(ids)),
                    [*auth(account, n), (b"Content-Type", b"application/json")],
                    json.dumps(body).encode(),
                )
            )
        elif step < 0.55:
            corpus.append(Sent("GET", path_of(rnd.choice(ids)) + b"?fields=allergies", auth(account, n)))
        elif step < 0.8:
            params = {"q": rnd.choice(QUERIES), "is_active": rnd.choice(("true", "false")), "per_page": "100"}
            corpus.append(Sent("GET", b"/api/v1/patients?" + _query(params), auth(account, n)))
        elif step < 0.97:
            key = rnd.choice(("external_id", "email", "personal_no", "phone"))
            value = rnd.choice([v for v in OPTIONAL[key] if v] + ["EMA@example.org", "123", "x", "ext-1\x00"])
            params = {key: value, "page": rnd.choice(("1", "2")), "per_page": rnd.choice(("1", "5", "20"))}
            corpus.append(Sent("GET", b"/api/v1/patients?" + _query(params), auth(account, n)))
        else:
            corpus.append(Sent("DELETE", f"/__mock/tokens/{account * 10 + 2}".encode(), []))
    return corpus


def _query(params: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(params).encode()


def test_scripted_traffic_is_answered_alike(targets: tuple[Target, Target]) -> None:
    corpus = scripted_corpus()
    memory, postgres = targets
    for target in targets:
        _two_accounts(target.mock)
        target.begin()
    found = []
    for n, sent in enumerate(corpus):
        # A PATCH or GET naming the k-th create, where fewer succeeded, is skipped on both.
        wanted = [int(i) for i in re.findall(rb"\{p:(\d+)\}", sent.target)]
        if any(i >= len(memory.created) for i in wanted):
            continue
        expected, got = memory.send(sent), postgres.send(sent)
        if expected != got:
            found.append(
                f"#{n} {sent.method} {sent.target!r} {sent.body[:200]!r}:\n  memory     {expected}\n  postgresql {got}"
            )
    if memory.state() != postgres.state():
        found.append("the states differ after the corpus")
    assert found == [], "\n".join(found[:10])
    assert len(memory.created) > 50
