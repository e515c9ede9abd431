"""The scripts of a request: what its test script checks (from the
operation's success answer, the values sent and the link variables), the
test script itself, and the pre-request script of a request whose body holds
values the API keeps unique.

The JavaScript lives in the `.js` files beside this module (package data,
read at generation time): a generated script is a few lines of data and
calls, then those helpers, so each script runs on its own in Postman.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from dentare_spec import ApiSpec, Operation, split_pointer

from .links import LinkVariable
from .shapes import echo_root, find_property, response_shape

__all__ = ["GENERATED", "Check", "checks_script", "derive_check", "read_js", "unique_values_script"]

GENERATED = "// Generated from spec/openapi.yaml by `dentare-mock postman`; do not edit by hand."
EXPANSIONS_PARAMETER = "fields"  # the query parameter that names expansion fields


@dataclass(frozen=True)
class Check:
    """What one request's test script asserts."""

    status: int
    schema_name: str | None
    shape: dict[str, Any]
    echo_path: tuple[str, ...] | None = None  # where the answer holds the record the body sent
    echoed_params: tuple[tuple[tuple[str, ...], Any], ...] = ()  # (path in the answer, value sent)
    expansions: tuple[tuple[tuple[str, ...], str], ...] = ()  # (path of the records, field)
    identity: tuple[str, str] | None = None  # (pointer, JS expression of the expected id)
    sets: tuple[tuple[str, str], ...] = ()  # (variable, pointer)


def derive_check(
    spec: ApiSpec,
    op: Operation,
    body: Any,
    *,
    sent_query: Mapping[str, str],
    path_values: Mapping[str, str],
    variables: Sequence[LinkVariable],
) -> Check:
    """`path_values` maps each path parameter to a JS expression of the value sent."""
    status = op.success_status
    answer = op.responses[status]
    schema = answer.schema
    echo_path = echo_root(schema, body) if isinstance(body, Mapping) and body else None
    echoed: list[tuple[tuple[str, ...], Any]] = []
    for parameter in op.parameters_in("query"):
        if parameter.name not in sent_query and parameter.default is None:
            continue
        where = find_property(schema, parameter.name, through_arrays=False)
        if where is None:
            continue
        value: Any = sent_query.get(parameter.name, parameter.default)
        if parameter.type == "integer" and isinstance(value, str) and value.isdigit():
            value = int(value)
        echoed.append(((*where, parameter.name), value))
    expansions: list[tuple[tuple[str, ...], str]] = []
    for name in sent_query.get(EXPANSIONS_PARAMETER, "").split(","):
        where = find_property(schema, name, through_arrays=True) if name else None
        if where is not None:
            expansions.append((where, name))
    identity = None
    sets = []
    for v in variables:
        if v.producer == op.operation_id:
            sets.append((v.name, v.pointer))
        producer = spec.operation(v.producer)
        same_schema = answer.schema_ref == producer.responses[producer.success_status].schema_ref
        for op_id, param_name in v.consumers:
            if op_id == op.operation_id and param_name in path_values and same_schema:
                identity = (v.pointer, path_values[param_name])
    return Check(
        status=status,
        schema_name=answer.schema_ref,
        shape=response_shape(schema),
        echo_path=echo_path,
        echoed_params=tuple(echoed),
        expansions=tuple(expansions),
        identity=identity,
        sets=tuple(sets),
    )


def checks_script(check: Check) -> list[str]:
    """The lines of the request's test script (Postman's `exec`)."""
    lines = [
        GENERATED,
        f"const shape = {json.dumps(check.shape, ensure_ascii=False)};",
        "",
        *_test(f"status is {check.status}", f"expectStatus({check.status});"),
        *_test("answers JSON", "expectJson();"),
        *_test(f"body has the shape of {check.schema_name or 'the response schema'}",
               'checkShape(pm.response.json(), shape, "body");'),
    ]  # fmt: skip
    if check.echo_path is not None:
        lines += _test("answer holds the values sent", f"expectValuesSent({_js(check.echo_path)});")
    for path, value in check.echoed_params:
        lines += _test(f"{'.'.join(path)} is {value}", f"expectValue({_js(path)}, {_js(value)});")
    if check.expansions:
        pairs = [[list(path), name] for path, name in check.expansions]
        lines += _test("includes the expansion fields asked for", f"expectExpansions({_js(pairs)});")
    if check.identity is not None:
        pointer, expected = check.identity
        lines += _test("is the one asked for", f"expectId({_js(split_pointer(pointer))}, {expected});")
    for name, pointer in check.sets:
        lines.append(f"keepFromAnswer({_js(name)}, {_js(split_pointer(pointer))}, {check.status});")
    return [*lines, "", *read_js("helpers.js")]


def unique_values_script(fields: Sequence[str], variable: str) -> list[str]:
    """The pre-request script of a request whose body sends `fields`, values
    the API keeps unique, with `{{variable}}` appended: it sets the variable
    afresh for each send."""
    return [
        GENERATED,
        f"// The API keeps {', '.join(fields)} unique in an account: the body sends the example's value",
        f"// with {{{{{variable}}}}}, set here for each send, so the request runs again without a reset.",
        f"pm.variables.set({_js(variable)}, uniqueSuffix());",
        "",
        *read_js("unique.js"),
    ]


@cache
def read_js(name: str) -> tuple[str, ...]:
    """The lines of a `.js` file of this package."""
    return tuple(files(__package__ or __name__).joinpath(name).read_text(encoding="utf-8").splitlines())


def _test(name: str, call: str) -> list[str]:
    return [f"pm.test({_js(name)}, function () {{", f"    {call}", "});"]


def _js(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
