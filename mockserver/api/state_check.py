"""State documents checked against the API's rules before they replace anything.

A state document (`PUT /__mock/state`, a JSON state file being migrated, the
fixtures) holds values the API answers later. Before, any value the loader
could store was taken: a timestamp in year 10000 or a `preferences` value
nested 300 deep made every read of it a 500, and the save at exit failed.
Now each value is checked as the API would check or answer it:

* a patient's writable fields through the same compiled request validator as
  `POST /patients` (the createPatient body), as a POST body;
* its stored and read-only fields by answering it: the full record (every
  expansion field, timestamps written out) against the spec's `Patient`
  schema, and its id within the range the path parameter allows;
* each user as `GET /me.json` answers it (the spec's `User` schema), each
  token as the control API writes it (a name like a new token's, a SHA-256
  hash, a timestamp that can be written out).

Problems are 422 messages under the place they are in the document:
`patients[id=7].birthdate`, `accounts[id=1].users[id=2].avatar_url`,
`accounts[id=1].tokens[id=12].name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dentare_spec import ApiSpec, object_shape

from .._exceptions import InvalidState, ValidationFailed
from ..domain.models import Account, Token
from ..domain.records import Patient
from ..domain.timestamps import format_timestamp
from ..store.memory import Store
from . import messages
from .inputs import deep_fields, shallow
from .validation import RequestValidator, compile_schema, schema_errors
from .views import COMPUTED, PatientView, expansion_fields

__all__ = ["MAX_TOKEN_NAME", "StateCheck"]

MAX_TOKEN_NAME = 255
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COUNTRY = re.compile(r"[A-Z]{2}")


class StateCheck:
    """`records(document, source)` before a document is loaded, `loaded(store, source)`
    after: InvalidState naming every value the API could not take or answer."""

    def __init__(self, spec: ApiSpec, view: PatientView):
        create = spec.operation("createPatient")
        if create.body_schema is None:
            raise ValueError("createPatient has no request body")
        self._request = RequestValidator(create)
        self._writable = tuple(object_shape(create.body_schema).properties)
        patient_fields = object_shape(spec.schema("Patient")).properties
        self._stored = frozenset(name for name in patient_fields if name not in COMPUTED) | {"account_id"}
        self._patient = compile_schema(spec.schema("Patient"))
        self._user = compile_schema(spec.schema("User"))
        self._view = view
        self._expansion = expansion_fields(spec)
        self._max_id = int(spec.operation("getPatient").parameter("id").schema.get("maximum", 2**63 - 1))

    def records(self, document: Any, source: str) -> None:
        """Each account's, user's and token's values of the type they are kept as, and
        each patient's fields known (a stored field of the spec's `Patient`) and its
        writable ones valid as a POST body, before the loader reads them."""
        accounts = document.get("accounts") if isinstance(document, Mapping) else None
        patients = document.get("patients") if isinstance(document, Mapping) else None
        errors: dict[str, list[str]] = {}
        for index, raw in enumerate(accounts if isinstance(accounts, list) else ()):
            place = self._kinds(raw, f"accounts[{index}]", "accounts", _ACCOUNT, errors)
            if place is None:
                continue
            for part, kinds in (("users", _USER), ("tokens", _TOKEN)):
                listed = raw.get(part, [])
                if not isinstance(listed, list):
                    _add(errors, place, part, [messages.INVALID])
                    continue
                for n, item in enumerate(listed):
                    at = self._kinds(item, f"{place}.{part}[{n}]", f"{place}.{part}", kinds, errors)
                    if at is not None and part == "tokens" and not (item.get("token") or item.get("token_sha256")):
                        _add(errors, at, "token_sha256", [messages.BLANK])  # the secret, or its hash
        for index, raw in enumerate(patients if isinstance(patients, list) else ()):
            if not isinstance(raw, Mapping):
                _add(errors, f"patients[{index}]", messages.BASE, [messages.NOT_AN_OBJECT])
                continue
            place = _patient_place(raw, index)
            for name in raw.keys() - self._stored:
                _add(errors, place, str(name), [messages.NOT_PERMITTED])
            for name in ("created_at", "updated_at"):  # written out as the API answers them
                if name in raw and not isinstance(raw[name], str):
                    _add(errors, place, name, [messages.INVALID])
            try:
                self._request.body({name: raw[name] for name in self._writable if name in raw})
            except ValidationFailed as refused:
                for field, found in refused.errors.items():
                    _add(errors, place, field, found)
        if errors:
            raise InvalidState(source, errors)

    def _kinds(
        self, raw: Any, at: str, within: str, kinds: Mapping[str, _Kind], errors: dict[str, list[str]]
    ) -> str | None:
        """Where `raw` is (by its id when it has a valid one), once each of its `kinds` is
        checked; None when it is not an object."""
        if not isinstance(raw, Mapping):
            _add(errors, at, messages.BASE, [messages.NOT_AN_OBJECT])
            return None
        place = f"{within}[id={raw['id']}]" if _id_ok(raw.get("id"), self._max_id) else at
        for name, (required, ok) in kinds.items():
            if name not in raw:
                if required:
                    _add(errors, place, name, [messages.BLANK])
            elif not ok(raw[name], self._max_id):
                _add(errors, place, name, [messages.INVALID])
        return place

    def loaded(self, store: Store, source: str) -> None:
        """Every stored value as the API would answer it."""
        errors: dict[str, list[str]] = {}
        for account in store.accounts():
            self._account(account, store.tokens(account.id), errors)
        for patient in store.patients():
            self._answer(patient, errors)
        if errors:
            raise InvalidState(source, errors)

    # -- patients -----------------------------------------------------------------------------

    def _answer(self, p: Patient, errors: dict[str, list[str]]) -> None:
        place = f"patients[id={p.id}]"
        if not _id_ok(p.id, self._max_id):
            _add(errors, place, "id", [messages.INVALID])
            return
        unwritable = [name for name in ("created_at", "updated_at") if not _writes_out(getattr(p, name, None))]
        for name in unwritable:
            _add(errors, place, name, [messages.INVALID])
        if unwritable:
            return
        try:
            record = self._view(p, None, self._expansion)
        except (TypeError, ValueError, AttributeError, KeyError):
            _add(errors, place, messages.BASE, [messages.INVALID])
            return
        deep = deep_fields(record)
        found = schema_errors(self._patient, shallow(record, deep) if deep else record)
        for name in deep:
            found.setdefault(name, [messages.INVALID])
        for field, listed in found.items():
            # The record holds the schema's own properties only: "not permitted" is the
            # schema's unevaluatedProperties echoing another field's failure.
            _add(errors, place, field, [m for m in listed if m != messages.NOT_PERMITTED])

    # -- accounts, users, tokens --------------------------------------------------------------

    def _account(self, account: Account, tokens: list[Token], errors: dict[str, list[str]]) -> None:
        place = f"accounts[id={account.id}]"
        if not _id_ok(account.id, self._max_id):
            _add(errors, place, "id", [messages.INVALID])
        if not _text_ok(account.name):
            _add(errors, place, "name", [messages.INVALID])
        country = account.country
        if country is not None and not (isinstance(country, str) and _COUNTRY.fullmatch(country)):
            _add(errors, place, "country", [messages.INVALID])
        for user in account.users.values():
            # As getMe answers (its default avatar is a valid URI; the sgid is made, never stored).
            avatar = user.avatar_url or "https://dentare.io/"
            answer = {"id": user.id, "name": user.name, "avatar_url": avatar, "sgid": ""}
            for field, listed in schema_errors(self._user, _scalars(answer)).items():
                _add(errors, f"{place}.users[id={user.id}]", field, listed)
        for token in tokens:
            self._token(f"{place}.tokens[id={token.id}]", token, errors)

    def _token(self, place: str, token: Token, errors: dict[str, list[str]]) -> None:
        if not _id_ok(token.id, self._max_id):
            _add(errors, place, "id", [messages.INVALID])
        if not (isinstance(token.name, str) and token.name.strip()):
            _add(errors, place, "name", [messages.BLANK])
        elif len(token.name) > MAX_TOKEN_NAME:
            _add(errors, place, "name", [messages.too_long(MAX_TOKEN_NAME)])
        elif _CONTROL.search(token.name):
            _add(errors, place, "name", [messages.INVALID])
        if not (isinstance(token.token_sha256, str) and _SHA256.fullmatch(token.token_sha256)):
            _add(errors, place, "token_sha256", [messages.INVALID])
        if not (isinstance(token.hint, str) and len(token.hint) <= 8 and not _CONTROL.search(token.hint)):
            _add(errors, place, "hint", [messages.INVALID])
        if not isinstance(token.revoked, bool):
            _add(errors, place, "revoked", [messages.INVALID])
        if not _writes_out(token.created_at):
            _add(errors, place, "created_at", [messages.INVALID])


def _add(errors: dict[str, list[str]], place: str, field: str, found: list[str]) -> None:
    if not found:
        return
    key = place if field == messages.BASE else f"{place}.{field}"
    listed = errors.setdefault(key, [])
    listed.extend(m for m in found if m not in listed)


def _patient_place(raw: Mapping[str, Any], index: int) -> str:
    patient_id = raw.get("id")
    return f"patients[id={patient_id}]" if _id_ok(patient_id, 2**63 - 1) else f"patients[{index}]"


def _writes_out(epoch_ms: Any) -> bool:
    """A timestamp the API can write as RFC 3339 (years 0001 to 9999)."""
    if not isinstance(epoch_ms, int) or isinstance(epoch_ms, bool):
        return False
    try:
        format_timestamp(epoch_ms)
    except (ValueError, OverflowError, OSError):
        return False
    return True


def _id_ok(value: Any, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= maximum


def _text_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 255 and not _CONTROL.search(value)


def _scalars(answer: Mapping[str, Any]) -> dict[str, Any]:
    """An answer whose nested values are emptied when too deep for the validator."""
    deep = deep_fields(answer)
    return shallow(answer, deep) if deep else dict(answer)


#: (required, valid(value, largest id)) for a value of a state document's accounts, users and
#: tokens, checked before they are loaded; what they may hold beyond their type, after.
_Kind = tuple[bool, Callable[[Any, int], bool]]


def _is_text(value: Any, _: int) -> bool:
    return isinstance(value, str)


def _is_text_or_null(value: Any, _: int) -> bool:
    return value is None or isinstance(value, str)


_ACCOUNT: dict[str, _Kind] = {"id": (True, _id_ok), "name": (True, _is_text), "country": (False, _is_text_or_null)}
_USER: dict[str, _Kind] = {
    "id": (True, _id_ok),
    "name": (True, _is_text),
    "email": (False, _is_text_or_null),
    "role": (False, _is_text),
    "avatar_url": (False, _is_text_or_null),
}
_TOKEN: dict[str, _Kind] = {
    "id": (True, _id_ok),
    "user_id": (True, _id_ok),
    "name": (True, _is_text),
    "token": (False, _is_text),
    "token_sha256": (False, _is_text),
    "hint": (False, _is_text_or_null),
    "revoked": (False, lambda value, _: isinstance(value, bool)),
    "created_at": (False, _is_text_or_null),
}
