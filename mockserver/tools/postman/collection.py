"""The collection "Dentare API" and the environment "Dentare", built from
the spec (Postman Collection Format v2.1). Pure: spec and guide examples in,
JSON-ready dicts out.

The collection has two folders:

* "Operations": one request per operation, in spec order, except that a
  request whose path parameter another operation's answer `links` provide
  comes after that operation (create, then get and update the created
  patient through the collection variable `patientId`).
* "Guide examples": every curl of the public guide, as written there
  (fixtures/guide_examples.json lists them).

A body value the API keeps unique (`UNIQUE_FIELDS`) is sent as the example's
value plus `-{{uniqueSuffix}}`, which the request's pre-request script sets
afresh for each send: the collection runs again without a reset.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dentare_spec import ApiSpec, Operation, Parameter, SpecError

from .guide import GuideExample, GuideExamples
from .links import LinkVariable, link_variables, path_variable
from .scripts import Check, checks_script, derive_check, unique_values_script

__all__ = [
    "COLLECTION_FILE",
    "ENVIRONMENT_FILE",
    "UNIQUE_FIELDS",
    "UNIQUE_SUFFIX",
    "build_collection",
    "build_environment",
    "render",
]

COLLECTION_NAME = "Dentare API"
ENVIRONMENT_NAME = "Dentare"
COLLECTION_FILE = "dentare-api.postman_collection.json"
ENVIRONMENT_FILE = "dentare.postman_environment.json"
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_NAMESPACE = uuid.UUID("6f1d5c0e-8a43-4c1b-9d7e-2b0c4e5a7d21")  # fixed, so ids are stable across runs

#: Request body fields the API keeps unique in an account. From the spec's
#: PatientWritable: "`external_id` is unique within an account (`has already
#: been taken`)", prose the spec has no keyword for.
UNIQUE_FIELDS = ("external_id",)
#: The variable a unique value is sent with (set by the pre-request script).
UNIQUE_SUFFIX = "uniqueSuffix"


def build_collection(spec: ApiSpec, guide: GuideExamples) -> dict[str, Any]:
    variables = link_variables(spec)
    consumers = {op_id for v in variables for op_id, _ in v.consumers}
    operations = sorted(spec.operations, key=lambda op: op.operation_id in consumers)
    info = spec.document.get("info", {})
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(_NAMESPACE, f"collection {info.get('title')} {info.get('version')}")),
            "name": COLLECTION_NAME,
            "description": _collection_description(spec),
            "schema": SCHEMA_URL,
        },
        "item": [
            {
                "name": "Operations",
                "description": _operations_description(spec, variables),
                "item": [_operation_item(spec, op, variables) for op in operations],
            },
            {
                "name": "Guide examples",
                "description": "Every curl of the Patients API guide, as written there. They read and write "
                f"patient {guide.patient_id} ({guide.patient_name} of the mock's account {guide.account_id}) "
                f"and leave it {guide.leaves_patient}: run them against the mock "
                "(`POST /__mock/reset` puts it back).",
                "item": [_guide_item(spec, example, variables) for example in guide.examples],
            },
        ],
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiToken}}", "type": "string"}]},
        "variable": [
            {"key": v.name, "value": v.initial, "type": "string", "description": v.description()} for v in variables
        ],
    }


def build_environment(spec: ApiSpec, base_url: str | None = None, token: str = "") -> dict[str, Any]:
    """`baseUrl` (default: the spec's local mock server) and `apiToken`, a secret."""
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"environment {ENVIRONMENT_NAME}")),
        "name": ENVIRONMENT_NAME,
        "values": [
            {"key": "baseUrl", "value": base_url or spec.local_server_url, "type": "default", "enabled": True},
            {"key": "apiToken", "value": token, "type": "secret", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
    }


def render(document: Mapping[str, Any]) -> str:
    """The file text of a collection or environment (stable, so diffs are small)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- descriptions ------------------------------------------------------------------------------


def _collection_description(spec: ApiSpec) -> str:
    info = spec.document.get("info", {})
    others = "; ".join(
        f"against {str(server.get('description') or 'another server').lower()}, set `baseUrl` to `{url}`"
        for server in spec.document.get("servers", [])
        if (url := str(server["url"]).rstrip("/")) != spec.local_server_url
    )
    return (
        f"{info.get('title', 'The API')} {info.get('version', '')}: {info.get('summary', '')}\n\n"
        "Select the **Dentare** environment and set `apiToken` (a secret) to your token; every request "
        "sends `Authorization: Bearer {{apiToken}}` to `{{baseUrl}}`. Against the mock (`dentare-mock`), "
        f"use a fixture token{'; ' + others if others else ''}.\n\n"
        "Each request's tests check the status and the shape of the answer against the spec.\n\n"
        "Generated from spec/openapi.yaml by `dentare-mock postman`; do not edit by hand."
    )


def _operations_description(spec: ApiSpec, variables: Sequence[LinkVariable]) -> str:
    text = "One request per operation of the spec, in an order that runs as is"
    stores = "; ".join(
        f"**{spec.operation(v.producer).summary or v.producer}** stores `{v.pointer}` of its answer "
        f"in `{{{{{v.name}}}}}`"
        for v in variables
    )
    return f"{text}: {stores}, which the requests after it use." if stores else f"{text}."


# --- requests ----------------------------------------------------------------------------------


def _operation_item(spec: ApiSpec, op: Operation, variables: Sequence[LinkVariable]) -> dict[str, Any]:
    body = next(iter(op.body_examples.values()), None)
    path_values = {p.name: path_variable(op, p.name) for p in op.parameters_in("path")}
    url = _url(
        op.path.replace("{", ":").replace("}", ""),
        query=[_query_entry(p) for p in op.parameters_in("query")],
        path_variables=[
            {"key": p.name, "value": f"{{{{{path_values[p.name]}}}}}", "description": p.description}
            for p in op.parameters_in("path")
        ],
    )
    check = derive_check(
        spec,
        op,
        body,
        sent_query={},
        path_values={name: f"pm.collectionVariables.get({json.dumps(v)})" for name, v in path_values.items()},
        variables=variables,
    )
    description = f"`{op.method} {op.path}` ({op.operation_id})\n\n{op.description}".strip()
    return _item(op.summary or op.operation_id, description, op.method, url, body, True, check)


def _guide_item(spec: ApiSpec, example: GuideExample, variables: Sequence[LinkVariable]) -> dict[str, Any]:
    op = spec.operation(example.operation_id)
    split = urlsplit(example.target)
    path_values = _match_path(op.path, split.path)
    if path_values is None:
        raise SpecError(f"guide example {example.name!r}: {split.path} is not {op.method} {op.path}")
    query = parse_qsl(split.query, keep_blank_values=True)
    unknown = sorted({key for key, _ in query} - {p.name for p in op.parameters_in("query")})
    if unknown:
        raise SpecError(f"guide example {example.name!r}: {op.operation_id} has no parameter {unknown}")
    body = _body_example(op, example.body_example)
    url = _url(split.path, query=[{"key": k, "value": v} for k, v in query])
    check = derive_check(
        spec,
        op,
        body,
        sent_query=dict(query),
        path_values={k: json.dumps(v) for k, v in path_values.items()},
        variables=variables,
    )
    description = f"From the Patients API guide. `{op.method} {op.path}` ({op.operation_id})."
    return _item(example.name, description, op.method, url, body, example.accept, check)


def _body_example(op: Operation, name: str | None) -> Any:
    if name is None:
        return None
    if name not in op.body_examples:
        raise SpecError(f"{op.operation_id} has no request body example {name!r} (has {sorted(op.body_examples)})")
    return op.body_examples[name]


def _item(
    name: str, description: str, method: str, url: dict[str, Any], body: Any, accept: bool, check: Check
) -> dict[str, Any]:
    headers = []
    if body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
    if accept:
        headers.append({"key": "Accept", "value": "application/json"})
    request: dict[str, Any] = {"method": method, "header": headers, "url": url, "description": description}
    events = []
    if body is not None:
        body, unique = _with_unique_values(body)
        if unique:
            events.append(_event("prerequest", unique_values_script(unique, UNIQUE_SUFFIX)))
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(body, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    events.append(_event("test", checks_script(check)))
    return {"name": name, "event": events, "request": request, "response": []}


def _with_unique_values(body: Any) -> tuple[Any, list[str]]:
    """The body with each unique text value suffixed by the per-send variable, and those fields."""
    if not isinstance(body, Mapping):
        return body, []
    unique = [key for key in UNIQUE_FIELDS if isinstance(body.get(key), str)]
    suffix = f"-{{{{{UNIQUE_SUFFIX}}}}}"
    return {key: f"{value}{suffix}" if key in unique else value for key, value in body.items()}, unique


def _event(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def _url(
    path: str, *, query: Sequence[dict[str, Any]] = (), path_variables: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    enabled = [q for q in query if not q.get("disabled")]
    raw = "{{baseUrl}}" + path
    if enabled:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in enabled)
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": [s for s in path.split("/") if s]}
    if query:
        url["query"] = list(query)
    if path_variables:
        url["variable"] = list(path_variables)
    return url


def _query_entry(parameter: Parameter) -> dict[str, Any]:
    """A documented query parameter, listed but off: tick it in Postman to send it."""
    value = parameter.example if parameter.example is not None else parameter.schema.get("default", "")
    if isinstance(value, bool):
        value = "true" if value else "false"
    return {"key": parameter.name, "value": str(value), "description": parameter.description, "disabled": True}


def _match_path(template: str, path: str) -> dict[str, str] | None:
    """The path parameters of `path` when it is an instance of the spec's `template`."""
    wanted, actual = template.strip("/").split("/"), path.strip("/").split("/")
    if len(wanted) != len(actual):
        return None
    values = {}
    for pattern, segment in zip(wanted, actual, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            values[pattern[1:-1]] = segment
        elif pattern != segment:
            return None
    return values
