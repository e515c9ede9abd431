"""Load the OpenAPI document once and derive every fact the rules need from it.

Rules never hard-code the API's shape: limits (per_page), required and
writable fields, enums, the expansion field list, the error bodies and the
operations all come from here, so a change to spec/openapi.yaml changes what
the suite checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import yaml

from ._exceptions import UsageError
from .types import Json, JsonObject

__all__ = ["Operation", "SpecFacts", "default_spec_path", "load_spec"]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def default_spec_path() -> Path:
    """The checkout's spec when run from the repo, else the copy the wheel bundles."""
    checkout = Path(__file__).resolve().parents[1] / "spec" / "openapi.yaml"
    if checkout.is_file():
        return checkout
    return Path(__file__).resolve().parent / "_bundled" / "spec" / "openapi.yaml"


def load_spec(path: Path | str | None = None) -> SpecFacts:
    spec_path = Path(path) if path is not None else default_spec_path()
    try:
        raw = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the spec at {spec_path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"the spec at {spec_path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or "paths" not in raw:
        raise UsageError(f"{spec_path} is not an OpenAPI document")
    return SpecFacts(raw=raw, path=spec_path)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # as in the spec, e.g. /patients/{id}
    raw: JsonObject

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def has_path_id(self) -> bool:
        return "{id}" in self.path

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass
class SpecFacts:
    raw: JsonObject
    path: Path

    # -- resolution -------------------------------------------------------

    def resolve(self, node: Json) -> Json:
        """Follow a local `$ref` (repeatedly) to the node it names."""
        while isinstance(node, Mapping) and "$ref" in node and len(node) == 1:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise UsageError(f"only local $refs are supported, got {ref!r}")
            target: Json = self.raw
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def schema(self, name: str) -> JsonObject:
        return dict(self.raw["components"]["schemas"][name])

    def properties(self, name: str) -> dict[str, JsonObject]:
        """Properties of a component schema, following `allOf` and `$ref` (first wins)."""
        out: dict[str, JsonObject] = {}

        def walk(node: Json) -> None:
            node = self.resolve(node)
            if not isinstance(node, Mapping):
                return
            for key, value in node.get("properties", {}).items():
                out.setdefault(key, value)
            for part in node.get("allOf", []):
                walk(part)

        walk({"$ref": f"#/components/schemas/{name}"})
        return out

    def validator(self, schema: Json) -> jsonschema_rs.Validator:
        """A validator for `schema` (any node of this document; local `$ref`s resolve)."""
        wrapped = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.raw.get("components", {}),
            "allOf": [schema],
        }
        return jsonschema_rs.validator_for(wrapped, validate_formats=True)

    def component_validator(self, name: str) -> jsonschema_rs.Validator:
        return self._validators(name)

    def _validators(self, name: str) -> jsonschema_rs.Validator:
        cache = self.__dict__.setdefault("_validator_cache", {})
        if name not in cache:
            cache[name] = self.validator({"$ref": f"#/components/schemas/{name}"})
        return cache[name]  # type: ignore[no-any-return]

    # -- operations -------------------------------------------------------

    @cached_property
    def operations(self) -> dict[str, Operation]:
        ops: dict[str, Operation] = {}
        for path, item in self.raw["paths"].items():
            for method in _HTTP_METHODS:
                if method in item:
                    raw = item[method]
                    op_id = raw.get("operationId") or f"{method} {path}"
                    ops[op_id] = Operation(op_id, method.upper(), path, raw)
        return ops

    def iter_operations(self, *, writes: bool = True) -> Iterator[Operation]:
        for op in self.operations.values():
            if writes or not op.writes:
                yield op

    def operation(self, method: str, path: str) -> Operation:
        for op in self.operations.values():
            if op.method == method.upper() and op.path == path:
                return op
        raise UsageError(f"the spec defines no {method.upper()} {path}")

    def methods_for(self, path: str) -> set[str]:
        return {op.method for op in self.operations.values() if op.path == path}

    @cached_property
    def paths(self) -> list[str]:
        return list(self.raw["paths"])

    def parameters(self, op: Operation) -> dict[str, JsonObject]:
        """Every parameter of an operation (path-level ones included), by name."""
        params: dict[str, JsonObject] = {}
        path_item = self.raw["paths"][op.path]
        for ref in [*path_item.get("parameters", []), *op.raw.get("parameters", [])]:
            param = self.resolve(ref)
            params[param["name"]] = param
        return params

    def response(self, op: Operation, status: int | str) -> JsonObject | None:
        response = op.raw.get("responses", {}).get(str(status))
        return self.resolve(response) if response is not None else None

    def response_schema(self, op: Operation, status: int | str) -> JsonObject | None:
        response = self.response(op, status)
        if response is None:
            return None
        content = response.get("content", {}).get("application/json", {})
        schema = content.get("schema")
        return dict(schema) if schema is not None else None

    # -- the Patients API's facts ------------------------------------------

    @cached_property
    def base_path(self) -> str:
        """The path part the spec's servers share (e.g. /api/v1)."""
        servers = self.raw.get("servers") or [{"url": "/"}]
        paths = {urlsplit(server["url"]).path.rstrip("/") for server in servers}
        return paths.pop() if len(paths) == 1 else ""

    @cached_property
    def list_operation(self) -> Operation:
        return self._by_schema("get", "PatientList")

    @cached_property
    def create_operation(self) -> Operation:
        return next(op for op in self.operations.values() if op.method == "POST")

    @cached_property
    def get_operation(self) -> Operation:
        return next(op for op in self.operations.values() if op.method == "GET" and op.has_path_id)

    @cached_property
    def update_operation(self) -> Operation:
        return next(op for op in self.operations.values() if op.method == "PATCH")

    @cached_property
    def me_operation(self) -> Operation:
        return self._by_schema("get", "User")

    def _by_schema(self, method: str, schema_name: str) -> Operation:
        ref = f"#/components/schemas/{schema_name}"
        for op in self.operations.values():
            if op.method == method.upper() and (self.response_schema(op, 200) or {}).get("$ref") == ref:
                return op
        raise UsageError(f"the spec has no {method.upper()} operation answering {schema_name}")

    def list_param(self, name: str) -> JsonObject:
        return dict(self.parameters(self.list_operation)[name]["schema"])

    @cached_property
    def per_page(self) -> tuple[int, int, int]:
        """(minimum, default, maximum) of `per_page`."""
        schema = self.list_param("per_page")
        return int(schema.get("minimum", 1)), int(schema["default"]), int(schema["maximum"])

    @cached_property
    def page_min(self) -> int:
        return int(self.list_param("page").get("minimum", 1))

    @cached_property
    def page_max(self) -> int:
        return int(self.list_param("page").get("maximum", 2**31 - 1))

    @cached_property
    def string_filters(self) -> list[str]:
        """The list's exact/partial string filters (email, phone, ...), not q or paging."""
        skip = {"page", "per_page", "q", "fields", "lang", "is_active"}
        return [
            name
            for name, param in self.parameters(self.list_operation).items()
            if name not in skip and param.get("in") == "query" and param["schema"].get("type") == "string"
        ]

    @cached_property
    def expansion_fields(self) -> list[str]:
        return list(self.schema("ExpansionField")["enum"])

    @cached_property
    def langs(self) -> list[str]:
        lang = self.parameters(self.get_operation)["lang"]["schema"]
        return list(lang["enum"])

    @cached_property
    def create_required(self) -> list[str]:
        return list(self.resolve(self._body_schema(self.create_operation)).get("required", []))

    @cached_property
    def writable(self) -> dict[str, JsonObject]:
        """Writable fields with their schemas, as the create body allows them."""
        return self.properties(self._body_schema_name(self.create_operation))

    @cached_property
    def patient_fields(self) -> dict[str, JsonObject]:
        return {k: v for k, v in self.properties("Patient").items() if k not in self.expansion_fields}

    @cached_property
    def read_only_fields(self) -> list[str]:
        return [name for name in self.patient_fields if name not in self.writable]

    @cached_property
    def error_bodies(self) -> dict[int, JsonObject]:
        """The fixed error bodies (schemas with `const` error): 401, 404."""
        out: dict[int, JsonObject] = {}
        for op in self.operations.values():
            for status in (401, 404):
                schema = self.response_schema(op, status)
                if schema is not None:
                    const = self.resolve(schema).get("properties", {}).get("error", {}).get("const")
                    if const is not None:
                        out[status] = {"error": const}
        return out

    @cached_property
    def validation_error_message(self) -> str:
        return str(self.schema("ValidationError")["properties"]["error"]["const"])

    @cached_property
    def unauthorized_header(self) -> tuple[str, str]:
        response = self.raw["components"]["responses"]["Unauthorized"]
        name, header = next(iter(response["headers"].items()))
        return name, str(header["schema"]["const"])

    @cached_property
    def id_maximum(self) -> int:
        return int(self.parameters(self.get_operation)["id"]["schema"]["maximum"])

    @cached_property
    def e164_pattern(self) -> str:
        return str(self.schema("E164")["pattern"])

    def _body_schema(self, op: Operation) -> JsonObject:
        return dict(op.raw["requestBody"]["content"]["application/json"]["schema"])

    def _body_schema_name(self, op: Operation) -> str:
        return str(self._body_schema(op)["$ref"]).rsplit("/", 1)[-1]

    def field_schema(self, name: str) -> JsonObject:
        """A writable field's schema with its `anyOf [X, null]` and `$ref`s flattened."""
        node = self.resolve(self.writable[name])
        nullable = False
        if "anyOf" in node:
            parts = [self.resolve(p) for p in node["anyOf"]]
            nullable = any(p.get("type") == "null" for p in parts)
            node = next(p for p in parts if p.get("type") != "null")
        merged: JsonObject = {}
        self._merge_refs(node, merged)
        types = merged.get("type")
        if isinstance(types, list):
            nullable = nullable or "null" in types
            merged["type"] = next(t for t in types if t != "null")
        merged["nullable"] = nullable
        return merged

    def _merge_refs(self, node: Json, into: JsonObject) -> None:
        node = dict(node)
        ref = node.pop("$ref", None)
        if ref is not None:
            self._merge_refs(self.resolve({"$ref": ref}), into)
        for key, value in node.items():
            if key == "pattern":
                into.setdefault("patterns", []).append(value)
            into[key] = value  # the referring node's keywords win

    def describe(self) -> dict[str, Any]:
        return {
            "operations": [op.label for op in self.operations.values()],
            "per_page": self.per_page,
            "expansion_fields": self.expansion_fields,
            "create_required": self.create_required,
        }
