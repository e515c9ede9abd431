"""A request's `Caller` on the memory backend, which hands out checked principals:
a `Credential` (what the PostgreSQL store hands out, tested through the API in
test_api_rules.py on both stores) is checked by every data method all the same."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mockserver import MockSettings, Principal, TokenRefused
from mockserver.domain.tokens import hash_token
from mockserver.store.backend import Backend, Credential, is_checked
from mockserver.store.planner import PatientQuery
from mockserver.web.app import build_backend
from tests.support import FIXTURES_DIR, acting_as, load_tokens

TOKENS = load_tokens()

# Each with the caller and one of account 1's patients.
CALLS: dict[str, Callable[[Backend, Any, int], Awaitable[Any]]] = {
    "list": lambda b, c, _: b.list_patients(c, PatientQuery(), 1, 5),
    "get": lambda b, c, patient_id: b.get_patient(c, patient_id),
    "create": lambda b, c, _: b.create_patient(c, {"first_name": "C", "last_name": "D", "is_active": True}),
    "update": lambda b, c, patient_id: b.update_patient(c, patient_id, {"last_name": "E"}),
    "principal": lambda b, c, _: b.principal(c),
}


def _backend() -> tuple[Backend, int]:
    backend: Backend = build_backend(MockSettings(fixtures_dir=FIXTURES_DIR))
    patients, _ = asyncio.run(backend.list_patients(acting_as(1), PatientQuery(), 1, 1))
    return backend, patients[0].id


def test_the_memory_backend_hands_out_checked_principals() -> None:
    caller = asyncio.run(_backend()[0].caller(TOKENS[1].token))
    assert isinstance(caller, Principal) and caller.account_id == 1 and is_checked(caller)


@pytest.mark.parametrize("call", CALLS)
def test_a_credential_of_a_live_token_acts_as_its_account(call: str) -> None:
    backend, patient_id = _backend()
    credential = Credential(hash_token(TOKENS[1].token))
    assert not is_checked(credential)
    asyncio.run(CALLS[call](backend, credential, patient_id))
    assert is_checked(credential)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("secret", [TOKENS[1].revoked[0], "dnt_unknownunknownunknownunknown"])
def test_a_credential_of_a_refused_token_is_refused_by_every_data_method(call: str, secret: str) -> None:
    backend, patient_id = _backend()
    before = asyncio.run(backend.export())
    credential = Credential(hash_token(secret))
    with pytest.raises(TokenRefused):
        asyncio.run(CALLS[call](backend, credential, patient_id))
    assert not is_checked(credential)
    assert asyncio.run(backend.export()) == before  # nothing written
