"""The control API under /__mock: reset, tokens (and the API Tokens page),
state export and load, CSV import.

For tests and integrators, never part of the Dentare API. Each endpoint is a
module-level function of the request; what it acts on is in
`request.app.state` (`backend`, `settings`, `importer`). `@guarded` applies
control_guard.py's rules (Host, client or admin key, Origin, and a JSON or
CSV content type on every request that changes state).

Every body is read through `_read_body`, which stops at its limit while
reading: 1 MiB for JSON control bodies, 32 MiB for a CSV import, 256 MiB for
`PUT /__mock/state` (an export of some 300,000 patients). A state-changing
request always has a JSON object body (`{}` when it says nothing more: reset),
except the import (the file) and DELETE (nothing, or `{}`).
"""

from __future__ import annotations

import functools
import re
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
    HTTPError,
    InvalidState,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from ..api import messages
from ..api.csv_rows import CsvOptions
from ..api.errors import http_error
from ..api.inputs import loads
from ..api.responses import error_response, json_response
from ..api.state_check import MAX_TOKEN_NAME
from ..domain.models import Token
from ..domain.timestamps import format_timestamp
from ..store.backend import Backend
from .control_guard import ADMIN_KEY_HEADER, STATE_CHANGING, authorize, require_media_type
from .tokens_page import tokens_page

__all__ = ["ADMIN_KEY_HEADER", "MAX_CONTROL_BYTES", "MAX_IMPORT_BYTES", "MAX_STATE_BYTES", "control_routes"]

MAX_CONTROL_BYTES = 1024 * 1024  # a JSON control body (a token's name, reset's {})
MAX_IMPORT_BYTES = 32 * 1024 * 1024  # a CSV import
MAX_STATE_BYTES = 256 * 1024 * 1024  # PUT /__mock/state: the whole state, as GET gives it
_JSON = ("application/json",)

Endpoint = Callable[[Request], Awaitable[Response]]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # as the spec's Text pattern refuses


def guarded(endpoint: Endpoint, media_types: tuple[str, ...] = _JSON) -> Endpoint:
    """Refuse requests the control API does not answer (control_guard.py); a request
    that changes state must say one of `media_types`. Errors in the `{"error": ...}` shape."""

    @functools.wraps(endpoint)
    async def guard(request: Request) -> Response:
        try:
            settings = request.app.state.settings
            authorize(request, settings.admin_key, settings.host)
            if request.method in STATE_CHANGING:
                require_media_type(request, media_types)
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
    await _json_object(request)  # `{}`: a form or a text/plain post never resets the mock
    backend = _backend(request)
    await backend.reset()
    return json_response(200, {"status": "reset", "patients": await _patients(backend)})


@guarded
async def get_state(request: Request) -> Response:
    return json_response(200, await _backend(request).export())


@guarded
async def put_state(request: Request) -> Response:
    backend = _backend(request)
    document = await _json_body(request, MAX_STATE_BYTES)
    try:
        await backend.replace(document)
    except InvalidState as exc:
        raise ValidationFailed(exc.errors) from None
    except FixtureError as exc:
        raise ValidationFailed({messages.BASE: [str(exc)]}) from None
    return json_response(200, {"status": "loaded", "patients": await _patients(backend)})


@guarded
async def list_accounts(request: Request) -> Response:
    return json_response(
        200,
        {
            "data": [
                {
                    "id": a.id,
                    "name": a.name,
                    "country": a.country,
                    "users": [{"id": u.id, "name": u.name} for u in a.users.values()],
                    "patients": count,
                }
                for a, count in await _backend(request).accounts()
            ]
        },
    )


@guarded
async def list_tokens(request: Request) -> Response:
    tokens = await _backend(request).tokens(_int_param(request, "account_id"))
    return json_response(200, {"data": [_token_view(t) for t in tokens]})


@guarded
async def create_token(request: Request) -> Response:
    account_id = _int_param(request, "account_id")
    body = await _json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed({"name": [messages.BLANK]})
    if len(name) > MAX_TOKEN_NAME:
        raise ValidationFailed({"name": [messages.too_long(MAX_TOKEN_NAME)]})
    if _CONTROL.search(name):
        raise ValidationFailed({"name": [messages.INVALID]})
    token, secret = await _backend(request).create_token(account_id, name.strip())
    # The only time the secret is ever shown.
    return json_response(201, {**_token_view(token), "token": secret})


@guarded
async def revoke_token(request: Request) -> Response:
    token_id = _int_param(request, "token_id")
    if await _read_body(request, MAX_CONTROL_BYTES):  # nothing, or a JSON object (`{}`)
        await _json_object(request)
    token = await _backend(request).revoke_token(token_id)
    return json_response(200, _token_view(token))


async def import_csv(request: Request) -> Response:
    """A CSV file (Content-Type: text/csv) into the account, all rows or none (api/csv_rows.py)."""
    account_id = _int_param(request, "account_id")
    backend = _backend(request)
    await backend.account(account_id)
    options = _csv_options(request)
    data = await _read_body(request, MAX_IMPORT_BYTES)
    patients = await request.app.state.importer.import_into(backend, account_id, data, options)
    return json_response(
        201,
        {
            "status": "imported",
            "account_id": account_id,
            "imported": len(patients),
            "ids": [p.id for p in patients],
        },
    )


def _csv_options(request: Request) -> CsvOptions:
    """`?date_format=DD.MM.YYYY&phone_country=MK`, as import-csv's --date-format and --phone-country."""
    given = {name: request.query_params.get(name) or None for name in ("date_format", "phone_country")}
    errors: dict[str, list[str]] = {}
    for name, value in given.items():
        try:
            CsvOptions(**{name: value})
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationFailed(errors)
    return CsvOptions(**given)


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
        Route("/accounts/{account_id}/import", guarded(import_csv, ("text/csv",)), methods=["POST"]),
    ]


async def _patients(backend: Backend) -> int:
    return sum(count for _, count in await backend.accounts())


def _int_param(request: Request, name: str) -> int:
    text = request.path_params[name]
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    return int(text)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read once and stopped as soon as it passes `limit` (413): the one
    way every control endpoint reads what it is sent."""
    cached: bytes | None = getattr(request.state, "control_body", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"Payload Too Large: the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Payload Too Large: the limit is {limit} bytes")
        chunks.append(chunk)
    request.state.control_body = body = b"".join(chunks)
    return body


async def _json_body(request: Request, limit: int = MAX_CONTROL_BYTES) -> Any:
    raw = await _read_body(request, limit)
    if not raw.strip():
        raise BadRequest("Malformed JSON: the body is empty; send a JSON object ({} when there is nothing to say)")
    try:
        return loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed JSON: {str(exc).split(': line', 1)[0][:200]}") from None


async def _json_object(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed({messages.BASE: [messages.NOT_AN_OBJECT]})
    return body


def _token_view(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "account_id": token.account_id,
        "name": token.name,
        "hint": token.hint,
        "revoked": token.revoked,
        "created_at": format_timestamp(token.created_at),
    }
