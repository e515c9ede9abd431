"""The control API under /__mock: reset, tokens (and the API Tokens page),
state export and load, CSV import.

For tests and integrators, never part of the Dentare API. It answers loopback
clients only, unless an admin key is configured: then any client that sends
it in `X-Mock-Admin-Key` is answered too.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._exceptions import (
    BadRequest,
    FixtureError,
    Forbidden,
    HTTPError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from .models import Patient, Token, format_timestamp
from .routing import error_response, json_response
from .state import export_state
from .tokens_page import tokens_page

__all__ = ["ControlPlane", "build_control_routes"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_IMPORT_BYTES = 32 * 1024 * 1024  # a CSV import; the API's own bodies stop at 1 MiB
ADMIN_KEY_HEADER = "x-mock-admin-key"


class ControlPlane:
    """What the control routes act on; the app supplies it."""

    def __init__(self, app_state: Any, importer: Any = None):
        self._state = app_state
        self._importer = importer  # a csv_import.CsvImporter

    def import_csv(self, account_id: int, data: bytes) -> list[Patient]:
        if self._importer is None:
            raise NotFound()
        patients: list[Patient] = self._importer.import_into(self.store, account_id, data)
        return patients

    @property
    def store(self) -> Any:
        return self._state.store

    def reset(self) -> None:
        self._state.reset()

    def replace(self, document: Any) -> None:
        self._state.replace(document)


def build_control_routes(plane: ControlPlane, admin_key: str | None) -> list[Route]:
    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                _authorize(request, admin_key)
                return await handler(request)
            except HTTPError as error:
                return error_response(error)

        return endpoint

    async def reset(request: Request) -> Response:
        plane.reset()
        return json_response(200, {"status": "reset", "patients": sum(1 for _ in plane.store.patients())})

    async def get_state(request: Request) -> Response:
        return json_response(200, export_state(plane.store))

    async def put_state(request: Request) -> Response:
        document = await _json_body(request)
        try:
            plane.replace(document)
        except FixtureError as exc:
            raise ValidationFailed({"base": [str(exc)]}) from None
        return json_response(200, {"status": "loaded", "patients": sum(1 for _ in plane.store.patients())})

    async def list_accounts(request: Request) -> Response:
        store = plane.store
        return json_response(200, {"data": [
            {
                "id": a.id,
                "name": a.name,
                "country": a.country,
                "users": [{"id": u.id, "name": u.name} for u in a.users.values()],
                "patients": store.count(a.id),
            }
            for a in store.accounts()
        ]})

    async def list_tokens(request: Request) -> Response:
        account_id = _int_param(request, "account_id")
        plane.store.account(account_id)
        return json_response(200, {"data": [_token_view(t) for t in plane.store.tokens(account_id)]})

    async def create_token(request: Request) -> Response:
        account_id = _int_param(request, "account_id")
        body = await _json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed({"name": ["can't be blank"]})
        if len(name) > 255:
            raise ValidationFailed({"name": ["is too long (maximum is 255 characters)"]})
        token, secret = plane.store.create_token(account_id, name.strip())
        # The only time the secret is ever shown.
        return json_response(201, {**_token_view(token), "token": secret})

    async def revoke_token(request: Request) -> Response:
        token = plane.store.revoke_token(_int_param(request, "token_id"))
        return json_response(200, _token_view(token))

    async def import_csv(request: Request) -> Response:
        """A CSV file (Content-Type: text/csv) into the account, all rows or none (csv_import.py)."""
        account_id = _int_param(request, "account_id")
        plane.store.account(account_id)
        media_type, _, params = request.headers.get("content-type", "").partition(";")
        charset = params.strip().lower().replace('"', "")
        if media_type.strip().lower() != "text/csv" or charset not in ("", "charset=utf-8"):
            raise UnsupportedMediaType("Unsupported Media Type: send the file as Content-Type: text/csv; charset=utf-8")
        data = await _limited_body(request, MAX_IMPORT_BYTES)
        patients = plane.import_csv(account_id, data)
        return json_response(201, {
            "status": "imported", "account_id": account_id, "imported": len(patients), "ids": [p.id for p in patients],
        })

    return [
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/state", guarded(get_state), methods=["GET"]),
        Route("/state", guarded(put_state), methods=["PUT"]),
        Route("/accounts", guarded(list_accounts), methods=["GET"]),
        Route("/accounts/{account_id}/tokens", guarded(list_tokens), methods=["GET"]),
        Route("/accounts/{account_id}/tokens", guarded(create_token), methods=["POST"]),
        Route("/tokens/{token_id}", guarded(revoke_token), methods=["DELETE"]),
        Route("/tokens", guarded(tokens_page), methods=["GET"]),
        Route("/accounts/{account_id}/import", guarded(import_csv), methods=["POST"]),
    ]


def _authorize(request: Request, admin_key: str | None) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        # A page on another site, in a browser on this machine, is a loopback
        # client too: without this it could reset the mock or import into it.
        raise Forbidden("Forbidden: the control API does not answer other sites' pages")
    client = request.client.host if request.client else ""
    if client in _LOOPBACK:
        return
    sent = request.headers.get(ADMIN_KEY_HEADER, "")
    if admin_key and hmac.compare_digest(sent.encode(), admin_key.encode()):
        return
    raise Forbidden(
        "Forbidden: the control API answers loopback clients only; "
        "start the mock with --admin-key and send it in X-Mock-Admin-Key"
    )


def _int_param(request: Request, name: str) -> int:
    text = request.path_params[name]
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    return int(text)


async def _limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Payload Too Large: the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Payload Too Large: the limit is {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed JSON: send a JSON body") from None


def _token_view(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "account_id": token.account_id,
        "name": token.name,
        "hint": token.hint,
        "revoked": token.revoked,
        "created_at": format_timestamp(token.created_at),
    }
