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
        ├── ValidationFailed       422  {"error": "Validation failed", "errors": {field: [messages]}}
        └── ImportFailed           422  CSV rows refused: {"error", "invalid_rows", "rows": [{"line", "errors"}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BadRequest",
    "FixtureError",
    "Forbidden",
    "HTTPError",
    "ImportFailed",
    "MethodNotAllowed",
    "MockError",
    "NotFound",
    "PayloadTooLarge",
    "RowError",
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


@dataclass(frozen=True)
class RowError:
    """One bad row of a CSV import: its line in the file and its 422 messages."""

    line: int
    errors: Mapping[str, Sequence[str]]

    def __str__(self) -> str:
        messages = [m if field == "base" else f"{field} {m}" for field, ms in self.errors.items() for m in ms]
        return f"{self.line}: {'; '.join(messages)}"


class ImportFailed(HTTPError):
    """422 for a CSV import with bad rows; nothing was imported."""

    status_code = 422
    #: Rows listed in the answer; `invalid_rows` still counts them all.
    max_listed = 1000

    def __init__(self, rows: Iterable[RowError], *, invalid: int | None = None):
        self.rows = list(rows)
        self.invalid = len(self.rows) if invalid is None else invalid
        super().__init__(
            f"Import failed: {self.invalid} invalid {'row' if self.invalid == 1 else 'rows'}; nothing was imported"
        )

    def body(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "invalid_rows": self.invalid,
            "rows": [{"line": r.line, "errors": r.errors} for r in self.rows[: self.max_listed]],
        }
