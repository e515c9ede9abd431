"""Load the OpenAPI document once, validate it, and describe its operations.

Everything the mock serves is read from here: the base path, the routes, the
parameters with their schemas and defaults, the request body schemas and the
response schemas. Nothing below this module hard-codes the API's shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from ._exceptions import SpecError

__all__ = ["ApiSpec", "Operation", "Parameter", "load_spec"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    schema: Mapping[str, Any]
    required: bool = False
    explode: bool = True

    @property
    def type(self) -> str:
        kind = self.schema.get("type", "string")
        return kind if isinstance(kind, str) else next(t for t in kind if t != "null")

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    responses: Mapping[int, Mapping[str, Any] | None]
    secured: bool

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)

    def response_schema(self, status: int) -> Mapping[str, Any] | None:
        return self.responses.get(status)


@dataclass(frozen=True)
class ApiSpec:
    document: Mapping[str, Any]
    source: Path
    base_path: str
    operations: tuple[Operation, ...]
    _resolved: Mapping[str, Any] = field(repr=False)

    def schema(self, name: str) -> Mapping[str, Any]:
        """A component schema with every `$ref` inlined."""
        try:
            return self._resolved["components"]["schemas"][name]
        except KeyError:
            raise SpecError(f"{self.source}: components.schemas.{name} is missing") from None

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise SpecError(f"{self.source}: no operation with operationId {operation_id!r}")

    @cached_property
    def paths(self) -> dict[str, dict[str, Operation]]:
        """Spec path -> HTTP method (upper case) -> operation."""
        table: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            table.setdefault(op.path, {})[op.method] = op
        return table


def load_spec(path: str | Path) -> ApiSpec:
    """Read, validate and resolve the spec; any problem is a SpecError that says where."""
    source = Path(path)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read the spec {source}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{source} is not an OpenAPI document (top level is not a mapping)")
    try:
        validate_openapi(document)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in getattr(exc, "path", ())) or "(document)"
        raise SpecError(f"{source} is not a valid OpenAPI document at {where}: {exc.message}") from None
    resolved = _resolve_refs(document, document)
    return ApiSpec(
        document=document,
        source=source,
        base_path=_base_path(document),
        operations=tuple(_operations(resolved, source)),
        _resolved=resolved,
    )


def _base_path(document: Mapping[str, Any]) -> str:
    """The path part of the local server's URL (`/api/v1`), else of the first server."""
    servers = document.get("servers") or [{"url": "/"}]
    local = [s for s in servers if urlparse(s["url"]).hostname in ("127.0.0.1", "localhost")]
    return urlparse((local or servers)[0]["url"]).path.rstrip("/")


def _operations(resolved: Mapping[str, Any], source: Path) -> Iterator[Operation]:
    default_security = resolved.get("security") or []
    for path, item in resolved.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            where = f"{method.upper()} {path}"
            if "operationId" not in raw:
                raise SpecError(f"{source}: {where} has no operationId; the mock routes by it")
            params = {(p["name"], p["in"]): p for p in [*shared, *raw.get("parameters", [])]}
            body = raw.get("requestBody")
            yield Operation(
                operation_id=raw["operationId"],
                method=method.upper(),
                path=path,
                parameters=tuple(
                    Parameter(
                        name=p["name"],
                        location=p["in"],
                        schema=p.get("schema", {}),
                        required=p.get("required", False),
                        explode=p.get("explode", p.get("style", "form") == "form"),
                    )
                    for p in params.values()
                ),
                body_schema=_json_schema(body) if body else None,
                body_required=bool(body and body.get("required")),
                responses={
                    int(status): _json_schema(response)
                    for status, response in raw.get("responses", {}).items()
                    if status.isdigit()
                },
                secured=bool(raw.get("security", default_security)),
            )


def _json_schema(holder: Mapping[str, Any]) -> Mapping[str, Any] | None:
    media = holder.get("content", {}).get("application/json")
    return media.get("schema") if media else None


def _resolve_refs(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Inline local `$ref`s. A `$ref` with sibling keywords becomes `allOf` so both
    apply, as JSON Schema 2020-12 says (merging them would let one override the other)."""
    if isinstance(node, list):
        return [_resolve_refs(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and isinstance(node["$ref"], str):
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise SpecError(f"only local references are supported, not {ref!r}")
        if ref in seen:
            raise SpecError(f"recursive reference {ref!r} cannot be served")
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise SpecError(f"reference {ref!r} points at nothing")
            target = target[part]
        resolved = _resolve_refs(target, root, (*seen, ref))
        siblings = {k: _resolve_refs(v, root, seen) for k, v in node.items() if k != "$ref"}
        return {"allOf": [resolved], **siblings} if siblings else resolved
    return {key: _resolve_refs(value, root, seen) for key, value in node.items()}
