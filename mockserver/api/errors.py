"""The data layer's refusals as the API answers them, in the API's words."""

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
from .messages import AS_DOCUMENTED, Wording

__all__ = ["http_error", "in_words"]


def http_error(error: DomainError, wording: Wording = AS_DOCUMENTED) -> HTTPError:
    """404 for anything missing (another account's patient included), 401 for a
    refused token, 422 for a taken value or a phone that cannot be read, 503
    for a change the state file could not record (nothing was changed)."""
    if isinstance(error, Missing):
        return NotFound(wording.page_not_found if error.what == "page" else None)
    if isinstance(error, TokenRefused):
        return Unauthorized()
    if isinstance(error, Taken):
        return ValidationFailed({error.field: [messages.TAKEN]})
    if isinstance(error, InvalidPhone):
        return ValidationFailed({"phone": [messages.phone_message(error.reason)]})
    if isinstance(error, NotSaved):
        return ServiceUnavailable(f"Service Unavailable: {error}; nothing was changed, retry later")
    raise TypeError(f"no answer for {type(error).__name__}")  # a new DomainError needs a line here


def in_words(error: HTTPError, wording: Wording) -> HTTPError:
    """`error` as `wording` says it: an answer in the guide's words (its
    class's default message) takes `wording`'s; a specific message stays."""
    if error.message != error.default_message:
        return error
    if isinstance(error, Unauthorized):
        error.message = wording.unauthorized
        error.headers["WWW-Authenticate"] = wording.challenge
    elif isinstance(error, NotFound):
        error.message = wording.not_found
    elif isinstance(error, ValidationFailed):
        error.message = wording.validation_failed
    return error
