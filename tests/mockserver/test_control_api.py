"""The control API: reset, tokens (secret shown once, revoked means 401 next
time), and the whole state exported and loaded as JSON."""

from __future__ import annotations

from typing import Any

import httpx


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
    revoked = httpx.delete(f"{root}/__mock/tokens/{created.json()['id']}")
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
    assert httpx.put(f"{root}/__mock/state", content=b"{nope").status_code == 400
