"""The data layer's refusals as the API answers them."""

from __future__ import annotations

from .._exceptions import (
    DomainError,
    HTTPError,
    InvalidPhone,
    Missing,
    NotFound,
    NotSaved,
    ServiceUnavailable,
    Taken,
    TokenRefused,
    Unauthorized,
    ValidationFailed,
)
from . import messages

__all__ = ["http_error"]


def http_error(error: DomainError) -> HTTPError:
    """404 for anything missing (another account's patient included), 401 for a
    refused token, 422 for a taken value or a phone that cannot be read, 503
    for a change the state file could not record (nothing was changed)."""
    if isinstance(error, Missing):
        return NotFound()
    if isinstance(error, TokenRefused):
        return Unauthorized()
    if isinstance(error, Taken):
        return ValidationFailed({error.field: [messages.TAKEN]})
    if isinstance(error, InvalidPhone):
        return ValidationFailed({"phone": [messages.phone_message(error.reason)]})
    if isinstance(error, NotSaved):
        return ServiceUnavailable(f"Service Unavailable: {error}; nothing was changed, retry later")
    raise TypeError(f"no answer for {type(error).__name__}")  # a new DomainError needs a line here
