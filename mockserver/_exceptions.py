"""The mock server's exceptions, all under one root.

    MockError                      anything the mock raises on purpose
    ├── FixtureError               a fixture, state file or state document cannot be loaded
    │   └── InvalidState           ... because values in it break the API's rules (`errors` by field)
    ├── DomainError                what the data layer refuses; the API layer answers it (api/errors.py)
    │   ├── Missing                no such account, patient or token (in this account)
    │   ├── Taken                  a value that must be unique is held by another record
    │   ├── InvalidPhone           a phone number that cannot be normalized (`reason` says why)
    │   ├── TokenRefused           an unknown or revoked token
    │   └── NotSaved               a change the state file could not record; nothing was changed
    └── HTTPError                  a request is answered with an error status and an {"error": ...} body
        ├── BadRequest             400  malformed JSON
        ├── Unauthorized           401  missing, malformed, unknown or revoked token
        ├── Forbidden              403  control API asked from outside loopback without the admin key,
        │                               for another Host, or from another origin
        ├── NotFound               404  unknown path, or a patient this account cannot see
        ├── MethodNotAllowed       405  a method the spec does not define for the path
        ├── PayloadTooLarge        413  body over the limit
        ├── UnsupportedMediaType   415  write without a JSON content type
        ├── ValidationFailed       422  {"error": "Validation failed", "errors": {field: [messages]}}
        ├── ImportFailed           422  CSV rows refused: {"error", "invalid_rows", "rows": [{"line", "errors"}]}
        ├── HeadTooLarge           431  request line and headers over the limit
        └── ServiceUnavailable     503  a write that could not be made durable (nothing changed)

The spec itself is read by `dentare_spec`, whose `SpecError` this package
re-exports: a spec that cannot be served stops start-up with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BadRequest",
    "DomainError",
    "FixtureError",
    "Forbidden",
    "HTTPError",
    "HeadTooLarge",
    "ImportFailed",
    "InvalidPhone",
    "InvalidState",
    "MethodNotAllowed",
    "Missing",
    "MockError",
    "NotFound",
    "NotSaved",
    "PayloadTooLarge",
    "RowError",
    "ServiceUnavailable",
    "Taken",
    "TokenRefused",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
]


class MockError(Exception):
    """Root of every exception the mock raises on purpose."""


class FixtureError(MockError):
    """A fixture, state file or state document cannot be loaded."""


class InvalidState(FixtureError):
    """A state document whose values the API could not answer: `errors` maps a
    place in the document (`patients[id=7].birthdate`) to its 422 messages."""

    def __init__(self, source: str, errors: Mapping[str, Sequence[str]]):
        self.source = source
        self.errors = {place: list(messages) for place, messages in errors.items()}
        first = next(iter(self.errors.items()), ("base", ["is invalid"]))
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{source}: {first[0]} {'; '.join(first[1])}{more}")


# -- the data layer's refusals ---------------------------------------------------------------


class DomainError(MockError):
    """Something the store or the domain rules refuse, said without HTTP."""


class Missing(DomainError):
    """No such record for the asker: `what` is "account", "patient" or "token",
    or "page" for a page past the last one of a list."""

    def __init__(self, what: str, key: object = None):
        self.what = what
        self.key = key
        super().__init__(f"no {what} {key!r}" if key is not None else f"no such {what}")


class Taken(DomainError):
    """`field` must be unique (within the account) and `value` is already held."""

    def __init__(self, field: str, value: object = None):
        self.field = field
        self.value = value
        super().__init__(f"{field} {value!r} is already taken")


class InvalidPhone(DomainError):
    """A phone number that cannot be normalized. `reason`: "no_country" (a
    national number and no region to read it in) or "invalid"."""

    def __init__(self, reason: str = "invalid"):
        self.reason = reason
        super().__init__(f"invalid phone number ({reason})")


class TokenRefused(DomainError):
    """The token is unknown, revoked, or its user is gone."""


class NotSaved(DomainError):
    """The state file could not record a change (disk full, I/O error, file
    removed): the change was not made, in memory or on disk."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the change could not be saved to the state file: {reason}")


# -- HTTP answers ----------------------------------------------------------------------------


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
    challenge = "Bearer"

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": self.challenge})


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


class HeadTooLarge(HTTPError):
    status_code = 431
    default_message = "Request Header Fields Too Large"


class ServiceUnavailable(HTTPError):
    status_code = 503
    default_message = "Service Unavailable"


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
