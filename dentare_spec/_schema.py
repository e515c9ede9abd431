"""One walker over resolved schemas (no `$ref` left; see _loader.py).

Every reader asks the same few questions of a schema: which properties an
object has through `allOf`, which JSON types a value may take, and what
constraints a (nullable) field carries. They are answered here once, with one
rule for a name declared twice: the first declaration wins, a node's own
`properties` before those of its `allOf` members, members in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Constraints",
    "ObjectShape",
    "all_of",
    "constraints",
    "json_type_of",
    "json_types",
    "object_shape",
    "value_type",
]

Schema = Mapping[str, Any]


def all_of(schema: Schema) -> Iterator[Schema]:
    """`schema` and, depth first, every member of its `allOf` chains."""
    yield schema
    for part in schema.get("allOf", ()):
        if isinstance(part, Mapping):
            yield from all_of(part)


@dataclass(frozen=True)
class ObjectShape:
    """An object schema's properties (first declaration wins, in declaration
    order), its required names, and the names it allows when it is closed
    (`additionalProperties` or `unevaluatedProperties` false), else None."""

    properties: dict[str, Schema]
    required: frozenset[str]
    allowed: frozenset[str] | None


def object_shape(schema: Schema | None) -> ObjectShape:
    properties: dict[str, Schema] = {}
    required: set[str] = set()
    closed_by_node: list[frozenset[str]] = []
    closed_overall = False
    for part in all_of(schema or {}):
        for name, sub in part.get("properties", {}).items():
            properties.setdefault(name, sub)
        required.update(part.get("required", ()))
        if part.get("additionalProperties") is False:
            closed_by_node.append(frozenset(part.get("properties", {})))
        if part.get("unevaluatedProperties") is False:
            closed_overall = True
    allowed: frozenset[str] | None = frozenset(properties) if closed_overall else None
    for own in closed_by_node:
        allowed = own if allowed is None else allowed & own
    return ObjectShape(properties, frozenset(required), allowed)


def json_type_of(value: Any) -> str:
    """The JSON type name of a Python value as JSON Schema counts it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_types(schema: Schema | None) -> frozenset[str] | None:
    """The JSON types a value of `schema` may have, or None when nothing says."""
    found: frozenset[str] | None = None
    for part in all_of(schema or {}):
        declared = _declared_types(part)
        if declared is not None:
            found = declared if found is None else found & declared
    return found


def _declared_types(node: Schema) -> frozenset[str] | None:
    if "type" in node:
        kind = node["type"]
        return frozenset([kind] if isinstance(kind, str) else kind)
    if "const" in node:
        return frozenset([json_type_of(node["const"])])
    if "enum" in node:
        return frozenset(json_type_of(value) for value in node["enum"])
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        union: set[str] = set()
        for branch in branches:
            types = json_types(branch)
            if types is None:
                return None
            union |= types
        return frozenset(union)
    return None


def value_type(schema: Schema | None) -> str | None:
    """The one non-null JSON type of a (nullable) value, or None."""
    types = sorted((json_types(schema) or frozenset()) - {"null"})
    if "integer" in types and "number" in types:
        return "number"
    return types[0] if len(types) == 1 else None


@dataclass(frozen=True)
class Constraints:
    """What a field's schema demands of a non-null value, flattened through
    `allOf` and the non-null branch of `anyOf: [X, null]`. Lengths and bounds
    are the strictest declared; every pattern applies."""

    type: str | None
    nullable: bool
    enum: tuple[Any, ...] | None = None
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    patterns: tuple[str, ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None
    default: Any = None
    items: Schema | None = None


def constraints(schema: Schema | None) -> Constraints:
    schema = schema or {}
    types = json_types(schema)
    nullable = types is not None and "null" in types
    values = _value_branches(schema)
    found: dict[str, Any] = {"patterns": []}
    for part in values:
        for node in all_of(part):
            _collect(node, found)
    default = schema.get("default", found.get("default"))
    return Constraints(
        type=value_type(schema),
        nullable=nullable,
        enum=found.get("enum"),
        format=found.get("format"),
        min_length=found.get("minLength"),
        max_length=found.get("maxLength"),
        patterns=tuple(dict.fromkeys(found["patterns"])),
        minimum=found.get("minimum"),
        maximum=found.get("maximum"),
        default=default,
        items=found.get("items"),
    )


def _value_branches(schema: Schema) -> list[Schema]:
    """The parts of `schema` that constrain a non-null value."""
    parts: list[Schema] = []
    for node in all_of(schema):
        branches = node.get("anyOf") or node.get("oneOf")
        if branches:
            parts += [b for b in branches if json_types(b) != frozenset({"null"})]
        parts.append({k: v for k, v in node.items() if k not in ("allOf", "anyOf", "oneOf")})
    return parts


def _collect(node: Schema, found: dict[str, Any]) -> None:
    if "pattern" in node:
        found["patterns"].append(node["pattern"])
    if "enum" in node:
        values = tuple(v for v in node["enum"] if v is not None)
        found["enum"] = values if "enum" not in found else tuple(v for v in found["enum"] if v in values)
    for key in ("format", "default", "items"):
        if key in node and key not in found:
            found[key] = node[key]
    for key, pick in (("maxLength", min), ("maximum", min), ("minLength", max), ("minimum", max)):
        if key in node:
            found[key] = node[key] if key not in found else pick(found[key], node[key])
