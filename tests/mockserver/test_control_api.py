"""The control API: reset, tokens (secret shown once, revoked means 401 next
time), and the whole state exported and loaded as JSON."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.reliability.cases_state import UNANSWERABLE_PATIENTS


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


def test_reset_keeps_a_revoked_fixture_token_revoked(reset_mock: Any, tokens: Any) -> None:
    """The spec: a revoked token can never be re-enabled. Reset used to rebuild it live."""
    root, base = reset_mock.root_url, reset_mock.base_url
    second = tokens[3].live[1]
    listed = httpx.get(f"{root}/__mock/accounts/3/tokens").json()["data"]
    token_id = next(t["id"] for t in listed if t["hint"] == second[:8])
    created = httpx.post(f"{root}/__mock/accounts/3/tokens", json={"name": "kept across resets"}).json()
    try:
        assert httpx.request("DELETE", f"{root}/__mock/tokens/{token_id}", json={}).status_code == 200
        assert httpx.post(f"{root}/__mock/reset", json={}).status_code == 200
        assert httpx.get(f"{base}/me.json", headers={"Authorization": f"Bearer {second}"}).status_code == 401
        assert (
            httpx.get(f"{base}/me.json", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200
        ), "a token created before a reset keeps working"
    finally:
        # This session's mock keeps the revocation for good: give the token back by loading a state
        # in which it is live (PUT /__mock/state replaces tokens as the document says).
        state = httpx.get(f"{root}/__mock/state").json()
        for account in state["accounts"]:
            for entry in account["tokens"]:
                if entry["id"] == token_id:
                    entry["revoked"] = False
        assert httpx.put(f"{root}/__mock/state", json=state).status_code == 200
