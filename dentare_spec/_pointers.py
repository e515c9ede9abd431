"""JSON pointers (RFC 6901) into values the spec holds or describes.

A link says where its value comes from with a runtime expression such as
`$response.body#/data/id`; readers follow that pointer into an example of the
answer, or hand its keys to code that reads real answers. `resolve_pointer`
(the `#/...` of a `$ref`) splits pointers the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["at_pointer", "response_body_pointer", "split_pointer"]

_RESPONSE_BODY = "$response.body#"


def split_pointer(pointer: str) -> list[str]:
    """The keys of a pointer, unescaped: `/data/id` -> ["data", "id"]; `""` (the whole value) -> []."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def at_pointer(value: Any, pointer: str, default: Any = None) -> Any:
    """The part of a JSON value a pointer names (array items by index), or
    `default` when the value has nothing there: an example may not show it."""
    for key in split_pointer(pointer):
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return default
    return value


def response_body_pointer(expression: str) -> str | None:
    """The pointer of a runtime expression into the response body
    (`$response.body#/data/id` -> `/data/id`), or None for any other source
    (`$request.path.id`, a constant)."""
    if not expression.startswith(_RESPONSE_BODY):
        return None
    return expression.removeprefix(_RESPONSE_BODY)
