"""The control API under /__mock: reset, tokens (and the API Tokens page),
state export and load, CSV import.

For tests and integrators, never part of the Dentare API. Each endpoint is a
module-level function of the request; what it acts on is in
`request.app.state` (`backend`, `settings`, `importer`). `@guarded` lets only
loopback clients through, unless an admin key is configured: then any client
that sends it in `X-Mock-Admin-Key` is answered too.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._exceptions import (
    BadRequest,
    DomainError,
    FixtureError,
    Forbidden,
    HTTPError,
    InvalidState,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from ..api import messages
from ..api.errors import http_error
from ..api.responses import error_response, json_response
from ..domain.models import Token
from ..domain.timestamps import format_timestamp
from ..store.backend import Backend
from .tokens_page import tokens_page

__all__ = ["ADMIN_KEY_HEADER", "MAX_IMPORT_BYTES", "control_routes"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_IMPORT_BYTES = 32 * 1024 * 1024  # a CSV import; the API's own bodies stop at 1 MiB
ADMIN_KEY_HEADER = "x-mock-admin-key"
MAX_TOKEN_NAME = 255

Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint) -> Endpoint:
    """Refuse clients the control API does not answer; errors in the `{"error": ...}` shape."""

    @functools.wraps(endpoint)
    async def guard(request: Request) -> Response:
        try:
            _authorize(request, request.app.state.settings.admin_key)
            return await endpoint(request)
        except DomainError as refused:
            return error_response(http_error(refused))
        except HTTPError as error:
            return error_response(error)

    return guard


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


@guarded
async def reset(request: Request) -> Response:
    backend = _backend(request)
    await backend.reset()
    return json_response(200, {"status": "reset", "patients": await _patients(backend)})


@guarded
async def get_state(request: Request) -> Response:
    return json_response(200, await _backend(request).export())


@guarded
async def put_state(request: Request) -> Response:
    backend = _backend(request)
    document = await _json_body(request)
    try:
        await backend.replace(document)
    except InvalidState as exc:
        raise ValidationFailed(exc.errors) from None
    except FixtureError as exc:
        raise ValidationFailed({messages.BASE: [str(exc)]}) from None
    return json_response(200, {"status": "loaded", "patients": await _patients(backend)})


@guarded
async def list_accounts(request: Request) -> Response:
    return json_response(200, {"data": [
        {
            "id": a.id,
            "name": a.name,
            "country": a.country,
            "users": [{"id": u.id, "name": u.name} for u in a.users.values()],
            "patients": count,
        }
        for a, count in await _backend(request).accounts()
    ]})


@guarded
async def list_tokens(request: Request) -> Response:
    tokens = await _backend(request).tokens(_int_param(request, "account_id"))
    return json_response(200, {"data": [_token_view(t) for t in tokens]})


@guarded
async def create_token(request: Request) -> Response:
    account_id = _int_param(request, "account_id")
    body = await _json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed({"name": [messages.BLANK]})
    if len(name) > MAX_TOKEN_NAME:
        raise ValidationFailed({"name": [messages.too_long(MAX_TOKEN_NAME)]})
    token, secret = await _backend(request).create_token(account_id, name.strip())
    # The only time the secret is ever shown.
    return json_response(201, {**_token_view(token), "token": secret})


@guarded
async def revoke_token(request: Request) -> Response:
    token = await _backend(request).revoke_token(_int_param(request, "token_id"))
    return json_response(200, _token_view(token))


@guarded
async def import_csv(request: Request) -> Response:
    """A CSV file (Content-Type: text/csv) into the account, all rows or none (api/csv_rows.py)."""
    account_id = _int_param(request, "account_id")
    backend = _backend(request)
    await backend.account(account_id)
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    charset = params.strip().lower().replace('"', "")
    if media_type.strip().lower() != "text/csv" or charset not in ("", "charset=utf-8"):
        raise UnsupportedMediaType("Unsupported Media Type: send the file as Content-Type: text/csv; charset=utf-8")
    data = await _limited_body(request, MAX_IMPORT_BYTES)
    patients = await request.app.state.importer.import_into(backend, account_id, data)
    return json_response(201, {
        "status": "imported", "account_id": account_id, "imported": len(patients), "ids": [p.id for p in patients],
    })


def control_routes() -> list[Route]:
    return [
        Route("/reset", reset, methods=["POST"]),
        Route("/state", get_state, methods=["GET"]),
        Route("/state", put_state, methods=["PUT"]),
        Route("/accounts", list_accounts, methods=["GET"]),
        Route("/accounts/{account_id}/tokens", list_tokens, methods=["GET"]),
        Route("/accounts/{account_id}/tokens", create_token, methods=["POST"]),
        Route("/tokens/{token_id}", revoke_token, methods=["DELETE"]),
        Route("/tokens", guarded(tokens_page), methods=["GET"]),
        Route("/accounts/{account_id}/import", import_csv, methods=["POST"]),
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


async def _patients(backend: Backend) -> int:
    return sum(count for _, count in await backend.accounts())


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
