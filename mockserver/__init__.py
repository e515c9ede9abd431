"""The Dentare Patients API mock server, generated from spec/openapi.yaml.

    from mockserver import create_app, MockSettings
    app = create_app(MockSettings(generate=1000, profile=Path("profile.yaml")))

Layers, each importing only those below it (ARCHITECTURE.md):
tools -> web -> api -> store -> domain, over the root modules (settings,
exceptions, resources, decisions) and `dentare_spec`, which reads the spec.
The profile's choices at the spec's open points are read once, in
`decisions.py`, into `StoreRules` and `ApiRules`.
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
from .decisions import ApiRules, Decisions, StoreRules, read_decisions
from .settings import FaultSettings, MockSettings
from .store.backend import Backend, Principal
from .store.memory import Store
from .store.memory_backend import MemoryBackend
from .store.planner import PatientQuery
from .web.app import create_app

__all__ = [
    "HANDLERS",
    "ApiRules",
    "Backend",
    "BadRequest",
    "Decisions",
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
    "StoreRules",
    "Taken",
    "TokenRefused",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "create_app",
    "operation",
    "read_decisions",
]
