"""The PostgreSQL store shared by several mock processes: what one process
writes the other reads, a revocation through one is refused by the other on
its next request, concurrent writes lose nothing and never break a unique
rule, concurrent start-ups migrate and seed once, and the database keeps
what it holds across restarts. (The rules themselves run on both stores in
test_api_rules.py; tests/reliability/test_store_differential.py diffs the
two stores' answers.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from dentare_spec import load_spec
from mockserver import HANDLERS, MockSettings, Taken, create_app
from mockserver.api.handlers import Reply, RequestContext
from mockserver.store.pg.migrations import GIN_PENDING_LIST_KB, MIGRATIONS
from mockserver.store.pg.pool import FairPool
from mockserver.store.planner import PatientQuery
from mockserver.web.app import build_backend
from tests.support import (
    FIXTURES_DIR,
    ROOT,
    SPEC_PATH,
    RunningMock,
    acting_as,
    load_tokens,
    serve_in_thread,
    spawn_mock,
)
from tests.support.reliability import assert_error_shape, raw_request

TOKENS = load_tokens()
AUTH1 = {"Authorization": f"Bearer {TOKENS[1].token}"}
# Plain text fields of PatientWritable: a PATCH of each must not lose another's.
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "personal_no",
    "allergies",
    "medical_conditions",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "insurance_provider",
    "insurance_id",
)


@contextlib.contextmanager
def two_mocks(dsn: str) -> Iterator[tuple[RunningMock, RunningMock]]:
    with spawn_mock("--store", dsn) as first, spawn_mock("--store", dsn) as second:
        yield first, second


def query(dsn: str, sql: str) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def shared(new_database: Callable[[str], str]) -> Iterator[tuple[RunningMock, RunningMock]]:
    with two_mocks(new_database("shared")) as mocks:
        yield mocks


def test_a_write_through_one_process_is_read_through_the_other(shared: tuple[RunningMock, RunningMock]) -> None:
    a, b = shared
    created = httpx.post(f"{a.base_url}/patients", headers=AUTH1, json={"first_name": "Shared", "last_name": "Row"})
    assert created.status_code == 201
    path = f"/patients/{created.json()['data']['id']}"
    assert httpx.get(b.base_url + path, headers=AUTH1).json()["data"] == created.json()["data"]
    patched = httpx.patch(b.base_url + path, headers=AUTH1, json={"allergies": "latex"})
    assert patched.status_code == 200
    assert httpx.get(a.base_url + path + "?fields=allergies", headers=AUTH1).json()["data"]["allergies"] == "latex"
    found = httpx.get(f"{a.base_url}/patients", headers=AUTH1, params={"q": "shared row"}).json()["data"]
    assert [p["id"] for p in found] == [created.json()["data"]["id"]]


def test_a_read_repeated_through_one_process_sees_the_others_writes(
    shared: tuple[RunningMock, RunningMock],
) -> None:
    """The answer cache (api/answers.py) is on in both processes, but the
    PostgreSQL store versions nothing (another process may write at any time),
    so no answer is kept: a read asked again after the other process wrote is fresh."""
    a, b = shared
    unconnected = build_backend(MockSettings(fixtures_dir=FIXTURES_DIR, store="postgresql://127.0.0.1:1/none"))
    assert unconnected.answers_version(1) is None  # asked on every read, never waits on the database
    created = httpx.post(f"{a.base_url}/patients", headers=AUTH1, json={"first_name": "Kept", "last_name": "Never"})
    path = f"/patients/{created.json()['data']['id']}"
    query = {"q": "kept never"}
    for _ in range(2):  # asked twice: a cache would now hold it
        assert httpx.get(b.base_url + path, headers=AUTH1).json()["data"]["last_name"] == "Never"
        assert len(httpx.get(f"{b.base_url}/patients", headers=AUTH1, params=query).json()["data"]) == 1
    assert httpx.patch(a.base_url + path, headers=AUTH1, json={"last_name": "Changed"}).status_code == 200
    assert httpx.get(b.base_url + path, headers=AUTH1).json()["data"]["last_name"] == "Changed"
    assert httpx.get(f"{b.base_url}/patients", headers=AUTH1, params=query).json()["data"] == []


def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    shared: tuple[RunningMock, RunningMock],
) -> None:
    a, b = shared
    made = httpx.post(f"{a.root_url}/__mock/accounts/2/tokens", json={"name": "cross-process"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.get(f"{b.base_url}/me.json", headers=headers).status_code == 200
    assert httpx.delete(f"{a.root_url}/__mock/tokens/{made['id']}").status_code == 200
    refused = httpx.get(f"{b.base_url}/me.json", headers=headers)
    assert refused.status_code == 401 and refused.json() == {"error": "Unauthorized"}


def test_concurrent_patches_over_both_processes_lose_no_field(shared: tuple[RunningMock, RunningMock]) -> None:
    """200 PATCHes at once, half through each process, each setting another
    (patient, field): every value ends up stored, and the search keys agree
    with the stored names (first and last name were written concurrently)."""
    a, b = shared
    ids = [
        httpx.post(f"{a.base_url}/patients", headers=AUTH1, json={"first_name": "Old", "last_name": "Name"}).json()[
            "data"
        ]["id"]
        for _ in range(20)
    ]
    jobs = [(i, field) for i in ids for field in TEXT_FIELDS]
    assert len(jobs) == 200

    def value(patient_id: int, field: str) -> str:
        return f"{field[:5]}{patient_id}"

    def send(n: int) -> int:
        patient_id, field = jobs[n]
        base = (a if n % 2 else b).base_url
        return httpx.patch(
            f"{base}/patients/{patient_id}", headers=AUTH1, json={field: value(patient_id, field)}, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(send, range(len(jobs))))
    assert statuses == [200] * len(jobs)
    every = ",".join(f for f in TEXT_FIELDS if f not in ("first_name", "last_name", "personal_no"))
    for patient_id in ids:
        stored = httpx.get(f"{b.base_url}/patients/{patient_id}?fields={every}", headers=AUTH1).json()["data"]
        assert {f: stored[f] for f in TEXT_FIELDS} == {f: value(patient_id, f) for f in TEXT_FIELDS}
        name = f"{value(patient_id, 'first_name')} {value(patient_id, 'last_name')}"
        found = httpx.get(f"{a.base_url}/patients", headers=AUTH1, params={"q": name}).json()["data"]
        assert [p["id"] for p in found] == [patient_id], name


def test_concurrent_creates_never_share_an_external_id(shared: tuple[RunningMock, RunningMock]) -> None:
    a, b = shared

    def send(n: int) -> httpx.Response:
        base = (a if n % 2 else b).base_url
        body = {"first_name": "Race", "last_name": str(n), "external_id": "ext-raced-once"}
        return httpx.post(f"{base}/patients", headers=AUTH1, json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(40)))
    assert sorted(r.status_code for r in answers) == [201] + [422] * 39
    assert all(
        r.json()["errors"] == {"external_id": ["has already been taken"]} for r in answers if r.status_code == 422
    )
    listed = httpx.get(f"{a.base_url}/patients", headers=AUTH1, params={"external_id": "ext-raced-once"}).json()
    assert listed["meta"]["total"] == 1


def test_reset_keeps_revoked_tokens_revoked_in_every_process(shared: tuple[RunningMock, RunningMock]) -> None:
    a, b = shared
    second = {"Authorization": f"Bearer {TOKENS[3].live[1]}"}
    token_id = next(
        t["id"]
        for t in httpx.get(f"{a.root_url}/__mock/accounts/3/tokens").json()["data"]
        if t["hint"] == TOKENS[3].live[1][:8]
    )
    made = httpx.post(f"{a.root_url}/__mock/accounts/3/tokens", json={"name": "kept"}).json()
    assert httpx.delete(f"{a.root_url}/__mock/tokens/{token_id}").status_code == 200
    created = httpx.post(f"{b.base_url}/patients", headers=AUTH1, json={"first_name": "Gone", "last_name": "Soon"})
    b.reset()
    assert httpx.get(f"{a.base_url}/patients/{created.json()['data']['id']}", headers=AUTH1).status_code == 404
    assert httpx.get(f"{a.base_url}/me.json", headers=second).status_code == 401  # a fixture token stays revoked
    kept = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.get(f"{b.base_url}/me.json", headers=kept).status_code == 200  # a created one stays
    assert httpx.get(f"{a.base_url}/me.json", headers=AUTH1).status_code == 200


async def _me_asking_nothing(ctx: RequestContext) -> Reply:
    return Reply(200, {"id": 1, "name": "Nobody", "avatar_url": "https://x.example/a.png", "sgid": "s"})


def test_a_handler_that_asks_no_statement_still_has_its_token_checked(new_database: Callable[[str], str]) -> None:
    """The PostgreSQL store checks a token in the statement that uses it; a handler
    that sends none is checked before it answers (api/routing.py), not trusted."""
    app = create_app(
        MockSettings(store=new_database("asks_nothing")), handlers={**HANDLERS, "getMe": _me_asking_nothing}
    )
    with serve_in_thread(app) as root:
        revoked = {"Authorization": f"Bearer {TOKENS[1].revoked[0]}"}
        assert httpx.get(f"{root}/api/v1/me.json", headers=revoked).status_code == 401
        assert httpx.get(f"{root}/api/v1/me.json", headers=AUTH1).status_code == 200


def test_concurrent_start_ups_migrate_and_load_once(new_database: Callable[[str], str]) -> None:
    dsn = new_database("starts")
    with contextlib.ExitStack() as stack:
        mocks = [stack.enter_context(spawn_mock("--store", dsn, timeout=120)) for _ in range(1)]
        # The others start together against the database the first is still serving.
        procs = [subprocess.Popen([sys.executable, "-c", _PREPARE, dsn], cwd=ROOT) for _ in range(3)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
        assert httpx.get(f"{mocks[0].base_url}/patients", headers=AUTH1).json()["meta"]["total"] == 137
    assert query(dsn, "SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    assert query(dsn, "SELECT count(*) FROM patients") == 215


def test_simultaneous_first_start_ups_load_the_fixtures_once(new_database: Callable[[str], str]) -> None:
    dsn = new_database("first_starts")
    procs = [subprocess.Popen([sys.executable, "-c", _PREPARE, dsn], cwd=ROOT) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    assert query(dsn, "SELECT count(*) FROM patients") == 215
    assert query(dsn, "SELECT count(*) FROM tokens") == 9
    assert query(dsn, "SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


_PREPARE = """
import asyncio, sys
from mockserver.settings import MockSettings
from mockserver.web.app import build_backend
asyncio.run(build_backend(MockSettings(store=sys.argv[1])).prepare())
"""


def test_a_database_of_version_1_keeps_its_totals_and_counts_on(
    new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """v2 spreads an account's counts over rows (concurrent inserts no longer queue
    on one): a database made and seeded by v1 upgrades with every total intact."""
    from mockserver.store.pg import migrations

    dsn = new_database("from_v1")
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
    asyncio.run(build_backend(MockSettings(store=dsn)).prepare())
    monkeypatch.undo()
    assert query(dsn, "SELECT count(*) FROM patient_counts WHERE account_id = 1") == 2  # active, archived

    with spawn_mock("--store", dsn) as mock:

        def total(params: str = "") -> int:
            answer = httpx.get(f"{mock.base_url}/patients?per_page=1{params}", headers=AUTH1)
            return int(answer.json()["meta"]["total"])

        active, archived = total(), total("&is_active=false")
        new = [{"first_name": "N", "last_name": str(i)} for i in range(5)]
        ids = [httpx.post(f"{mock.base_url}/patients", headers=AUTH1, json=n).json()["data"]["id"] for n in new]
        httpx.patch(f"{mock.base_url}/patients/{ids[0]}", headers=AUTH1, json={"is_active": False})
        assert (total(), total("&is_active=false")) == (active + 4, archived + 1)
    assert query(dsn, "SELECT max(version) FROM schema_migrations") == len(MIGRATIONS)
    assert query(dsn, "SELECT count(DISTINCT shard) FROM patient_counts WHERE account_id = 1") > 1
    kept = "SELECT sum(n) FROM patient_counts WHERE account_id = 1"
    assert query(dsn, kept) == query(dsn, "SELECT count(*) FROM patients WHERE account_id = 1")


def test_a_restart_keeps_the_data_and_loads_no_fixtures(new_database: Callable[[str], str]) -> None:
    dsn = new_database("restart")
    with spawn_mock("--store", dsn) as mock:
        created = httpx.post(f"{mock.base_url}/patients", headers=AUTH1, json={"first_name": "Kept", "last_name": "X"})
    with spawn_mock("--store", dsn, "--generate", "30") as mock:
        path = f"{mock.base_url}/patients/{created.json()['data']['id']}"
        assert httpx.get(path, headers=AUTH1).json()["data"]["first_name"] == "Kept"
        assert httpx.get(f"{mock.base_url}/patients", headers=AUTH1).json()["meta"]["total"] == 138  # not 30 more


def test_workers_serve_one_port_from_one_database(new_database: Callable[[str], str]) -> None:
    with spawn_mock("--store", new_database("workers"), "--workers", "2", "--log-level", "info", timeout=120) as mock:
        created = httpx.post(f"{mock.base_url}/patients", headers=AUTH1, json={"first_name": "W", "last_name": "X"})
        assert created.status_code == 201
        for _ in range(10):  # whichever worker answers sees it
            assert httpx.get(f"{mock.base_url}/patients/{created.json()['data']['id']}", headers=AUTH1).is_success
        # Each worker speaks the mock's own HTTP protocol (web/http_protocol.py), not uvicorn's
        # stock one, which answers these in text/plain and has no head limit.
        for _ in range(4):
            garbage = raw_request(mock.root_url, "GET", b"/api/v1/me.json\x00", [])
            assert garbage.status == 400 and garbage.json()["error"].startswith("Bad Request: malformed HTTP")
            too_big = raw_request(mock.root_url, "GET", "/api/v1/me.json", [("X-Pad", "a" * 40_000)])
            assert too_big.status == 431, too_big.body[:200]
            assert_error_shape(431, too_big.json())
        log = mock.output()
        # Each worker listens on a socket of its own (mockserver/_workers.py): with
        # uvicorn's one shared socket, the first worker awake took nearly every connection.
        workers = _worker_pids(log)
        assert len(workers) == 2, log[-2000:]
        assert sorted(_listening_on(mock.root_url).values()) == sorted(workers)
    assert log.count("Started server process") == 2, log[-2000:]


def test_a_dead_workers_socket_goes_with_it(new_database: Callable[[str], str]) -> None:
    """The supervisor keeps no copy of a worker's socket: after a worker is killed,
    no new connection is left waiting on a socket nobody accepts from, and the
    worker started in its place listens on a socket of its own."""
    database = new_database("dead_worker")
    with spawn_mock("--store", database, "--workers", "2", "--log-level", "info", timeout=120) as mock:
        killed = _worker_pids(mock.output())[0]
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(_worker_pids(mock.output())) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(40):  # new connections each, spread over the sockets by the kernel
            assert httpx.get(f"{mock.base_url}/me.json", headers=AUTH1, timeout=5).status_code == 200
        workers = _worker_pids(mock.output())
        assert len(workers) == 3, mock.output()[-2000:]
        assert sorted(_listening_on(mock.root_url).values()) == sorted(set(workers) - {killed})


def _worker_pids(log: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", log)]


def _listening_on(root_url: str) -> dict[int, int]:
    """The sockets listening on root_url's port (by inode), each with the process holding it."""
    port = int(root_url.rsplit(":", 1)[1])
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(int(fields[9]))
    holders: dict[int, set[int]] = {inode: set() for inode in inodes}
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                    holders[int(link[8:-1])].add(int(fd_dir.parent.name))
    assert all(len(pids) == 1 for pids in holders.values()), f"each socket held by one process: {holders}"
    return {inode: pids.pop() for inode, pids in holders.items()}


def test_import_is_all_or_nothing_against_a_late_writer(new_database: Callable[[str], str]) -> None:
    """The unique index, not a check, refuses an import whose external_id another
    writer took after the importer checked: nothing of it is stored."""
    backend = build_backend(MockSettings(store=new_database("import")))

    async def run() -> tuple[int, int]:
        await backend.prepare()
        await backend.create_patient(
            acting_as(1), {"first_name": "Late", "last_name": "Writer", "external_id": "ext-late"}
        )
        before = (await backend.accounts())[0][1]
        rows = [{"first_name": "R", "last_name": str(i), "external_id": f"ext-row-{i}"} for i in range(5)]
        rows.append({"first_name": "R", "last_name": "taken", "external_id": "ext-late"})
        with pytest.raises(Taken) as refused:
            await backend.create_patients(1, rows)
        assert (refused.value.field, refused.value.value) == ("external_id", "ext-late")
        with pytest.raises(Taken):
            await backend.create_patients(1, [rows[0], rows[0]])
        after = (await backend.accounts())[0][1]
        await backend.close()
        return before, after

    before, after = asyncio.run(run())
    assert after == before


def test_a_field_added_to_the_spec_becomes_a_column(new_database: Callable[[str], str], tmp_path: Path) -> None:
    """A spec with one more field, on a database made by the plain spec: the
    start-up adds the column, existing patients hold null, writes store it."""
    from starlette.testclient import TestClient

    from mockserver import create_app
    from tests.mockserver.test_spec_driven import spec_copy

    def add_nickname(doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        schemas["PatientWritable"]["properties"]["nickname"] = {
            "anyOf": [{"$ref": "#/components/schemas/TextValue"}, {"type": "null"}]
        }
        schemas["PatientRecord"]["properties"]["nickname"] = {"type": ["string", "null"]}

    dsn = new_database("spec_field")
    asyncio.run(build_backend(MockSettings(store=dsn), load_spec(SPEC_PATH)).prepare())
    app = create_app(MockSettings(spec_path=spec_copy(tmp_path, add_nickname), fixtures_dir=FIXTURES_DIR, store=dsn))
    with TestClient(app, base_url="http://127.0.0.1/api/v1", headers=AUTH1) as client:
        assert client.get("/patients/4821").json()["data"]["nickname"] is None
        created = client.post("/patients", json={"first_name": "A", "last_name": "B", "nickname": "Ace"})
        assert created.json()["data"]["nickname"] == "Ace"
        patient_id = created.json()["data"]["id"]
        assert client.get(f"/patients/{patient_id}").json()["data"]["nickname"] == "Ace"
        assert client.patch(f"/patients/{patient_id}", json={"nickname": None}).json()["data"]["nickname"] is None
    assert query(dsn, "SELECT count(*) FROM patients WHERE nickname IS NULL") == 216


def test_concurrent_updates_through_two_pools_keep_each_row_whole(new_database: Callable[[str], str]) -> None:
    """200 updates of one patient's names at once through two backends (two
    pools, as two processes have): each is applied to the row as the last one
    left it, so the stored search keys are those of the stored names and no two
    updates stamped the same `updated_at` (each moved it past the one before)."""
    dsn = new_database("row_lock")
    first, second = (build_backend(MockSettings(store=dsn, pool_size=8)) for _ in range(2))

    async def run() -> tuple[list[int], Any]:
        await first.prepare()
        patient = await first.create_patient(acting_as(1), {"first_name": "A0", "last_name": "B0", "is_active": True})
        jobs = [
            (first if n % 2 else second).update_patient(
                acting_as(1), patient.id, {"first_name": f"A{n}"} if n % 3 else {"last_name": f"B{n}"}
            )
            for n in range(1, 201)
        ]
        stamps = [p.updated_at for p in await asyncio.gather(*jobs)]
        conn = await asyncpg.connect(dsn)
        row = await conn.fetchrow(
            "SELECT first_name, last_name, names_key, key_plain_names FROM patients WHERE id = $1", patient.id
        )
        await conn.close()
        await first.close()
        await second.close()
        return stamps, row

    stamps, row = asyncio.run(run())
    assert len(set(stamps)) == 200
    from mockserver.store.pg.keys import SearchKeys

    probe = build_backend(MockSettings(store=dsn)).schema.new(first_name=row["first_name"], last_name=row["last_name"])
    plain_names = SearchKeys()(probe)[3]
    assert (row["names_key"], row["key_plain_names"]) == (probe.names_key, plain_names)


def test_a_bulk_load_answers_as_a_plain_one(
    new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk path (rows sorted by name, indexes dropped and rebuilt, VACUUM),
    taken here for the fixtures: the same indexes as a plain load, and the same
    pages and totals as the memory store."""
    from mockserver.store.pg import loading
    from mockserver.store.planner import PatientQuery

    plain_dsn, bulk_dsn = new_database("plain_load"), new_database("bulk_load")
    memory = build_backend(MockSettings())
    queries = [
        PatientQuery(),
        PatientQuery(is_active=False),
        PatientQuery(q="hoxha"),
        PatientQuery(q="стојан"),
        PatientQuery(q="069"),
        PatientQuery(q="example"),
        PatientQuery(phone="70"),
        PatientQuery(q="ma"),
    ]

    async def indexes(dsn: str) -> set[str]:
        conn = await asyncpg.connect(dsn)
        try:
            return {r[0] for r in await conn.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'patients'")}
        finally:
            await conn.close()

    async def run() -> None:
        await build_backend(MockSettings(store=plain_dsn)).prepare()
        monkeypatch.setattr(loading, "REBUILD_INDEXES_FROM", 10)
        bulk = build_backend(MockSettings(store=bulk_dsn))
        await bulk.prepare()
        assert await indexes(bulk_dsn) == await indexes(plain_dsn)
        # Rebuilt as they were: the trigram indexes with the smallest pending list (schema v4).
        limited = f"WITH (fastupdate='on', gin_pending_list_limit='{GIN_PENDING_LIST_KB}')"
        assert sum("gin_trgm_ops" in d and limited in d for d in await indexes(bulk_dsn)) == 4
        for query in queries:
            for page in (1, 2, 3):
                got = await bulk.list_patients(acting_as(1), query, page, 7)
                want = await memory.list_patients(acting_as(1), query, page, 7)
                assert ([p.id for p in got[0]], got[1]) == ([p.id for p in want[0]], want[1]), query
        await bulk.close()

    asyncio.run(run())


def test_searches_plan_each_needle_and_lookups_reuse_their_plans(new_database: Callable[[str], str]) -> None:
    """Lookups, pages and writes go through a pool where PostgreSQL reuses one plan;
    filtered lists through one where each is planned for its needle (store/pg/backend.py
    `_open_pools`)."""
    backend = build_backend(MockSettings(store=new_database("plans")))

    async def run() -> tuple[str, str, int]:
        await backend.start()
        lookups = await (await backend._get_pool()).fetchval("SHOW plan_cache_mode")
        searches = await (await backend._get_pool(search=True)).fetchval("SHOW plan_cache_mode")
        found = await backend.list_patients(
            acting_as(1), PatientQuery(q="ho"), 1, 20
        )  # a needle shorter than a trigram
        await backend.close()
        return lookups, searches, found[1]

    lookups, searches, total = asyncio.run(run())
    assert (lookups, searches) == ("force_generic_plan", "force_custom_plan")
    assert total > 0


@pytest.mark.parametrize("query", [PatientQuery(), PatientQuery(is_active=False)], ids=["all", "one-status"])
def test_the_reused_plan_of_a_page_walks_the_page_index(
    new_database: Callable[[str], str], query: PatientQuery
) -> None:
    """The one plan a page gets must read the account's rows in the page index's order
    and stop at the page (not filter the whole table by its primary key, nor sort it):
    the backend's ORDER BY is that index's key."""
    backend = build_backend(MockSettings(store=new_database("page_plan"), pool_size=1))

    async def run() -> list[str]:
        await backend.start()
        page, _ = await backend.list_patients(acting_as(1), query, 1, 5)
        assert page
        async with (await backend._get_pool()).acquire() as conn:
            name, parameters = await conn.fetchrow(
                "SELECT name, parameter_types::text[] FROM pg_prepared_statements "
                "WHERE statement LIKE '%patient_counts%' AND statement LIKE '%LIMIT%' "
                "AND statement NOT LIKE '%pg_prepared_statements%'"  # not this one
            )
            values = {"integer": "1", "bigint": "1", "boolean": "false"}
            args = ", ".join(values.get(t, "5") for t in parameters[:-2]) + ", 5, 0"
            # A tiny table: let the plan show what it would be on a big one.
            await conn.execute("SET enable_seqscan = off")
            plan = [row[0] for row in await conn.fetch(f"EXPLAIN EXECUTE {name}({args})")]
        await backend.close()
        return plan

    plan = "\n".join(asyncio.run(run()))
    assert "patients_page" in plan, plan
    assert "Sort" not in plan and "patients_pkey" not in plan, plan


def test_requests_waiting_for_a_connection_get_one_in_turn(postgres_dsn: str) -> None:
    """Far more requests than connections, arriving all the time: each gets its
    connection in the order it asked (store/pg/pool.py). Through asyncpg's own pool
    a request asking while a waiter is woken takes the connection first, and one
    request here was served ~270 places late (p99 of a list under load: 0.4 s)."""

    async def run() -> list[int]:
        opened = await asyncpg.create_pool(postgres_dsn, min_size=1, max_size=1)
        pool = FairPool(opened)
        served: list[int] = []

        async def ask(n: int) -> None:
            async with pool.acquire() as conn:
                served.append(n)
                await conn.execute("SELECT 1")

        tasks = []
        for n in range(300):
            tasks.append(asyncio.create_task(ask(n)))
            await asyncio.sleep(0)  # the next one asks while earlier ones are being served
        await asyncio.gather(*tasks)
        await pool.close()
        return served

    assert asyncio.run(run()) == list(range(300))
