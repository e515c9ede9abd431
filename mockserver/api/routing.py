"""Starlette routes built from the spec's paths and operationIds.

Each spec path becomes one route whose endpoint dispatches on the method to
the operation's handler, after authentication and validation compiled from
the spec. A spec operation without a handler, or a handler without an
operation, stops start-up with a message naming both sides. Where the guide
leaves the answer open (an undefined method, the body's media type, a body
that is not JSON, the words of an error, the fields an answer carries) the
endpoint follows `ApiRules`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from dentare_spec import ApiSpec, Operation, SpecError

from .._exceptions import (
    BadRequest,
    DomainError,
    HTTPError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TokenRefused,
    UnsupportedMediaType,
    ValidationFailed,
)
from ..decisions import ApiRules
from ..store.backend import Backend, Caller, Principal, is_checked
from . import messages
from .answers import ANSWER_HEAD, AnswerCache, Slot
from .auth import bearer_token
from .errors import http_error, in_words
from .handlers import Handler, RequestContext
from .inputs import loads
from .responses import dump_json
from .shaping import Shaper, compile_shaper, keeping
from .validation import RequestValidator
from .views import PatientView, expansion_fields

__all__ = ["build_api_routes"]


class _BoundOperation:
    """One operation with everything compiled for the hot path."""

    def __init__(
        self,
        operation: Operation,
        handler: Handler,
        rules: ApiRules,
        contract: Operation,
        answer_fields: frozenset[str] | None,
    ):
        self.operation = operation
        self.handler = handler
        self.validator = RequestValidator(operation, rules, contract)
        self.has_body = operation.body_schema is not None
        #: A read, whose answer may be kept (api/answers.py).
        self.is_read = not operation.writes
        self.success_status = operation.success_status
        self.shapers: dict[int, Shaper] = {
            status: compile_shaper(
                keeping(response.schema, answer_fields)
                if answer_fields and status == operation.success_status
                else response.schema
            )
            for status, response in operation.responses.items()
        }


def build_api_routes(
    spec: ApiSpec,
    handlers: Mapping[str, Handler],
    backend_of: Callable[[], Backend],
    view: PatientView,
    *,
    max_body_bytes: int,
    rules: ApiRules | None = None,
    answers: AnswerCache | None = None,
) -> list[Route]:
    """One route per spec path, under the spec's base path; `answers` keeps the
    answers to reads (None: none are kept)."""
    rules = rules or ApiRules()
    _check_handlers(spec, handlers)
    contract = spec.guide_contract() if spec.profile is not None else spec
    expansion = frozenset(expansion_fields(spec))
    routes = []
    for path, methods in spec.paths.items():
        bound = {
            method: _BoundOperation(
                op,
                handlers[op.operation_id],
                rules,
                contract.operation(op.operation_id),
                _answer_fields(rules, op, expansion),
            )
            for method, op in methods.items()
        }
        endpoint = _PathEndpoint(bound, backend_of, view, max_body_bytes, rules, answers)
        # Under the base path, on the app's own router: one match per request, not a Mount's two.
        routes.append(Route(spec.base_path + path, endpoint))
    return routes


def _answer_fields(rules: ApiRules, operation: Operation, expansion: frozenset[str]) -> frozenset[str] | None:
    """answer_fields=as_guide_examples: the fields the operation's answer keeps
    (its example's, and the expansion fields `fields` may add); None: all."""
    fields = rules.answer_fields.get(operation.operation_id)
    return None if fields is None else fields | expansion


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
            f"{spec.source} and mockserver/api/handlers.py disagree: "
            + "; ".join(problems)
            + '. Add the handler (@operation("<operationId>")) or fix the operationId in the spec.'
        )


class _PathEndpoint:
    """The ASGI endpoint of one spec path: dispatch on the method, authenticate,
    validate, call the handler, shape the answer. Being a plain ASGI app (not a
    function endpoint) lets every method reach it, so undefined ones get our 405."""

    def __init__(
        self,
        bound: Mapping[str, _BoundOperation],
        backend_of: Callable[[], Backend],
        view: PatientView,
        max_body_bytes: int,
        rules: ApiRules,
        answers: AnswerCache | None = None,
    ):
        self.bound = bound
        self.allowed = sorted(bound)
        self.backend_of = backend_of
        self.view = view
        self.max_body_bytes = max_body_bytes
        self.rules = rules
        self.wording = messages.wording(rules.own_error_words)
        self.reworded = self.wording is not messages.AS_DOCUMENTED
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Plain ASGI on the hot path: no Request/Response objects (bench/README.md);
        # the bytes sent are the ones `json_response` would send, headers in the same order.
        status, body, headers = await self.respond(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": _raw_headers(body, headers)})
        await send({"type": "http.response.body", "body": body})

    async def respond(self, scope: Scope, receive: Receive) -> tuple[int, bytes, Mapping[str, str] | None]:
        target = self.bound.get(scope["method"])
        rules = self.rules
        backend = self.backend_of()
        caller: Caller | None = None
        try:
            if target is None:
                raise NotFound() if rules.undefined_methods_not_found else MethodNotAllowed(self.allowed)
            caller = await backend.caller(bearer_token(scope["headers"]))
            validator = target.validator
            path = validator.path_params(scope.get("path_params", {}))
            query = validator.query(scope["query_string"].decode("latin-1"))
            answers, slot, account_id = self.answers, None, 0
            if target.is_read and answers is not None and isinstance(caller, Principal):
                # Authenticated and validated: the answer may be kept.
                account_id = caller.account_id
                slot = answers.slot(
                    backend, caller, target.operation.operation_id, tuple(path.values()), scope["query_string"]
                )
                if slot is not None and (kept := answers.get(slot)) is not None:
                    _remember_head(scope, answers, account_id, slot)
                    return kept[0], kept[1], None
            raw_body = await _read_body(scope, receive, self.max_body_bytes) if target.has_body else b""
            context = RequestContext(
                backend=backend,
                view=self.view,
                caller=caller,
                path=path,
                query=query,
                read_body=lambda: validator.body(_parse_json(scope, raw_body, rules)),
                rules=rules,
            )
            reply = await target.handler(context)
            if not is_checked(caller):  # no statement of the handler's checked the token: check it before answering
                await backend.principal(caller)
        except (DomainError, HTTPError) as refused:
            return self._error(await self._token_first(backend, caller, refused))
        body = dump_json(target.shapers[reply.status](reply.body))
        if slot is not None and answers is not None and reply.status == target.success_status:
            answers.put(slot, reply.status, body)
            _remember_head(scope, answers, account_id, slot)
        return reply.status, body, None

    async def _token_first(
        self, backend: Backend, caller: Caller | None, refused: DomainError | HTTPError
    ) -> HTTPError:
        """The answer to a refusal: 401 if the token is refused, whichever came first
        (a token a data statement would have checked, had the request got that far)."""
        if caller is not None and not is_checked(caller) and not isinstance(refused, TokenRefused):
            try:
                await backend.principal(caller)
            except TokenRefused as token_refused:
                refused = token_refused
        return refused if isinstance(refused, HTTPError) else http_error(refused, self.wording)

    def _error(self, error: HTTPError) -> tuple[int, bytes, Mapping[str, str] | None]:
        if self.reworded:
            error = in_words(error, self.wording)
        return error.status_code, dump_json(error.body()), error.headers


def _remember_head(scope: Scope, answers: AnswerCache, account_id: int, slot: Slot) -> None:
    """Where the connection finds this answer for the next identical request
    (web/http_protocol.py puts the head in the scope when it may answer it itself)."""
    head = scope.get("extensions", {}).get(ANSWER_HEAD, {}).get("head")
    if head is not None:
        answers.remember(head, account_id, slot)


def _raw_headers(body: bytes, headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    """What starlette's `Response(body, headers=headers, media_type="application/json")` sends."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
    raw.append((b"content-length", str(len(body)).encode("latin-1")))
    raw.append((b"content-type", b"application/json"))
    return raw


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, as starlette's `request.headers.get` gives it."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"Payload Too Large: the body limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Payload Too Large: the body limit is {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _parse_json(scope: Scope, raw: bytes, rules: ApiRules) -> Any:
    if not rules.any_content_type:
        media_type, _, params = (_header(scope, b"content-type") or "").partition(";")
        if media_type.strip().lower() != "application/json":
            raise UnsupportedMediaType()
        charset = params.strip().lower()
        if charset and charset.replace(" ", "") not in ("charset=utf-8", 'charset="utf-8"'):
            raise UnsupportedMediaType("Unsupported Media Type: send the body as UTF-8 (charset=utf-8)")
    if not raw.strip():
        raise _malformed("Malformed JSON: the body is empty; send a JSON object", rules)
    try:
        return loads(raw)  # orjson, and numbers beyond the float range (inputs.py)
    except orjson.JSONDecodeError as exc:
        raise _malformed(f"Malformed JSON: {_coded(scope) or _short(str(exc))}", rules) from None


def _malformed(message: str, rules: ApiRules) -> HTTPError:
    """A body that is not JSON: 400, or 422 under malformed_body=unprocessable."""
    if rules.malformed_body_unprocessable:
        return ValidationFailed({messages.BASE: [message]})
    return BadRequest(message)


def _coded(scope: Scope) -> str | None:
    """Why a body is not JSON, when it is compressed: the API reads a body as it is sent."""
    for name in (b"content-encoding", b"transfer-encoding"):
        codings = [c.strip() for c in (_header(scope, name) or "").lower().split(",")]
        named = [c for c in codings if c not in ("", "identity", "chunked")]
        if named:
            header = name.decode().title()
            return f"the body is sent with {header}: {', '.join(named)}, which is not decoded; send it uncompressed"
    return None


def _short(message: str) -> str:
    """orjson's message without the echo of the input (which may be huge or binary)."""
    return message.split(": line", 1)[0][:200]
