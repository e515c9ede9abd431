"""The control API: reset, tokens (secret shown once, revoked means 401 next
time), and the whole state exported and loaded as JSON."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.reliability.cases_state import UNANSWERABLE_PATIENTS
from tests.support import spawn_mock


def test_created_token_works_once_shown_and_revoked_is_401(reset_mock: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    created = httpx.post(f"{root}/__mock/accounts/2/tokens", json={"name": "Patient sync script"})
    assert created.status_code == 201
    secret = created.json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{base}/me.json", headers=headers).status_code == 200
    listed = httpx.get(f"{root}/__mock/accounts/2/tokens").json()["data"]
    assert any(t["name"] == "Patient sync script" for t in listed)
    assert secret not in httpx.get(f"{root}/__mock/accounts/2/tokens").text  # never shown again
    assert secret not in httpx.get(f"{root}/__mock/state").text
    revoked = httpx.request("DELETE", f"{root}/__mock/tokens/{created.json()['id']}", json={})
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    after = httpx.get(f"{base}/me.json", headers=headers)
    assert after.status_code == 401 and after.json() == {"error": "Unauthorized"}


def test_token_needs_a_name(reset_mock: Any) -> None:
    response = httpx.post(f"{reset_mock.root_url}/__mock/accounts/1/tokens", json={"name": " "})
    assert response.status_code == 422 and response.json()["errors"] == {"name": ["can't be blank"]}


def test_state_export_and_load_round_trip(reset_mock: Any, tokens: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    headers = {"Authorization": f"Bearer {tokens[1].token}"}
    created = httpx.post(f"{base}/patients", headers=headers, json={"first_name": "Saved", "last_name": "State"})
    patient_id = created.json()["data"]["id"]
    state = httpx.get(f"{root}/__mock/state").json()
    reset_mock.reset()
    assert httpx.get(f"{base}/patients/{patient_id}", headers=headers).status_code == 404
    loaded = httpx.put(f"{root}/__mock/state", json=state)
    assert loaded.status_code == 200
    assert httpx.get(f"{base}/patients/{patient_id}", headers=headers).json()["data"]["first_name"] == "Saved"
    assert httpx.get(f"{root}/__mock/state").json() == state
    # Ids keep growing after a load: nothing new reuses an id.
    again = httpx.post(f"{base}/patients", headers=headers, json={"first_name": "N", "last_name": "X"})
    assert again.json()["data"]["id"] > patient_id


def test_a_bad_state_document_changes_nothing(reset_mock: Any, tokens: Any) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    headers = {"Authorization": f"Bearer {tokens[1].token}"}
    before = httpx.get(f"{base}/patients", headers=headers).json()
    for bad in ({"accounts": "x"}, {"accounts": [{"id": 1}]}, [1, 2]):
        response = httpx.put(f"{root}/__mock/state", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"] == "Validation failed"
    assert httpx.get(f"{base}/patients", headers=headers).json() == before
    assert (
        httpx.put(f"{root}/__mock/state", content=b"{nope", headers={"Content-Type": "application/json"}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("change", "field", "message"), list(UNANSWERABLE_PATIENTS.values()), ids=list(UNANSWERABLE_PATIENTS)
)
def test_a_state_document_is_checked_like_the_api_before_it_replaces_anything(
    reset_mock: Any, tokens: Any, change: dict[str, Any], field: str, message: str
) -> None:
    root, base = reset_mock.root_url, reset_mock.base_url
    state = httpx.get(f"{root}/__mock/state").json()
    target = state["patients"][3]
    bad = {**state, "patients": [*state["patients"][:3], {**target, **change}, *state["patients"][4:]]}
    response = httpx.put(f"{root}/__mock/state", json=bad)
    assert response.status_code == 422, response.text
    assert response.json() == {
        "error": "Validation failed",
        "errors": {f"patients[id={target['id']}].{field}": [message]},
    }
    assert httpx.get(f"{root}/__mock/state").json() == state, "nothing was replaced"
    everything = "allergies,preferences,medical_issues,vip,vip_start_date,vip_expiration_date"
    listed = httpx.get(
        f"{base}/patients",
        params={"fields": everything, "per_page": 100},
        headers={"Authorization": f"Bearer {tokens[1].token}"},
    )
    assert listed.status_code == 200


def test_state_document_tokens_and_users_are_checked(reset_mock: Any) -> None:
    root = reset_mock.root_url
    state = httpx.get(f"{root}/__mock/state").json()
    account = state["accounts"][0]
    token = account["tokens"][0]
    user = account["users"][0]
    bad_account = {
        **account,
        "tokens": [{**token, "name": "x" * 50_000}, *account["tokens"][1:]],
        "users": [{**user, "avatar_url": "not a url"}, *account["users"][1:]],
    }
    response = httpx.put(f"{root}/__mock/state", json={**state, "accounts": [bad_account, *state["accounts"][1:]]})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        f"accounts[id={account['id']}].tokens[id={token['id']}].name": ["is too long (maximum is 255 characters)"],
        f"accounts[id={account['id']}].users[id={user['id']}].avatar_url": ["is invalid"],
    }
    assert httpx.get(f"{root}/__mock/state").json() == state


def test_reset_keeps_a_revoked_fixture_token_revoked(tokens: Any) -> None:
    """The spec: a revoked token can never be re-enabled. Reset used to rebuild it live.
    (On a mock of its own: nothing gives the revoked fixture token back.)"""
    second = tokens[3].live[1]
    with spawn_mock() as mock:
        root, base = mock.root_url, mock.base_url
        listed = httpx.get(f"{root}/__mock/accounts/3/tokens").json()["data"]
        token_id = next(t["id"] for t in listed if t["hint"] == second[:8])
        created = httpx.post(f"{root}/__mock/accounts/3/tokens", json={"name": "kept across resets"}).json()
        assert httpx.request("DELETE", f"{root}/__mock/tokens/{token_id}", json={}).status_code == 200
        assert httpx.post(f"{root}/__mock/reset", json={}).status_code == 200
        assert httpx.get(f"{base}/me.json", headers={"Authorization": f"Bearer {second}"}).status_code == 401
        assert (
            httpx.get(f"{base}/me.json", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200
        ), "a token created before a reset keeps working"


def _with_account(state: dict[str, Any], index: int, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    changed = copy.deepcopy(state)
    change(changed["accounts"][index])
    return changed


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(account: dict[str, Any]) -> None:
        target: Any = account
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("index", "change", "key", "message"),
    [
        (0, _set(("tokens", 0, "revoked"), "false"), "accounts[id=1].tokens[id=1].revoked", "is invalid"),
        (0, _set(("tokens", 1, "name"), None), "accounts[id=1].tokens[id=2].name", "is invalid"),
        (0, _set(("users", 0, "name"), None), "accounts[id=1].users[id=1].name", "is invalid"),
        (0, _set(("users", 0, "email"), [["deep"]]), "accounts[id=1].users[id=1].email", "is invalid"),
        (0, _set(("users", 0, "id"), 2**70), "accounts[id=1].users[0].id", "is invalid"),
        (0, _set(("name",), {"a": 1}), "accounts[id=1].name", "is invalid"),
        (0, _set(("id",), "1"), "accounts[0].id", "is invalid"),
        (1, _set(("tokens", 0, "id"), 1), "base", "token id 1 is already taken"),
        (1, _set(("id",), 1), "base", "account id 1 is already taken"),
    ],
    ids=[
        "revoked-as-text",
        "token-name-null",
        "user-name-null",
        "user-email-nested",
        "user-id-beyond-int64",
        "account-name-object",
        "account-id-text",
        "token-id-twice",
        "account-id-twice",
    ],
)
def test_a_state_document_of_wrong_types_or_taken_ids_is_a_422(
    reset_mock: Any, index: int, change: Callable[[dict[str, Any]], None], key: str, message: str
) -> None:
    """Each was taken: "false" revoked the token, null became the name "None", an id twice
    left a token no list showed and no DELETE could revoke, a nested email or a huge id
    was a 503 "retry later" with a state file."""
    root = reset_mock.root_url
    state = httpx.get(f"{root}/__mock/state").json()
    response = httpx.put(f"{root}/__mock/state", json=_with_account(state, index, change))
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(message in m for m in errors.get(key, [])), errors
    assert "Error:" not in response.text, "no Python exception names in the answer"
    assert httpx.get(f"{root}/__mock/state").json() == state, "nothing was replaced"


def test_one_secret_in_two_accounts_is_a_422(reset_mock: Any) -> None:
    root = reset_mock.root_url
    state = httpx.get(f"{root}/__mock/state").json()
    secret = state["accounts"][0]["tokens"][0]["token_sha256"]
    response = httpx.put(
        f"{root}/__mock/state", json=_with_account(state, 1, _set(("tokens", 0, "token_sha256"), secret))
    )
    assert response.status_code == 422, response.text
    assert "has the secret of token" in response.text
    assert httpx.get(f"{root}/__mock/state").json() == state
