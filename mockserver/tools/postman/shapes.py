"""What a test script checks of an answer, read from the response schema
(resolved; `allOf` walked by `dentare_spec`), and where in an answer a value
sits: the record a write echoes, a paging parameter, an expansion field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dentare_spec import all_of, json_types, object_shape

__all__ = ["Schema", "echo_root", "find_property", "response_shape"]

Schema = Mapping[str, Any]


def response_shape(schema: Schema | None) -> dict[str, Any]:
    """What a test script checks of a value of `schema`: `types` (JSON
    types), `const`, `required` (name -> shape, in the order the schema
    lists them), `allowed` (the only property names, when the schema closes
    the object) and `items`. Keys with nothing to say are left out."""
    schema = schema or {}
    shape: dict[str, Any] = {}
    types = json_types(schema)
    if types is not None:
        shape["types"] = sorted(types)
    const = next((part for part in all_of(schema) if "const" in part), None)
    if const is not None:
        shape["const"] = const["const"]
    found = object_shape(schema)
    required = dict.fromkeys(name for part in all_of(schema) for name in part.get("required", ()))
    if required:
        shape["required"] = {name: response_shape(found.properties.get(name)) for name in required}
    if found.allowed is not None:
        shape["allowed"] = sorted(found.allowed)
    items = _items(schema)
    if items is not None:
        shape["items"] = response_shape(items)
    return shape


def find_property(schema: Schema | None, name: str, *, through_arrays: bool) -> tuple[str, ...] | None:
    """The path (object keys, `*` for every item of an array) to the first
    object, breadth first, that declares property `name`."""
    return _first_object(schema, lambda properties: name in properties, through_arrays=through_arrays)


def echo_root(schema: Schema | None, keys: Iterable[str]) -> tuple[str, ...] | None:
    """Where an answer holds the record a write sent: the first object (not
    under an array) that declares every key sent."""
    wanted = set(keys)
    return _first_object(schema, lambda properties: wanted <= properties.keys(), through_arrays=False)


def _first_object(
    schema: Schema | None, fits: Callable[[Mapping[str, Schema]], bool], *, through_arrays: bool
) -> tuple[str, ...] | None:
    queue: list[tuple[Schema, tuple[str, ...]]] = [(schema or {}, ())]
    while queue:
        node, path = queue.pop(0)
        properties = object_shape(node).properties
        if fits(properties):
            return path
        queue += [(sub, (*path, key)) for key, sub in properties.items() if isinstance(sub, Mapping)]
        items = _items(node)
        if through_arrays and items is not None:
            queue.append((items, (*path, "*")))
    return None


def _items(schema: Schema) -> Schema | None:
    return next((part["items"] for part in all_of(schema) if isinstance(part.get("items"), Mapping)), None)
