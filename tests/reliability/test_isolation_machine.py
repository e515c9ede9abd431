"""Account isolation as a property: a hypothesis state machine drives create,
patch, archive, list, search and get across two accounts (and their tokens,
one of which it may revoke) against a plain model. After every step each
account sees, counts and reads exactly its own patients as last written; a
request for another clinic's patient is a 404 that changes nothing.

Runs in-process (httpx.ASGITransport) for speed, with the named hypothesis
profile from tests/support/reliability.py: derandomized and bounded in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from tests.support.reliability import PROFILE, InProcessClient, in_process_app, load_state, token, two_accounts_document

ACCOUNTS = (1, 2)
# Names are shared by both clinics on purpose, so a leak would be found by search.
# ASCII letters the search key does not rewrite (no c d h l q r t w x y), so
# "contains" in the model means the same as in the server.
NAMES = st.sampled_from(["Ana", "Bojan", "Ema", "Fani", "Genta", "Mimoza", "Sufi", "Vane", "Zana", "Besnik"])
UNICODE = st.sampled_from(["Ана", "Ëmira", "Çela", "🦷 Zana", "Stojanovska", "Hoxha"])
EXTERNAL_IDS = st.sampled_from(["ext-1", "ext-2", "ext-3", None])
OPTIONAL = {
    "email": st.sampled_from(["ana@example.com", "ema@example.org", None]),
    "personal_no": st.sampled_from(["I90515123A", "1505990450001", None]),
    "external_id": EXTERNAL_IDS,
    "locale": st.sampled_from(["en", "sq", "mk", None]),
    "gender": st.sampled_from(["male", "female", "other", None]),
    "allergies": st.sampled_from(["Penicilinë", "латекс", "", None]),
}
MODELLED = ("first_name", "last_name", *OPTIONAL, "is_active")


def _changes() -> st.SearchStrategy[dict[str, Any]]:
    fields = {"first_name": NAMES | UNICODE, "last_name": NAMES | UNICODE, **OPTIONAL, "is_active": st.booleans()}
    return st.fixed_dictionaries({}, optional=fields)


@cache
def _shared() -> tuple[Any, InProcessClient]:
    """One app for every example (building it validates the spec, which is slow); its
    state is replaced at the start of each example."""
    app = in_process_app()
    return app, InProcessClient(app)


@pytest.fixture(scope="module", autouse=True)
def _close_shared() -> Iterator[None]:
    yield
    if _shared.cache_info().currsize:
        _shared()[1].close()
        _shared.cache_clear()


class Isolation(RuleBasedStateMachine):
    patients = Bundle("patients")

    def __init__(self) -> None:
        super().__init__()
        app, self.client = _shared()
        document = two_accounts_document()
        load_state(app, document)
        self.model: dict[int, dict[int, dict[str, Any]]] = {a: {} for a in ACCOUNTS}
        for record in document["patients"]:
            self.model[record["account_id"]][record["id"]] = {
                **dict.fromkeys(MODELLED),
                "first_name": record["first_name"],
                "last_name": record["last_name"],
                "is_active": True,
                "allergies": None,
            }
        self.revoked: set[int] = set()

    # -- helpers -----------------------------------------------------------------------------

    def call(self, account: int, n: int, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token(account, n)}"}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def owner(self, patient_id: int) -> int:
        return next(a for a in ACCOUNTS if patient_id in self.model[a])

    def live(self, account: int, n: int) -> bool:
        return (account, n) not in self.revoked

    @staticmethod
    def unauthorized(response: Any) -> None:
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "Unauthorized"}

    # -- rules -------------------------------------------------------------------------------

    @initialize(target=patients)
    def seeds(self) -> Any:
        return multiple(*[pid for account in ACCOUNTS for pid in self.model[account]])

    @rule(target=patients, account=st.sampled_from(ACCOUNTS), n=st.sampled_from([1, 2]),
          first=NAMES | UNICODE, last=NAMES | UNICODE, extra=_changes())  # fmt: skip
    def create(self, account: int, n: int, first: str, last: str, extra: dict[str, Any]) -> Any:
        body = {**extra, "first_name": first, "last_name": last}
        response = self.call(account, n, "POST", "/patients", json=body)
        if not self.live(account, n):
            self.unauthorized(response)
            return multiple()
        if self._taken(account, body.get("external_id"), None):
            assert response.status_code == 422, response.text
            assert response.json()["errors"] == {"external_id": ["has already been taken"]}
            return multiple()
        assert response.status_code == 201, response.text
        record = response.json()["data"]
        assert all(record[k] == v for k, v in body.items() if k in record)
        assert not any(record["id"] in self.model[a] for a in ACCOUNTS), "an id was reused"
        self.model[account][record["id"]] = {**dict.fromkeys(MODELLED), "is_active": True, **body}
        return record["id"]

    @rule(patient=patients, account=st.sampled_from(ACCOUNTS), n=st.sampled_from([1, 2]), changes=_changes())
    def patch(self, patient: int, account: int, n: int, changes: dict[str, Any]) -> None:
        response = self.call(account, n, "PATCH", f"/patients/{patient}", json=changes)
        if not self.live(account, n):
            return self.unauthorized(response)
        if self.owner(patient) != account:
            assert response.status_code == 404, response.text
            assert response.json() == {"error": "Not Found"}
            return None
        if self._taken(account, changes.get("external_id"), patient):
            assert response.status_code == 422, response.text
            return None
        assert response.status_code == 200, response.text
        self.model[account][patient].update(changes)
        return None

    @rule(patient=patients, account=st.sampled_from(ACCOUNTS), archived=st.booleans())
    def archive(self, patient: int, account: int, archived: bool) -> None:
        self.patch(patient, account, 1, {"is_active": not archived})

    @rule(patient=patients, account=st.sampled_from(ACCOUNTS), n=st.sampled_from([1, 2]))
    def get(self, patient: int, account: int, n: int) -> None:
        response = self.call(account, n, "GET", f"/patients/{patient}?fields=allergies")
        if not self.live(account, n):
            return self.unauthorized(response)
        if self.owner(patient) != account:
            assert response.status_code == 404, response.text
            assert response.json() == {"error": "Not Found"}
            return None
        assert response.status_code == 200, response.text
        record = response.json()["data"]
        assert {k: record[k] for k in MODELLED} == self.model[account][patient]
        return None

    @rule(account=st.sampled_from(ACCOUNTS), query=NAMES | st.sampled_from(["an", "ZANA", "mo", "ext-1"]),
          active=st.booleans())  # fmt: skip
    def search(self, account: int, query: str, active: bool) -> None:
        response = self.call(account, 1, "GET", "/patients", params={"q": query, "is_active": str(active).lower(),
                                                                      "per_page": 100})  # fmt: skip
        assert response.status_code == 200, response.text
        found = {p["id"] for p in response.json()["data"]}
        own = {pid for pid, r in self.model[account].items() if r["is_active"] is active}
        assert found <= own, f"account {account} found patients that are not its own: {found - own}"
        needle = query.casefold()
        for pid in own:
            record = self.model[account][pid]
            names = [record["first_name"], record["last_name"]]
            if any(name.isascii() and needle in name.casefold() for name in names):
                assert pid in found, f"account {account} did not find its own patient {pid} by {query!r}"
        assert response.json()["meta"]["total"] == len(found)

    @rule(account=st.sampled_from(ACCOUNTS), external_id=st.sampled_from(["ext-1", "ext-2", "ext-3"]))
    def filter_by_external_id(self, account: int, external_id: str) -> None:
        response = self.call(account, 2 if self.live(account, 2) else 1, "GET", "/patients",
                             params={"external_id": external_id})  # fmt: skip
        assert response.status_code == 200, response.text
        expected = {pid for pid, r in self.model[account].items() if r["external_id"] == external_id and r["is_active"]}
        assert {p["id"] for p in response.json()["data"]} == expected

    @rule(account=st.sampled_from(ACCOUNTS))
    def revoke_second_token(self, account: int) -> None:
        response = self.client.request("DELETE", f"/__mock/tokens/{account * 10 + 2}", json={})
        assert response.status_code == 200, response.text
        self.revoked.add((account, 2))

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def each_account_lists_exactly_its_own(self) -> None:
        for account in ACCOUNTS:
            for active in (True, False):
                response = self.call(account, 1, "GET", "/patients", params={
                    "is_active": str(active).lower(), "per_page": 100, "fields": "allergies",
                })  # fmt: skip
                assert response.status_code == 200, response.text
                body = response.json()
                listed = {p["id"]: {k: p.get(k, None) for k in MODELLED} for p in body["data"]}
                expected = {pid: r for pid, r in self.model[account].items() if r["is_active"] is active}
                assert set(listed) == set(expected), f"account {account} lists {set(listed) ^ set(expected)} wrongly"
                assert body["meta"]["total"] == len(expected)
                for pid, record in expected.items():
                    shown = {k: v for k, v in listed[pid].items() if k in body["data"][0]}
                    assert shown == {k: record[k] for k in shown}, f"patient {pid} reads back differently"

    def _taken(self, account: int, external_id: str | None, own_id: int | None) -> bool:
        return bool(external_id) and any(
            r["external_id"] == external_id for pid, r in self.model[account].items() if pid != own_id
        )


Isolation.TestCase.settings = settings(PROFILE)
TestIsolation = Isolation.TestCase
