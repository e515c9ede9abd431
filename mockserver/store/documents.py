"""Loading and saving the mock's whole state as JSON.

One document shape serves fixtures, exports and state files:
`{"accounts": [...], "patients": [...]}`. Tokens are written as SHA-256
hashes only; a document may give a token in clear (`"token"`, as the
fixtures do so the README can list them), and it is hashed on load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import FixtureError, Missing
from ..domain.models import Account, Token, User
from ..domain.timestamps import format_timestamp, parse_timestamp
from ..domain.tokens import hash_token
from .memory import Store

__all__ = ["export_state", "load_document", "load_fixtures_dir", "read_fixtures_dir", "read_json", "token_record"]


def read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise FixtureError(f"cannot read {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise FixtureError(f"{path} is not valid JSON: {exc}") from None


def read_fixtures_dir(folder: Path) -> dict[str, Any]:
    """`accounts.json` and (if present) `patients.json` of `folder` as one document."""
    accounts = read_json(folder / "accounts.json")
    patients_file = folder / "patients.json"
    patients = read_json(patients_file) if patients_file.exists() else {"patients": []}
    if not isinstance(accounts, Mapping) or not isinstance(patients, Mapping):
        raise FixtureError(f"{folder}: accounts.json and patients.json must each hold a JSON object")
    return {**accounts, **patients}


def load_fixtures_dir(store: Store, folder: Path) -> None:
    """Load `accounts.json` and (if present) `patients.json` from `folder`."""
    load_document(store, read_fixtures_dir(folder), source=str(folder))


def load_document(store: Store, document: Mapping[str, Any], *, source: str = "state") -> None:
    """Add the accounts, tokens and patients of `document` to `store`."""
    if not isinstance(document, Mapping) or not isinstance(document.get("accounts"), list):
        raise FixtureError(f"{source}: expected an object with an 'accounts' list")
    where = ""
    try:
        for raw in document["accounts"]:
            where = f"account {raw.get('id')!r}: " if isinstance(raw, Mapping) else ""
            _load_account(store, raw)
        patients = document.get("patients", [])
        if not isinstance(patients, list):
            raise FixtureError("'patients' must be a list")
        for raw in patients:
            where = f"patient {raw.get('id')!r}: " if isinstance(raw, Mapping) else ""
            store.add_patient(store.schema.from_record(raw))
    except FixtureError as exc:
        raise FixtureError(f"{source}: {exc}") from None
    except Missing:
        raise FixtureError(f"{source}: {where}a patient belongs to an account the document does not define") from None
    except KeyError as exc:
        raise FixtureError(f"{source}: {where}{exc} is missing") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise FixtureError(f"{source}: {where}{exc}") from None


def _load_account(store: Store, raw: Mapping[str, Any]) -> None:
    # Values are taken as they are, not converted: a document's wrong types are refused by
    # its check (api/state_check.py), where `str(None)` would have made a name "None".
    account = Account(id=raw["id"], name=raw["name"], country=raw.get("country"))
    for user in raw.get("users", []):
        if user["id"] in account.users:
            raise ValueError(f"user id {user['id']} is already taken")
        account.users[user["id"]] = User(
            id=user["id"],
            name=user["name"],
            email=user.get("email"),
            role=user.get("role", "admin"),
            avatar_url=user.get("avatar_url"),
        )
    store.add_account(account)
    for token in raw.get("tokens", []):
        secret = token.get("token")
        if secret is not None and not isinstance(secret, str):
            raise ValueError(f"token {token.get('id')!r}: its secret is not a string")
        store.add_token(
            Token(
                id=token["id"],
                account_id=account.id,
                user_id=token["user_id"],
                name=token["name"],
                token_sha256=hash_token(secret) if secret else token["token_sha256"],
                created_at=parse_timestamp(token["created_at"]) if token.get("created_at") else 0,
                revoked=token.get("revoked", False),
                hint=token.get("hint") or (secret[:8] if secret else ""),
            )
        )


def export_state(store: Store) -> dict[str, Any]:
    """The whole state; loading it into an empty store gives the same answers."""
    patients = [store.schema.to_record(p) for p in sorted(store.patients(), key=lambda p: p.id)]
    return state_document([(account, store.tokens(account.id)) for account in store.accounts()], patients)


def state_document(
    accounts: Iterable[tuple[Account, Iterable[Token]]], patients: list[dict[str, Any]]
) -> dict[str, Any]:
    """A state document (`GET /__mock/state`) from accounts with their tokens and patient records."""
    return {
        "accounts": [
            {
                "id": account.id,
                "name": account.name,
                "country": account.country,
                "users": [
                    {"id": u.id, "name": u.name, "email": u.email, "role": u.role, "avatar_url": u.avatar_url}
                    for u in account.users.values()
                ],
                "tokens": [token_record(t) for t in tokens],
            }
            for account, tokens in accounts
        ],
        "patients": patients,
    }


def token_record(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "user_id": token.user_id,
        "token_sha256": token.token_sha256,
        "hint": token.hint,
        "revoked": token.revoked,
        "created_at": format_timestamp(token.created_at),
    }
