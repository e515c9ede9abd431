"""Concurrent writes through uvicorn on a real port, across two accounts.

200 creates and 200 patches are sent at once over many connections, shuffled
with a fixed seed. Every request must succeed, ids must be unique, totals
exact, and no update may be lost: replaying the patches in the order the
server applied them (each answer's `updated_at`, strictly increasing per
patient) must give every answer, and the final record, exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import RunningMock
from tests.support.reliability import token

CREATES_PER_ACCOUNT = 100
PATCHES_PER_ACCOUNT = 100
SEED_PATIENTS = {1: (1, 2, 3), 2: (4, 5, 6)}  # two_accounts_document()
PATCHED_FIELDS = ("personal_no", "insurance_id", "insurance_provider", "emergency_contact_name", "allergies",
                  "last_name")  # fmt: skip
EXPANSIONS = "insurance_id,insurance_provider,emergency_contact_name,allergies"


def _plan(rng: random.Random) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(account, method, path, body) for every request, shuffled."""
    requests: list[tuple[int, str, str, dict[str, Any]]] = []
    for account in (1, 2):
        for i in range(CREATES_PER_ACCOUNT):
            body = {"first_name": f"Concurrent{i}", "last_name": f"Account{account}", "external_id": f"c-{account}-{i}"}
            requests.append((account, "POST", "/patients", body))
        for i in range(PATCHES_PER_ACCOUNT):
            fields = rng.sample(PATCHED_FIELDS, rng.randint(1, 3))
            body = {name: f"w{account}-{i}-{name}" for name in fields}
            requests.append((account, "PATCH", f"/patients/{rng.choice(SEED_PATIENTS[account])}", body))
    rng.shuffle(requests)
    return requests


@dataclass
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def _send_all(base_url: str, plan: list[tuple[int, str, str, dict[str, Any]]]) -> list[Answer]:
    """All requests at once, one connection each (httpx's async pool, not the
    server, is the bottleneck at this concurrency on two cores)."""
    parts = urlsplit(base_url)
    start = asyncio.Event()

    async def send(account: int, method: str, path: str, body: dict[str, Any]) -> Answer:
        payload = json.dumps(body).encode()
        head = (
            f"{method} {parts.path}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
            f"Authorization: Bearer {token(account, 1)}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        await start.wait()
        writer.write(head + payload)
        await writer.drain()
        raw = await reader.read()
        writer.close()
        await writer.wait_closed()
        status_line, _, rest = raw.partition(b"\r\n")
        return Answer(int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2])

    async def run() -> list[Answer]:
        tasks = [asyncio.create_task(send(*item)) for item in plan]
        await asyncio.sleep(0.2)  # let every connection open, then release them together
        start.set()
        return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=60))

    return await run()


@pytest.fixture
def read(fresh_rmock: RunningMock) -> Iterator[Callable[[int, str], Any]]:
    """read(account, path): a GET as that account, on one kept-alive connection."""
    with httpx.Client(base_url=fresh_rmock.base_url, timeout=30) as client:

        def get(account: int, path: str) -> Any:
            response = client.get(path, headers={"Authorization": f"Bearer {token(account, 1)}"})
            response.raise_for_status()
            return response.json()

        yield get


def test_concurrent_creates_and_patches(fresh_rmock: RunningMock, read: Callable[[int, str], Any]) -> None:
    totals_before = {a: read(a, "/patients")["meta"]["total"] for a in (1, 2)}
    plan = _plan(random.Random(4821))

    responses = asyncio.run(_send_all(fresh_rmock.base_url, plan))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 2 * CREATES_PER_ACCOUNT, 200: 2 * PATCHES_PER_ACCOUNT}, statuses

    # Creates: unique ids, each in its own account, totals exact.
    created = [(item[0], r.json()["data"]) for item, r in zip(plan, responses, strict=True) if item[1] == "POST"]
    ids = [record["id"] for _, record in created]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {i for seeds in SEED_PATIENTS.values() for i in seeds}
    for account in (1, 2):
        assert read(account, "/patients")["meta"]["total"] == totals_before[account] + CREATES_PER_ACCOUNT
        mine = [record for owner, record in created if owner == account]
        listed = read(account, "/patients?per_page=100&page=2")["data"]  # ids ascend: page 2 is new
        assert {p["id"] for p in listed} <= {r["id"] for r in mine}
        for record in mine[:10]:
            assert read(account, f"/patients/{record['id']}")["data"]["external_id"] == record["external_id"]
    state = httpx.get(f"{fresh_rmock.root_url}/__mock/state").json()
    all_ids = [p["id"] for p in state["patients"]]
    assert len(all_ids) == len(set(all_ids))

    # Patches: replayed in the order the server applied them, nothing is lost.
    applied: dict[int, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for (_, method, _path, body), response in zip(plan, responses, strict=True):
        if method == "PATCH":
            record = response.json()["data"]
            applied.setdefault(record["id"], []).append((record["updated_at"], body, record))
    for patient_id, writes in applied.items():
        writes.sort(key=lambda w: w[0])
        stamps = [w[0] for w in writes]
        assert len(set(stamps)) == len(stamps), "two writes of one patient share an updated_at"
        account = 1 if patient_id in SEED_PATIENTS[1] else 2
        expected: dict[str, Any] = {}
        for _, body, answer in writes:
            expected.update(body)
            shown = {k: answer[k] for k in expected if k in answer}  # PATCH answers without expansions
            assert shown == {k: expected[k] for k in shown}, f"patient {patient_id}: an earlier write was lost"
        final = read(account, f"/patients/{patient_id}?fields={EXPANSIONS}")["data"]
        assert {k: final[k] for k in expected} == expected
        assert final["updated_at"] == stamps[-1]
