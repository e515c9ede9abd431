"""The Postman collection "Dentare API" and environment "Dentare", generated
from the spec: `dentare-mock postman --out postman/`.

The collection has two folders, meant to run in order against a freshly reset
mock (newman does, in tests/integrations/test_postman.py):

* "Operations": one request per operation, in spec order, except that a
  request whose path parameter another operation's response `links` provide
  comes after that operation (create, then get and update the created
  patient through the collection variable `patientId`).
* "Guide examples": every curl of the public guide, as written there.

Every request's test script asserts the status the spec gives for success,
a JSON answer, and the shape of the body: the required fields of the spec's
response schema, recursively, with their JSON types, and no field the schema
closes out. Where it applies it also checks that the answer echoes the values
sent, the paging parameters, the requested expansion fields and the id asked for.

All functions here are pure (spec in, JSON-ready dicts out) except
`write_postman` and `main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dentare_spec import ApiSpec, Operation, SpecError, load_spec

from .._exceptions import MockError

__all__ = [
    "COLLECTION_FILE",
    "ENVIRONMENT_FILE",
    "GUIDE_EXAMPLES",
    "GuideExample",
    "build_collection",
    "build_environment",
    "main",
    "response_shape",
    "write_postman",
]

COLLECTION_NAME = "Dentare API"
ENVIRONMENT_NAME = "Dentare"
COLLECTION_FILE = "dentare-api.postman_collection.json"
ENVIRONMENT_FILE = "dentare.postman_environment.json"
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_NAMESPACE = uuid.UUID("6f1d5c0e-8a43-4c1b-9d7e-2b0c4e5a7d21")  # fixed, so ids are stable across runs


@dataclass(frozen=True)
class GuideExample:
    """One curl of the guide: which operation, the URL below the base URL, and
    the request body as the spec example of that name."""

    name: str
    operation_id: str
    target: str
    body_example: str | None = None
    accept: bool = True  # the guide sends `Accept: application/json`


#: Every curl of the guide, in its order (tests/integrations/test_postman.py
#: checks them against the guide itself).
GUIDE_EXAMPLES: tuple[GuideExample, ...] = (
    GuideExample("Make your first authenticated request", "getMe", "/me.json"),
    GuideExample("List patients", "listPatients", "/patients"),
    GuideExample("List patients: pagination", "listPatients", "/patients?page=2&per_page=50"),
    GuideExample("List patients: search", "listPatients", "/patients?q=hoxha"),
    GuideExample("List patients: filter by email", "listPatients", "/patients?email=maria@example.com", accept=False),
    GuideExample("Get a single patient", "getPatient", "/patients/4821"),
    GuideExample("Get a single patient with expansion fields", "getPatient",
                 "/patients/4821?fields=allergies,medical_conditions,insurance_provider", accept=False),
    GuideExample("Create a patient (minimal)", "createPatient", "/patients", body_example="minimal"),
    GuideExample("Create a patient (full)", "createPatient", "/patients", body_example="full"),
    GuideExample("Update a patient", "updatePatient", "/patients/4821", body_example="contact"),
    GuideExample("Archive a patient", "updatePatient", "/patients/4821", body_example="archive", accept=False),
)


# --- response shapes ---------------------------------------------------------------------------


def response_shape(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a test script checks of a value of `schema` (resolved, no `$ref`):
    `types` (JSON types), `const`, `required` (name -> shape), `allowed`
    (the only property names, when the schema closes the object) and `items`."""
    parts = list(_all_of(schema or {}))
    shape: dict[str, Any] = {}
    types: set[str] | None = None
    for part in parts:
        declared = _declared_types(part)
        if declared is not None:
            types = declared if types is None else types & declared
    if types is not None:
        shape["types"] = sorted(types)
    for part in parts:
        if "const" in part:
            shape["const"] = part["const"]
            break
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in parts:
        properties.update(part.get("properties", {}))
        required += [name for name in part.get("required", []) if name not in required]
    if required:
        shape["required"] = {name: response_shape(properties.get(name)) for name in required}
    allowed: set[str] | None = None
    for part in parts:
        if part.get("unevaluatedProperties") is False:
            allowed = set(properties) if allowed is None else allowed & set(properties)
        if part.get("additionalProperties") is False:
            own = set(part.get("properties", {}))
            allowed = own if allowed is None else allowed & own
    if allowed is not None:
        shape["allowed"] = sorted(allowed)
    for part in parts:
        if isinstance(part.get("items"), Mapping):
            shape["items"] = response_shape(part["items"])
            break
    return shape


def _all_of(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield schema
    for part in schema.get("allOf", []):
        yield from _all_of(part)


def _declared_types(schema: Mapping[str, Any]) -> set[str] | None:
    if "type" in schema:
        kind = schema["type"]
        return {kind} if isinstance(kind, str) else set(kind)
    if "const" in schema:
        return {_json_type(schema["const"])}
    if "enum" in schema:
        return {_json_type(value) for value in schema["enum"]}
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        union: set[str] = set()
        for branch in branches:
            found = response_shape(branch).get("types")
            if found is None:
                return None
            union |= set(found)
        return union
    return None


def _json_type(value: Any) -> str:
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


def _find_property(schema: Mapping[str, Any] | None, name: str, through_arrays: bool) -> list[str] | None:
    """The path (object keys, `*` for array items) to the first object in
    `schema` that declares property `name`; breadth first."""
    queue: list[tuple[Mapping[str, Any], list[str]]] = [(schema or {}, [])]
    while queue:
        node, path = queue.pop(0)
        properties: dict[str, Any] = {}
        items = None
        for part in _all_of(node):
            properties.update(part.get("properties", {}))
            items = items or part.get("items")
        if name in properties:
            return path
        queue += [(sub, [*path, key]) for key, sub in properties.items() if isinstance(sub, Mapping)]
        if through_arrays and isinstance(items, Mapping):
            queue.append((items, [*path, "*"]))
    return None


# --- the collection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Variable:
    """A collection variable that one operation's response sets (from its
    `links`) and another operation's path parameter reads."""

    name: str
    producer: str  # operationId whose success response sets it
    pointer: str  # JSON pointer into that response body
    consumers: tuple[tuple[str, str], ...]  # (operationId, path parameter) that read it
    initial: str  # from the producer's response example, so a lone request works too


@dataclass(frozen=True)
class _Check:
    """What one request's test script asserts."""

    status: int
    schema_name: str | None
    shape: dict[str, Any]
    sent: Mapping[str, Any] | None = None
    echo_path: tuple[str, ...] | None = None
    echoed_params: tuple[tuple[tuple[str, ...], Any], ...] = ()
    expansions: tuple[tuple[tuple[str, ...], str], ...] = ()
    identity: tuple[str, str] | None = None  # (pointer, JS expression of the expected id)
    sets: tuple[tuple[str, str], ...] = ()  # (variable, pointer)


def build_collection(spec: ApiSpec) -> dict[str, Any]:
    """The "Dentare API" collection (Postman Collection Format v2.1)."""
    variables = _link_variables(spec)
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
                "description": "One request per operation of the spec, in an order that runs as is: "
                               "**Create a patient** stores the new id in `{{patientId}}`, which the "
                               "requests after it use.",
                "item": [_operation_item(spec, op, variables) for op in operations],
            },
            {
                "name": "Guide examples",
                "description": "Every curl of the Patients API guide, as written there. They read and write "
                               "patient 4821 (Maria Hoxha of the mock's account 1) and end by archiving it: "
                               "run them against the mock (`POST /__mock/reset` puts it back).",
                "item": [_guide_item(spec, example, variables) for example in GUIDE_EXAMPLES],
            },
        ],
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiToken}}", "type": "string"}]},
        "variable": [
            {
                "key": v.name,
                "value": v.initial,
                "type": "string",
                "description": f"Set by {v.producer} from `{v.pointer}` of its answer; read by "
                               + ", ".join(f"{op_id} as `{name}`" for op_id, name in v.consumers) + ".",
            }
            for v in variables
        ],
    }


def build_environment(spec: ApiSpec, base_url: str | None = None, token: str = "") -> dict[str, Any]:
    """The "Dentare" environment: `baseUrl` (default: the spec's local mock
    server) and `apiToken`, a secret."""
    url = base_url or _local_server(spec)
    return {
        "id": str(uuid.uuid5(_NAMESPACE, f"environment {ENVIRONMENT_NAME}")),
        "name": ENVIRONMENT_NAME,
        "values": [
            {"key": "baseUrl", "value": url, "type": "default", "enabled": True},
            {"key": "apiToken", "value": token, "type": "secret", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
    }


def _local_server(spec: ApiSpec) -> str:
    servers = [s["url"] for s in spec.document.get("servers", [])]
    local = [u for u in servers if urlsplit(u).hostname in ("127.0.0.1", "localhost")]
    if not (local or servers):
        raise SpecError(f"{spec.source} has no servers to take a base URL from")
    return str((local or servers)[0]).rstrip("/")


def _collection_description(spec: ApiSpec) -> str:
    info = spec.document.get("info", {})
    return (
        f"{info.get('title', 'The API')} {info.get('version', '')}: {info.get('summary', '')}\n\n"
        "Select the **Dentare** environment and set `apiToken` (a secret) to your token; every request "
        "sends `Authorization: Bearer {{apiToken}}` to `{{baseUrl}}`. Against the mock (`dentare-mock`), "
        "use a fixture token; against production, set `baseUrl` to `https://dentare.io/api/v1`.\n\n"
        "Each request's tests check the status and the shape of the answer against the spec.\n\n"
        "Generated from spec/openapi.yaml by `dentare-mock postman`; do not edit by hand."
    )


def _link_variables(spec: ApiSpec) -> list[_Variable]:
    found: dict[str, _Variable] = {}
    for op in spec.operations:
        status = _success_status(op)
        response = _raw_response(spec, op, status)
        for link in (response.get("links") or {}).values():
            target = spec.operation(link["operationId"]) if "operationId" in link else None
            if target is None:
                continue
            for parameter, expression in (link.get("parameters") or {}).items():
                if not isinstance(expression, str) or not expression.startswith("$response.body#"):
                    continue
                pointer = expression.removeprefix("$response.body#")
                name = _parameter_variable(spec, target, parameter)
                initial = _at_pointer(_first_example(_json_media(response)), pointer)
                known = found.get(name)
                if known is not None and (known.producer, known.pointer) != (op.operation_id, pointer):
                    raise SpecError(f"links set the path parameter {name} from two places: "
                                    f"{known.producer} {known.pointer} and {op.operation_id} {pointer}")
                found[name] = _Variable(
                    name=name, producer=op.operation_id, pointer=pointer,
                    consumers=(*(known.consumers if known else ()), (target.operation_id, parameter)),
                    initial="" if initial is None else str(initial),
                )
    return list(found.values())


def _parameter_variable(spec: ApiSpec, op: Operation, name: str) -> str:
    """The variable for a path parameter: its component's name when it is a `$ref`."""
    item = spec.document["paths"][op.path]
    for raw in [*item.get("parameters", []), *item[op.method.lower()].get("parameters", [])]:
        ref = raw.get("$ref", "")
        target = _deref(spec.document, raw)
        if target.get("name") == name and target.get("in") == "path":
            return ref.rsplit("/", 1)[-1] if ref else name
    return name


def _operation_item(spec: ApiSpec, op: Operation, variables: Sequence[_Variable]) -> dict[str, Any]:
    raw = spec.document["paths"][op.path][op.method.lower()]
    body = _request_example(spec, op, None)
    path_values = {}
    for parameter in op.parameters_in("path"):
        name = _parameter_variable(spec, op, parameter.name)
        path_values[parameter.name] = f"{{{{{name}}}}}"
    url = _url(
        op.path.replace("{", ":").replace("}", ""),
        query=[_query_entry(spec, p) for p in op.parameters_in("query")],
        path_variables=[
            {"key": p.name, "value": path_values[p.name], "description": _deref_param(spec, op, p.name).get(
                "description", "").strip()}
            for p in op.parameters_in("path")
        ],
    )
    check = _check(spec, op, body, sent_query={}, path_values={
        name: f"pm.collectionVariables.get({json.dumps(value.strip('{}'))})" for name, value in path_values.items()
    }, variables=variables)
    description = f"`{op.method} {op.path}` ({op.operation_id})\n\n{raw.get('description', '').strip()}".strip()
    return _item(raw.get("summary") or op.operation_id, description, op.method, url, body, True, check)


def _guide_item(spec: ApiSpec, example: GuideExample, variables: Sequence[_Variable]) -> dict[str, Any]:
    op = spec.operation(example.operation_id)
    split = urlsplit(example.target)
    path_values = _match_path(op.path, split.path)
    if path_values is None:
        raise SpecError(f"guide example {example.name!r}: {split.path} is not {op.method} {op.path}")
    sent_query = dict(parse_qsl(split.query, keep_blank_values=True))
    known = {p.name for p in op.parameters_in("query")}
    if set(sent_query) - known:
        raise SpecError(f"guide example {example.name!r}: {op.operation_id} has no parameter "
                        f"{sorted(set(sent_query) - known)}")
    body = _request_example(spec, op, example.body_example)
    url = _url(split.path, query=[{"key": k, "value": v} for k, v in parse_qsl(split.query, keep_blank_values=True)])
    check = _check(spec, op, body, sent_query=sent_query,
                   path_values={k: json.dumps(v) for k, v in path_values.items()}, variables=variables)
    description = f"From the Patients API guide. `{op.method} {op.path}` ({op.operation_id})."
    return _item(example.name, description, op.method, url, body, example.accept, check)


def _item(
    name: str, description: str, method: str, url: dict[str, Any], body: Any, accept: bool, check: _Check,
) -> dict[str, Any]:
    headers = []
    if body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
    if accept:
        headers.append({"key": "Accept", "value": "application/json"})
    request: dict[str, Any] = {"method": method, "header": headers, "url": url, "description": description}
    if body is not None:
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(body, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    return {
        "name": name,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": _test_script(check)}}],
        "request": request,
        "response": [],
    }


def _url(path: str, *, query: Sequence[dict[str, Any]] = (), path_variables: Sequence[dict[str, Any]] = ()
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


def _query_entry(spec: ApiSpec, parameter: Any) -> dict[str, Any]:
    """A documented query parameter, listed but off: tick it in Postman to send it."""
    schema = parameter.schema
    raw = next((p for p in _raw_parameters(spec, parameter) if p.get("name") == parameter.name), {})
    value = raw.get("example", schema.get("default", ""))
    if isinstance(value, bool):
        value = "true" if value else "false"
    return {"key": parameter.name, "value": str(value), "description": raw.get("description", "").strip(),
            "disabled": True}


def _raw_parameters(spec: ApiSpec, parameter: Any) -> Iterator[Mapping[str, Any]]:
    for item in spec.document.get("paths", {}).values():
        for holder in [item, *(item.get(m, {}) for m in ("get", "post", "patch", "put", "delete"))]:
            for raw in holder.get("parameters", []):
                target = _deref(spec.document, raw)
                if target.get("name") == parameter.name and target.get("in") == parameter.location:
                    yield target


def _deref_param(spec: ApiSpec, op: Operation, name: str) -> Mapping[str, Any]:
    item = spec.document["paths"][op.path]
    for raw in [*item.get("parameters", []), *item[op.method.lower()].get("parameters", [])]:
        target = _deref(spec.document, raw)
        if target.get("name") == name:
            return target
    return {}


def _check(
    spec: ApiSpec, op: Operation, body: Any, *, sent_query: Mapping[str, str],
    path_values: Mapping[str, str], variables: Sequence[_Variable],
) -> _Check:
    status = _success_status(op)
    schema = op.response_schema(status)
    echo_path = None
    if isinstance(body, Mapping) and body:
        echo_path = _echo_root(schema, set(body))
    echoed = []
    for parameter in op.parameters_in("query"):
        if parameter.name not in sent_query and parameter.default is None:
            continue
        where = _find_property(schema, parameter.name, through_arrays=False)
        if where is None:
            continue
        value: Any = sent_query.get(parameter.name, parameter.default)
        if parameter.type == "integer" and isinstance(value, str) and value.isdigit():
            value = int(value)
        echoed.append(((*where, parameter.name), value))
    expansions = []
    for name in sent_query.get("fields", "").split(","):
        where = _find_property(schema, name, through_arrays=True) if name else None
        if where is not None:
            expansions.append((tuple(where), name))
    identity = None
    sets = []
    for v in variables:
        if v.producer == op.operation_id:
            sets.append((v.name, v.pointer))
        producer = spec.operation(v.producer)
        same_schema = _schema_name(spec, op, status) == _schema_name(spec, producer, _success_status(producer))
        for op_id, param_name in v.consumers:
            if op_id == op.operation_id and param_name in path_values and same_schema:
                identity = (v.pointer, path_values[param_name])
    return _Check(
        status=status, schema_name=_schema_name(spec, op, status), shape=response_shape(schema),
        sent=body if isinstance(body, Mapping) else None, echo_path=echo_path,
        echoed_params=tuple(echoed), expansions=tuple(expansions), identity=identity, sets=tuple(sets),
    )


def _echo_root(schema: Mapping[str, Any] | None, keys: set[str]) -> tuple[str, ...] | None:
    """Where the answer holds the record a write sent: the first object (not
    under an array) that declares every key sent."""
    queue: list[tuple[Mapping[str, Any], tuple[str, ...]]] = [(schema or {}, ())]
    while queue:
        node, path = queue.pop(0)
        properties: dict[str, Any] = {}
        for part in _all_of(node):
            properties.update(part.get("properties", {}))
        if keys <= set(properties):
            return path
        queue += [(sub, (*path, key)) for key, sub in properties.items() if isinstance(sub, Mapping)]
    return None


def _test_script(check: _Check) -> list[str]:
    shape_name = check.schema_name or "the response schema"
    lines = [
        "// Generated from spec/openapi.yaml by `dentare-mock postman`; do not edit by hand.",
        f"const shape = {json.dumps(check.shape, ensure_ascii=False)};",
        "",
        f"pm.test(\"status is {check.status}\", function () {{",
        f"    pm.response.to.have.status({check.status});",
        "});",
        "pm.test(\"answers JSON\", function () {",
        "    pm.expect(pm.response.headers.get(\"Content-Type\") || \"\").to.match(/^application\\/json\\b/);",
        "});",
        f"pm.test(\"body has the shape of {shape_name}\", function () {{",
        "    checkShape(pm.response.json(), shape, \"body\");",
        "});",
    ]
    if check.sent is not None and check.echo_path is not None:
        lines += [
            "pm.test(\"answer holds the values sent\", function () {",
            f"    const record = at(pm.response.json(), {json.dumps(list(check.echo_path))})[0];",
            "    const sent = JSON.parse(pm.request.body.raw);",
            "    Object.keys(sent).forEach(function (key) {",
            "        pm.expect(record[key], key).to.eql(sent[key]);",
            "    });",
            "});",
        ]
    for path, value in check.echoed_params:
        name = path[-1]
        lines += [
            f"pm.test(\"{'.'.join(path)} is {value}\", function () {{",
            f"    pm.expect(at(pm.response.json(), {json.dumps(list(path))})[0]).to.eql({json.dumps(value)});",
            "});",
        ] if name else []
    if check.expansions:
        pairs = [[list(path), name] for path, name in check.expansions]
        lines += [
            "pm.test(\"includes the expansion fields asked for\", function () {",
            f"    {json.dumps(pairs)}.forEach(function (pair) {{",
            "        at(pm.response.json(), pair[0]).forEach(function (record) {",
            "            pm.expect(record, pair[1]).to.have.property(pair[1]);",
            "        });",
            "    });",
            "});",
        ]
    if check.identity is not None:
        pointer, expected = check.identity
        lines += [
            "pm.test(\"is the one asked for\", function () {",
            f"    pm.expect(String(at(pm.response.json(), {json.dumps(_pointer_keys(pointer))})[0]))"
            f".to.eql(String({expected}));",
            "});",
        ]
    for name, pointer in check.sets:
        lines += [
            f"if (pm.response.code === {check.status}) {{",
            f"    pm.collectionVariables.set({json.dumps(name)}, "
            f"String(at(pm.response.json(), {json.dumps(_pointer_keys(pointer))})[0]));",
            "}",
        ]
    return lines + _HELPERS


_HELPERS = """
// The values at a path of keys ("*" = every item of an array).
function at(value, path) {
    let found = [value];
    path.forEach(function (key) {
        found = key === "*"
            ? found.flatMap(function (v) { return Array.isArray(v) ? v : []; })
            : found.map(function (v) { return v === null || v === undefined ? undefined : v[key]; });
    });
    return found;
}

function jsonType(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

// Required fields, recursively, with their JSON types; no field the schema closes out.
// Every problem is listed, not just the first.
function shapeProblems(value, shape, where, problems) {
    const type = jsonType(value);
    if (shape.types && !(shape.types.includes(type) || (type === "integer" && shape.types.includes("number")))) {
        problems.push(where + " is " + type + ", not " + shape.types.join(" or "));
        return problems;
    }
    if ("const" in shape && JSON.stringify(value) !== JSON.stringify(shape.const)) {
        problems.push(where + " is not " + JSON.stringify(shape.const));
    }
    if (type === "object") {
        Object.keys(shape.required || {}).forEach(function (key) {
            if (!(key in value)) problems.push(where + "." + key + " is missing");
            else shapeProblems(value[key], shape.required[key], where + "." + key, problems);
        });
        Object.keys(value).forEach(function (key) {
            if (shape.allowed && !shape.allowed.includes(key)) {
                problems.push(where + "." + key + " is not in the schema");
            }
        });
    }
    if (type === "array" && shape.items) {
        value.forEach(function (item, i) { shapeProblems(item, shape.items, where + "[" + i + "]", problems); });
    }
    return problems;
}

function checkShape(value, shape, where) {
    const problems = shapeProblems(value, shape, where, []);
    if (problems.length) throw new Error(problems.join("; "));
}""".splitlines()


# --- small spec helpers ------------------------------------------------------------------------


def _success_status(op: Operation) -> int:
    statuses = sorted(s for s in op.responses if 200 <= s < 300)
    if not statuses:
        raise SpecError(f"{op.method} {op.path} has no 2xx response to test for")
    return statuses[0]


def _raw_response(spec: ApiSpec, op: Operation, status: int) -> Mapping[str, Any]:
    responses = spec.document["paths"][op.path][op.method.lower()].get("responses", {})
    return _deref(spec.document, responses.get(str(status), {}))


def _json_media(holder: Mapping[str, Any]) -> Mapping[str, Any]:
    return _deref_any(holder.get("content", {}).get("application/json", {}))


def _deref_any(node: Any) -> Mapping[str, Any]:
    return node if isinstance(node, Mapping) else {}


def _schema_name(spec: ApiSpec, op: Operation, status: int) -> str | None:
    ref = _json_media(_raw_response(spec, op, status)).get("schema", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _first_example(media: Mapping[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        return example.get("value")
    return None


def _request_example(spec: ApiSpec, op: Operation, name: str | None) -> Any:
    raw = spec.document["paths"][op.path][op.method.lower()]
    if "requestBody" not in raw:
        if name is not None:
            raise SpecError(f"{op.operation_id} has no request body for example {name!r}")
        return None
    media = _json_media(_deref(spec.document, raw["requestBody"]))
    if name is None:
        return _first_example(media)
    examples = media.get("examples") or {}
    if name not in examples:
        raise SpecError(f"{op.operation_id} has no request body example {name!r} (has {sorted(examples)})")
    return _deref(spec.document, examples[name]).get("value")


def _deref(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 20:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def _pointer_keys(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []


def _at_pointer(value: Any, pointer: str) -> Any:
    for key in _pointer_keys(pointer):
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _match_path(template: str, path: str) -> dict[str, str] | None:
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


# --- files and CLI -----------------------------------------------------------------------------


def render(document: Mapping[str, Any]) -> str:
    """The file text of a collection or environment (stable, so diffs are small)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_postman(spec: ApiSpec, out_dir: Path, base_url: str | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in ((COLLECTION_FILE, build_collection(spec)),
                           (ENVIRONMENT_FILE, build_environment(spec, base_url))):
        path = out_dir / name
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock postman",
        description="Write the Postman collection and environment generated from the spec.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write them to")
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec (default: the packaged one)")
    parser.add_argument("--base-url", default=None,
                        help="the environment's baseUrl (default: the spec's local mock server)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from dentare_spec import default_spec_path

    args = build_parser().parse_args(argv)
    try:
        written = write_postman(load_spec(args.spec or default_spec_path()), args.out, args.base_url)
    except (MockError, OSError) as exc:
        print(f"dentare-mock postman: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
