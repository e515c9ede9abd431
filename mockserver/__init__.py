"""The Dentare Patients API mock server, generated from spec/openapi.yaml.

    from mockserver import create_app, MockSettings
    app = create_app(MockSettings(generate=1000))

Layers, each importing only those below it (ARCHITECTURE.md):
tools -> web -> api -> store -> domain, over the root modules (settings,
exceptions, resources) and `dentare_spec`, which reads the spec.
"""

from __future__ import annotations

from dentare_spec import SpecError

from ._exceptions import (
    BadRequest,
    DomainError,
    FixtureError,
    Forbidden,
    HeadTooLarge,
    HTTPError,
    ImportFailed,
    InvalidPhone,
    InvalidState,
    MethodNotAllowed,
    Missing,
    MockError,
    NotFound,
    NotSaved,
    PayloadTooLarge,
    RowError,
    ServiceUnavailable,
    Taken,
    TokenRefused,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from .api.handlers import HANDLERS, Handler, Reply, RequestContext, operation
from .settings import FaultSettings, MockSettings
from .store.backend import Backend, Principal
from .store.memory import Store
from .store.memory_backend import MemoryBackend
from .store.planner import PatientQuery
from .web.app import create_app

__all__ = [
    "HANDLERS",
    "Backend",
    "BadRequest",
    "DomainError",
    "FaultSettings",
    "FixtureError",
    "Forbidden",
    "HTTPError",
    "Handler",
    "HeadTooLarge",
    "ImportFailed",
    "InvalidPhone",
    "InvalidState",
    "MemoryBackend",
    "MethodNotAllowed",
    "Missing",
    "MockError",
    "MockSettings",
    "NotFound",
    "NotSaved",
    "PatientQuery",
    "PayloadTooLarge",
    "Principal",
    "Reply",
    "RequestContext",
    "RowError",
    "ServiceUnavailable",
    "SpecError",
    "Store",
    "Taken",
    "TokenRefused",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "create_app",
    "operation",
]
