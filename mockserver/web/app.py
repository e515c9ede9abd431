"""The ASGI application: spec-generated API routes, the control API, the docs,
and error answers in the API's `{"error": ...}` shape for everything else.

What the endpoints act on is in `app.state`: `backend` (the state, through
the store's `Backend`), `spec` (as the profile decides it), `decisions` (the
profile's flags, mockserver/decisions.py), `settings`, `importer` (CSV
import), `answers` (the kept answers to reads, api/answers.py; None when off)
and `recall_answer` (those answers by request head, for the HTTP protocol:
web/http_protocol.py; None when off, or when something between the
connection and the routes changes an answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import ASGIApp

from dentare_spec import ApiSpec, load_spec

from ..api.answers import AnswerCache
from ..api.csv_rows import CsvImporter
from ..api.handlers import HANDLERS, Handler
from ..api.responses import json_response
from ..api.routing import build_api_routes
from ..api.state_check import StateCheck
from ..api.views import COMPUTED, PatientView
from ..decisions import read_decisions
from ..domain.records import patient_schema
from ..settings import MockSettings, settings_from_json
from ..store.memory_backend import MemoryBackend
from ..store.pg import is_postgres_url
from .control import control_routes
from .cors import ApiCORS
from .docs import docs_routes
from .faults import FaultInjector
from .http_protocol import client_gone, http_protocol
from .limits import HeadSizeLimit
from .selfcheck import ResponseSelfCheck

if TYPE_CHECKING:
    from ..store.pg.backend import PostgresBackend

__all__ = ["SETTINGS_ENV", "build_backend", "create_app", "create_app_from_env"]

logger = logging.getLogger("mockserver")

_REASONS = {404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}
#: The settings of a worker process (`dentare-mock --workers N`), as `settings_to_json` writes them.
SETTINGS_ENV = "DENTARE_MOCK_SETTINGS"


def create_app(
    settings: MockSettings | None = None,
    *,
    spec: ApiSpec | None = None,
    handlers: Mapping[str, Handler] | None = None,
) -> Starlette:
    """The mock as an ASGI app. The spec is loaded with the settings' profile
    and checked here, so a bad spec or profile, or a handler mismatch, fails at
    start-up, not on the first request. A `spec` given answers by its own profile."""
    settings = settings or MockSettings()
    spec = spec or load_spec(settings.spec_path, settings.profile)
    decisions = read_decisions(spec)
    backend = build_backend(settings, spec)
    answers = AnswerCache() if settings.answer_cache else None
    api_routes = build_api_routes(
        spec,
        HANDLERS if handlers is None else handlers,
        lambda: app.state.backend,
        PatientView(spec, backend.schema, decisions.api),
        max_body_bytes=settings.max_body_bytes,
        rules=decisions.api,
        answers=answers,
    )

    middleware = [Middleware(HeadSizeLimit, max_bytes=settings.max_header_bytes)]
    if settings.cors_origins:  # the API only, never /__mock (web/cors.py)
        middleware.append(Middleware(ApiCORS, api_prefix=spec.base_path, allow_origins=settings.cors_origins))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await app.state.backend.start()
        yield
        await app.state.backend.close()

    app = Starlette(
        routes=[
            # No 307 to the path without its trailing slash (redirect_slashes is off below):
            # under the base path, a path the spec does not define is a 404 in the error shape.
            *api_routes,
            # Nor anywhere else: a 307 would echo the Host header (before the control API checks it).
            Mount("/__mock", app=Router(control_routes(), redirect_slashes=False)),
            *docs_routes(spec),
        ],
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_exception,
            ClientDisconnect: client_gone,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # "/__mock" or "/docs/" is a 404 in the error shape, never a 307
    app.state.backend = backend
    app.state.spec = spec
    app.state.decisions = decisions
    app.state.settings = settings
    app.state.importer = CsvImporter(spec, decisions)
    app.state.answers = answers
    # CORS headers and injected faults change the routes' answers on their way out; the
    # self-check only reads them, and a kept answer is one it has read.
    plain = not settings.cors_origins and settings.faults is None
    app.state.recall_answer = (
        (lambda head: answers.recall(head, app.state.backend)) if answers is not None and plain else None
    )
    stack: ASGIApp | None = None
    if settings.check_responses:
        # Outside Starlette's error middleware, so a 500 is checked (and flagged) too.
        stack = ResponseSelfCheck(app.build_middleware_stack(), spec, api_prefix=spec.base_path)
    if settings.faults is not None:
        # Outermost: an injected fault is never turned into a 500 nor checked
        # against the spec, and `drop` reaches the server's connection.
        stack = FaultInjector(stack or app.build_middleware_stack(), settings.faults, api_prefix=spec.base_path)
        logger.warning("fault injection ON: %s", settings.faults.describe())
    if stack is not None:
        app.middleware_stack = stack
    return app


_worker_app: list[Starlette] = []  # this worker process's app, once uvicorn has made it


def create_app_from_env() -> Starlette:
    """The app of one worker process: the settings come from `SETTINGS_ENV`
    (uvicorn's `factory=True` calls this in each process)."""
    app = create_app(settings_from_json(os.environ[SETTINGS_ENV]))
    _worker_app[:] = [app]
    return app


def worker_http_protocol(*args: Any, **kwargs: Any) -> asyncio.Protocol:
    """uvicorn's `http=` in a worker process, named by an import string (a class made
    at run time cannot be sent to a process): the mock's own protocol, so malformed
    requests and the head limit get the same JSON answers as with one process."""
    return _worker_protocol()(*args, **kwargs)


@functools.cache
def _worker_protocol() -> type[asyncio.Protocol]:
    (app,) = _worker_app  # uvicorn makes the app before it accepts a connection
    return http_protocol(app.state.settings.max_header_bytes, app.state.recall_answer)


def build_backend(settings: MockSettings, spec: ApiSpec | None = None) -> MemoryBackend | PostgresBackend:
    """The state the settings describe (`settings.store`), its patients shaped by
    the spec, its lists and writes as the spec's profile decides them; every
    document it loads (fixtures, state documents) is checked against the API's rules."""
    spec = spec or load_spec(settings.spec_path, settings.profile)
    schema = patient_schema(spec, COMPUTED)
    decisions = read_decisions(spec)
    check = StateCheck(spec, PatientView(spec, schema, decisions.api))
    if is_postgres_url(settings.store):
        from ..store.pg.backend import PostgresBackend  # imports the driver: only when asked for
        from ..store.pg.columns import PatientTable

        return PostgresBackend(settings, PatientTable(spec, schema), decisions.store, check=check)
    return MemoryBackend(settings, schema, decisions.store, check=check)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = _REASONS.get(exc.status_code, exc.detail)
    return json_response(exc.status_code, {"error": reason}, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Logged for whoever runs the mock; the client gets no trace or path.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(500, {"error": "Internal Server Error"})
