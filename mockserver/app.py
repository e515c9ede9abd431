"""The ASGI application: spec-generated API routes, the control API, and
error answers in the API's `{"error": ...}` shape for everything else."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import ASGIApp

from .control import ControlPlane, build_control_routes
from .csv_import import CsvImporter
from .docs import docs_routes
from .faults import FaultInjector
from .handlers import HANDLERS, Handler
from .limits import HeadSizeLimit
from .routing import build_api_routes, json_response
from .selfcheck import ResponseSelfCheck
from .settings import MockSettings
from .snapshot import load_snapshot, save_snapshot, snapshot_path
from .spec import ApiSpec, load_spec
from .state import (
    export_state,
    load_document,
    load_fixtures_dir,
    patient_from_record,
    read_json,
    save_state,
)
from .store import Store

__all__ = ["MockState", "create_app"]

logger = logging.getLogger("mockserver")

_REASONS = {404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MockState:
    """The live store and how to rebuild it (reset to fixtures, load a dump)."""

    def __init__(self, settings: MockSettings):
        self.settings = settings
        #: Why the last save failed, if it did (the CLI's exit status says so).
        self.save_error: str | None = None
        state_file = settings.state_file
        if state_file is not None and state_file.exists():
            self.store = self._from_document(read_json(state_file), str(state_file))
            logger.info("loaded state from %s", state_file)
        else:
            self.store = self.fixture_store()

    def fixture_store(self) -> Store:
        snapshot = snapshot_path(self.settings)
        cached = load_snapshot(snapshot) if snapshot else None
        if cached is not None:
            return cached
        with _collector_paused():  # millions of new objects: collecting midway only costs time
            store = self._build_fixture_store()
        if snapshot:
            save_snapshot(store, snapshot)
        return store

    def _build_fixture_store(self) -> Store:
        store = Store()
        if self.settings.fixtures_dir is not None:
            load_fixtures_dir(store, self.settings.fixtures_dir)
        if self.settings.generate:
            from .generate import generate_patients  # only needed when asked for

            start_id = max((p.id for p in store.patients()), default=0) + 1
            account = store.account(self.settings.generate_account)
            for record in generate_patients(
                self.settings.generate, seed=self.settings.seed, account_id=account.id,
                start_id=start_id, country=account.country,
            ):
                store.add_patient(patient_from_record(record))
        return store

    def reset(self) -> None:
        self.store = self.fixture_store()

    def replace(self, document: Any) -> None:
        # Build the new store completely before swapping, so a bad document
        # leaves the current state untouched.
        self.store = self._from_document(document, "state document")

    def save(self) -> None:
        """Write the state file, if there is one. Runs in the server's shutdown, so
        a failure is logged and kept in `save_error` rather than raised there."""
        state_file = self.settings.state_file
        if state_file is None:
            return
        try:
            save_state(self.store, state_file)
        except OSError as exc:
            self.save_error = f"cannot save the state to {state_file}: {exc.strerror or exc}"
            logger.error("%s", self.save_error)
            return
        self.save_error = None
        logger.info("saved state to %s", state_file)

    @staticmethod
    def _from_document(document: Any, source: str) -> Store:
        store = Store()
        load_document(store, document, source=source)
        return store

    def export(self) -> dict[str, Any]:
        return export_state(self.store)


def create_app(
    settings: MockSettings | None = None,
    *,
    spec: ApiSpec | None = None,
    handlers: Mapping[str, Handler] | None = None,
) -> Starlette:
    """The mock as an ASGI app. The spec is loaded and checked here, so a bad
    spec or a handler mismatch fails at start-up, not on the first request."""
    settings = settings or MockSettings()
    spec = spec or load_spec(settings.spec_path)
    state = MockState(settings)
    api_routes = build_api_routes(
        spec, HANDLERS if handlers is None else handlers, lambda: state.store,
        max_body_bytes=settings.max_body_bytes,
    )
    control_routes = build_control_routes(ControlPlane(state, CsvImporter(spec)), settings.admin_key)

    middleware = [Middleware(HeadSizeLimit, max_bytes=settings.max_header_bytes)]
    if settings.cors_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH"], allow_headers=["Authorization", "Content-Type"],
        ))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.save()

    app = Starlette(
        routes=[
            # No 307 to the path without its trailing slash: under the base path, a
            # path the spec does not define is a 404 in the error shape.
            Mount(spec.base_path or "/", app=Router(api_routes, redirect_slashes=False)),
            Mount("/__mock", routes=control_routes),
            *docs_routes(spec),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.mock = state
    app.state.spec = spec
    stack: ASGIApp | None = None
    if settings.check_responses:
        # Outside Starlette's error middleware, so a 500 is checked (and flagged) too.
        stack = ResponseSelfCheck(app.build_middleware_stack(), settings.spec_path, api_prefix=spec.base_path)
    if settings.faults is not None:
        # Outermost: an injected fault is never turned into a 500 nor checked
        # against the spec, and `drop` reaches the server's connection.
        stack = FaultInjector(stack or app.build_middleware_stack(), settings.faults, api_prefix=spec.base_path)
        logger.warning("fault injection ON: %s", settings.faults.describe())
    if stack is not None:
        app.middleware_stack = stack
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = _REASONS.get(exc.status_code, exc.detail)
    return json_response(exc.status_code, {"error": reason}, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Logged for whoever runs the mock; the client gets no trace or path.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(500, {"error": "Internal Server Error"})
