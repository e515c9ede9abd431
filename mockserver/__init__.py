"""The Dentare Patients API mock server, generated from spec/openapi.yaml.

    from mockserver import create_app, MockSettings
    app = create_app(MockSettings(generate=1000))
"""

from __future__ import annotations

from ._exceptions import (
    BadRequest,
    FixtureError,
    Forbidden,
    HTTPError,
    ImportFailed,
    MethodNotAllowed,
    MockError,
    NotFound,
    PayloadTooLarge,
    RowError,
    SpecError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from .app import MockState, create_app
from .handlers import HANDLERS, operation
from .settings import MockSettings
from .spec import ApiSpec, load_spec
from .store import PatientQuery, Store

__all__ = [
    "HANDLERS",
    "ApiSpec",
    "BadRequest",
    "FixtureError",
    "Forbidden",
    "HTTPError",
    "ImportFailed",
    "MethodNotAllowed",
    "MockError",
    "MockSettings",
    "MockState",
    "NotFound",
    "PatientQuery",
    "PayloadTooLarge",
    "RowError",
    "SpecError",
    "Store",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "create_app",
    "load_spec",
    "operation",
]
