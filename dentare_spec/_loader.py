"""Read the document once: parse the YAML, validate it as OpenAPI, and inline
every local `$ref`.

Resolution is done here and nowhere else, so every reader agrees on it: a
`$ref` with sibling keywords becomes `allOf: [target]` plus the siblings, so
both apply, as JSON Schema 2020-12 says (merging them would let one override
the other).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from ._exceptions import SpecError
from ._pointers import split_pointer

__all__ = ["read_document", "resolve_pointer", "resolve_refs", "validate_document"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_document(source: Path) -> dict[str, Any]:
    """The parsed, validated OpenAPI document; any problem is a SpecError that says where."""
    try:
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise SpecError(f"cannot read the spec {source}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{source} is not an OpenAPI document (top level is not a mapping)")
    validate_document(document, str(source))
    return document


def validate_document(document: Mapping[str, Any], source: str) -> None:
    try:
        validate_openapi(dict(document))
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in getattr(exc, "path", ())) or "(document)"
        raise SpecError(f"{source} is not a valid OpenAPI document at {where}: {exc.message}") from None


def resolve_pointer(root: Mapping[str, Any], ref: str) -> Any:
    """The node a local `#/...` reference names."""
    if not ref.startswith("#/"):
        raise SpecError(f"only local references are supported, not {ref!r}")
    target: Any = root
    for part in split_pointer(ref[1:]):
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, Mapping) and part in target:
            target = target[part]
        else:
            raise SpecError(f"reference {ref!r} points at nothing")
    return target


def resolve_refs(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` inlined (see the module doc for siblings)."""
    if isinstance(node, list):
        return [resolve_refs(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise SpecError(f"recursive reference {ref!r} cannot be served")
        resolved = resolve_refs(resolve_pointer(root, ref), root, (*seen, ref))
        siblings = {k: resolve_refs(v, root, seen) for k, v in node.items() if k != "$ref"}
        return {"allOf": [resolved], **siblings} if siblings else resolved
    return {key: resolve_refs(value, root, seen) for key, value in node.items()}
