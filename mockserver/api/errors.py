"""The data layer's refusals as the API answers them."""

from __future__ import annotations

from .._exceptions import (
    DomainError,
    HTTPError,
    InvalidPhone,
    Missing,
    NotFound,
    Taken,
    TokenRefused,
    Unauthorized,
    ValidationFailed,
)
from . import messages

__all__ = ["http_error"]


def http_error(error: DomainError) -> HTTPError:
    """404 for anything missing (another account's patient included), 401 for a
    refused token, 422 for a taken value or a phone that cannot be read."""
    if isinstance(error, Missing):
        return NotFound()
    if isinstance(error, TokenRefused):
        return Unauthorized()
    if isinstance(error, Taken):
        return ValidationFailed({error.field: [messages.TAKEN]})
    if isinstance(error, InvalidPhone):
        return ValidationFailed({"phone": [messages.phone_message(error.reason)]})
    raise TypeError(f"no answer for {type(error).__name__}")  # a new DomainError needs a line here
