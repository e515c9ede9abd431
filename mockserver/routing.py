"""Starlette routes built from the spec's paths and operationIds.

Each spec path becomes one route whose endpoint dispatches on the method to
the operation's handler, after authentication and validation compiled from
the spec. A spec operation without a handler, or a handler without an
operation, stops start-up with a message naming both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ._exceptions import (
    BadRequest,
    HTTPError,
    MethodNotAllowed,
    PayloadTooLarge,
    SpecError,
    UnsupportedMediaType,
)
from .auth import bearer_token
from .handlers import Handler, RequestContext
from .serialization import Shaper, compile_shaper, dump_json
from .spec import ApiSpec, Operation
from .store import Store
from .validation import RequestValidator

__all__ = ["build_api_routes", "error_response", "json_response"]


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump_json(body), status_code=status, headers=headers, media_type="application/json")


def error_response(error: HTTPError) -> Response:
    return json_response(error.status_code, error.body(), error.headers)


class _BoundOperation:
    """One operation with everything compiled for the hot path."""

    def __init__(self, operation: Operation, handler: Handler):
        self.operation = operation
        self.handler = handler
        self.validator = RequestValidator(operation)
        self.has_body = operation.body_schema is not None
        self.shapers: dict[int, Shaper] = {
            status: compile_shaper(schema) for status, schema in operation.responses.items()
        }


def build_api_routes(
    spec: ApiSpec,
    handlers: Mapping[str, Handler],
    store_of: Callable[[], Store],
    *,
    max_body_bytes: int,
) -> list[Route]:
    _check_handlers(spec, handlers)
    routes = []
    for path, methods in spec.paths.items():
        bound = {method: _BoundOperation(op, handlers[op.operation_id]) for method, op in methods.items()}
        routes.append(Route(path, _PathEndpoint(bound, store_of, max_body_bytes)))
    return routes


def _check_handlers(spec: ApiSpec, handlers: Mapping[str, Handler]) -> None:
    routed = {op.operation_id for op in spec.operations}
    missing = sorted(routed - set(handlers))
    unrouted = sorted(set(handlers) - routed)
    problems = []
    if missing:
        problems.append(f"operations in the spec without a handler: {', '.join(missing)}")
    if unrouted:
        problems.append(f"handlers for operations the spec does not define: {', '.join(unrouted)}")
    if problems:
        raise SpecError(
            f"{spec.source} and mockserver/handlers.py disagree: " + "; ".join(problems)
            + ". Add the handler (@operation(\"<operationId>\")) or fix the operationId in the spec."
        )


class _PathEndpoint:
    """The ASGI endpoint of one spec path: dispatch on the method, authenticate,
    validate, call the handler, shape the answer. Being a plain ASGI app (not a
    function endpoint) lets every method reach it, so undefined ones get our 405."""

    def __init__(self, bound: Mapping[str, _BoundOperation], store_of: Callable[[], Store], max_body_bytes: int):
        self.bound = bound
        self.allowed = sorted(bound)
        self.store_of = store_of
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        target = self.bound.get(request.method)
        try:
            if target is None:
                raise MethodNotAllowed(self.allowed)
            store = self.store_of()
            principal = store.authenticate(bearer_token(request.scope["headers"]))
            validator = target.validator
            path = validator.path_params(request.path_params)
            query = validator.query(request.scope["query_string"].decode("latin-1"))
            raw_body = await _read_body(request, self.max_body_bytes) if target.has_body else b""
            context = RequestContext(
                store=store,
                principal=principal,
                path=path,
                query=query,
                read_body=lambda: validator.body(_parse_json(request, raw_body)),
            )
            reply = target.handler(context)
        except HTTPError as error:
            return error_response(error)
        return json_response(reply.status, target.shapers[reply.status](reply.body))


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Payload Too Large: the body limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Payload Too Large: the body limit is {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(request: Request, raw: bytes) -> Any:
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "application/json":
        raise UnsupportedMediaType()
    charset = params.strip().lower()
    if charset and charset.replace(" ", "") not in ("charset=utf-8", "charset=\"utf-8\""):
        raise UnsupportedMediaType("Unsupported Media Type: send the body as UTF-8 (charset=utf-8)")
    if not raw.strip():
        raise BadRequest("Malformed JSON: the body is empty; send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed JSON: {_short(str(exc))}") from None


def _short(message: str) -> str:
    """orjson's message without the echo of the input (which may be huge or binary)."""
    return message.split(": line", 1)[0][:200]
