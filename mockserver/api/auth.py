"""The Authorization header, parsed exactly as the guide says."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._exceptions import Unauthorized

__all__ = ["bearer_token"]

# The literal word "Bearer", exactly one space, then a token of visible ASCII.
# Whitespace around the whole value is not part of it in HTTP, so the server
# strips it before we see it (RFC 9110, 5.5).
_BEARER = re.compile(rb"Bearer ([\x21-\x7e]{1,512})")
_AUTHORIZATION = b"authorization"


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The token of the one well-formed `Authorization: Bearer` header, else 401."""
    values = [value for name, value in headers if name.lower() == _AUTHORIZATION]
    if len(values) != 1:
        raise Unauthorized()
    match = _BEARER.fullmatch(values[0])
    if match is None:
        raise Unauthorized()
    return match.group(1).decode("ascii")
