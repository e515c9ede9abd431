"""The mock server's exceptions, all under one root.

    MockError                      anything the mock raises on purpose
    ├── SpecError                  the spec cannot be served (invalid, or routes and handlers disagree)
    ├── FixtureError               a fixture or state file cannot be loaded
    └── HTTPError                  a request is answered with an error status and an {"error": ...} body
        ├── BadRequest             400  malformed JSON
        ├── Unauthorized           401  missing, malformed, unknown or revoked token
        ├── Forbidden              403  control API asked from outside loopback without the admin key
        ├── NotFound               404  unknown path, or a patient this account cannot see
        ├── MethodNotAllowed       405  a method the spec does not define for the path
        ├── PayloadTooLarge        413  body over the limit
        ├── UnsupportedMediaType   415  write without a JSON content type
        └── ValidationFailed       422  {"error": "Validation failed", "errors": {field: [messages]}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BadRequest",
    "FixtureError",
    "Forbidden",
    "HTTPError",
    "MethodNotAllowed",
    "MockError",
    "NotFound",
    "PayloadTooLarge",
    "SpecError",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
]


class MockError(Exception):
    """Root of every exception the mock raises on purpose."""


class SpecError(MockError):
    """The spec cannot be served as it is."""


class FixtureError(MockError):
    """A fixture or state file cannot be loaded."""


class HTTPError(MockError):
    """An error answer: status, `{"error": message}` body and optional headers."""

    status_code = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None, *, headers: Mapping[str, str] | None = None):
        self.message = message or self.default_message
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


class BadRequest(HTTPError):
    status_code = 400
    default_message = "Bad Request"


class Unauthorized(HTTPError):
    status_code = 401
    default_message = "Unauthorized"

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": "Bearer"})


class Forbidden(HTTPError):
    status_code = 403
    default_message = "Forbidden"


class NotFound(HTTPError):
    status_code = 404
    default_message = "Not Found"


class MethodNotAllowed(HTTPError):
    status_code = 405
    default_message = "Method Not Allowed"

    def __init__(self, allowed: Sequence[str]):
        super().__init__(headers={"Allow": ", ".join(allowed)})


class PayloadTooLarge(HTTPError):
    status_code = 413
    default_message = "Payload Too Large"


class UnsupportedMediaType(HTTPError):
    status_code = 415
    default_message = "Unsupported Media Type: send Content-Type: application/json"


class ValidationFailed(HTTPError):
    """422 with per-field messages; `errors` maps a field (or `base`) to its messages."""

    status_code = 422
    default_message = "Validation failed"

    def __init__(self, errors: Mapping[str, Sequence[str]]):
        super().__init__()
        self.errors = {field: list(messages) for field, messages in errors.items()}

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "errors": self.errors}
