"""Response bodies shaped by the spec's response schemas.

A handler returns a dict that may hold more than an operation answers (a full
record for a list item, say); the shaper built from the response schema keeps
exactly the properties the schema defines, in its order. Change the schema
and the answer changes with it. `keeping` narrows a schema further, for an
answer that carries fewer fields than its schema lists (answer_fields).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from dentare_spec import object_shape

__all__ = ["Shaper", "compile_shaper", "keeping"]

Shaper = Callable[[Any], Any]


def compile_shaper(schema: Mapping[str, Any] | None) -> Shaper:
    """A function projecting a value onto `schema` (compiled once, at start-up)."""
    if not schema:
        return _identity
    shape = object_shape(schema)
    properties, required = shape.properties, shape.required
    if properties:
        plan = [(name, compile_shaper(sub), name in required) for name, sub in properties.items()]

        def shape_object(value: Mapping[str, Any]) -> dict[str, Any]:
            shaped: dict[str, Any] = {}
            for name, shaper, is_required in plan:
                if name in value:
                    shaped[name] = shaper(value[name])
                elif is_required:
                    raise KeyError(f"response is missing required property {name!r}")
            return shaped

        if all(shaper is _identity for _, shaper, _ in plan):
            return _flat_object_shaper(plan, shape_object)
        return shape_object
    items = schema.get("items")
    if isinstance(items, Mapping) and object_shape(items).properties:
        shape_item = compile_shaper(items)
        return lambda value: [shape_item(item) for item in value]
    return _identity


def keeping(schema: Mapping[str, Any] | None, names: Collection[str]) -> dict[str, Any]:
    """An envelope schema (`{"data": {...}}`) whose `data` keeps only the
    properties in `names`, in the schema's order: what to shape an answer by."""
    shape = object_shape(schema)
    data = object_shape(shape.properties.get("data"))
    narrowed = {
        "type": "object",
        "properties": {name: sub for name, sub in data.properties.items() if name in names},
        "required": [name for name in data.properties if name in data.required and name in names],
    }
    return {"type": "object", "properties": {**shape.properties, "data": narrowed}, "required": sorted(shape.required)}


def _identity(value: Any) -> Any:
    return value


def _flat_object_shaper(plan: list[tuple[str, Shaper, bool]], general: Shaper) -> Shaper:
    """`general` for an object whose properties are all leaves (a patient):
    the leading run of required properties is taken in one comprehension. The answer
    is the same dict in the same order; a missing property falls back to
    `general`, which raises its usual error. A list page shapes 20 of these
    (bench/README.md: the per-property loop was a tenth of its time)."""
    leading: list[str] = []
    for name, _, is_required in plan:
        if not is_required:
            break
        leading.append(name)
    if len(leading) < 2:
        return general
    names = tuple(leading)
    rest = tuple(name for name, _, _ in plan[len(leading) :])
    rest_required = tuple(name for name, _, is_required in plan[len(leading) :] if is_required)

    def shape_flat(value: Mapping[str, Any]) -> dict[str, Any]:
        try:
            shaped = {name: value[name] for name in names}  # faster than dict(zip(names, itemgetter))
        except (KeyError, TypeError):
            return general(value)  # type: ignore[no-any-return]
        for name in rest_required:
            if name not in value:
                raise KeyError(f"response is missing required property {name!r}")
        if rest:  # the optional ones present, in schema order (comprehensions beat a loop here)
            shaped.update({name: value[name] for name in rest if name in value})
        return shaped

    return shape_flat
