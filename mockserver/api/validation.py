"""Request validation compiled once from the spec's parameter and body schemas.

Query strings are coerced to the types their schemas declare, then the query
and the body are checked by validators compiled with jsonschema-rs at start-up.
Each schema violation becomes a Rails-style message under the field it
concerns, which is what the API's 422 body carries.

Where the guide leaves the reading of a request open, the validator follows
`ApiRules` (mockserver/decisions.py) and the guide's contract (the operation
as written, before any decision): which parameters exist, which values a
lenient parameter drops, what a repeated one means, and what an id that
cannot name a patient gets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs

from dentare_spec import Operation, Parameter, json_types, object_shape, value_type

from .._exceptions import NotFound, ValidationFailed
from ..decisions import ApiRules
from ..domain.text import trim
from . import messages
from .inputs import deep_fields, integer, is_date, shallow

__all__ = ["RequestValidator", "ValidatedQuery", "compile_schema", "schema_errors"]

# ASCII digits only: `\d` would take "١" or "１" and int() would read them as 1.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BLANK = " \t\r\n\u00a0\u3000"  # what a person calls blank; other control characters are "is invalid"


ValidatedQuery = dict[str, Any]


@dataclass(frozen=True)
class _PathParam:
    parameter: Parameter
    minimum: int
    maximum: int


class RequestValidator:
    """Validates one operation's path, query and body as its spec says, and
    as `rules` read what the guide leaves open; `contract` is the operation as
    the guide writes it (default: `operation` itself)."""

    def __init__(self, operation: Operation, rules: ApiRules | None = None, contract: Operation | None = None):
        self.operation = operation
        rules = rules or ApiRules()
        contract = contract or operation
        self._query_params = {p.name: p for p in operation.parameters_in("query")}
        self._defaults = {n: p.default for n, p in self._query_params.items() if p.default is not None}
        self._query_validator = _compile(
            {"type": "object", "properties": {n: p.schema for n, p in self._query_params.items()}}
        )
        self._path_params = [
            _PathParam(p, p.schema.get("minimum", 1), p.schema.get("maximum", 2**63 - 1))
            for p in operation.parameters_in("path")
        ]
        self._body_validator = _compile(operation.body_schema) if operation.body_schema else None
        self._integer_fields = _integer_properties(operation.body_schema or {})
        self._body_fields = frozenset(object_shape(operation.body_schema or {}).properties)
        # The open points (ApiRules); each is off in the kit's defaults.
        written = {p.name: p for p in contract.parameters_in("query")}
        self._permitted = frozenset(written) if rules.reject_unknown_parameters else None
        self._last_wins = rules.last_value_wins
        self._lenient = {
            name: _Lenient(written[name])
            for name in rules.lenient_parameters
            if name in self._query_params and name in written
        }
        self._path_validator = (
            _compile(
                {"type": "object", "properties": {p.parameter.name: p.parameter.schema for p in self._path_params}}
            )
            if rules.malformed_id_unprocessable
            else None
        )
        self._trim = rules.trim_whitespace
        # The guide's types: the decided document widens a text field's to the values cast to it.
        self._casts = (
            {name: value_type(sub) for name, sub in object_shape(contract.body_schema or {}).properties.items()}
            if rules.coerce_types
            else None
        )

    # -- path -------------------------------------------------------------------------------

    def path_params(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Integer path ids that cannot name anything are a 404 (see the spec's
        `id`), or a 422 when the document refuses them under malformed_id=invalid."""
        values: dict[str, Any] = {}
        for entry in self._path_params:
            text = raw.get(entry.parameter.name, "")
            if entry.parameter.type == "integer":
                if not text.isascii() or not text.isdigit() or len(text) > 19:
                    values[entry.parameter.name] = self._unnamable(entry.parameter, text)
                    continue
                number = int(text)
                if not entry.minimum <= number <= entry.maximum:
                    values[entry.parameter.name] = self._unnamable(entry.parameter, text)
                    continue
                values[entry.parameter.name] = number
            else:
                values[entry.parameter.name] = text
        return values

    def _unnamable(self, param: Parameter, text: str) -> int:
        """An id that names no patient: 404; under malformed_id=invalid a 422
        with the document's reason, or (an integer it allows) one to look up."""
        if self._path_validator is None:
            raise NotFound()
        value = _coerce(param, text)
        errors: dict[str, list[str]] = {}
        if isinstance(value, float):  # JSON Schema counts 1.0 as an integer; a path id is not one
            _add(errors, param.name, messages.NOT_AN_INTEGER)
        for error in self._path_validator.iter_errors({param.name: value}):
            for field, message in _messages(error):
                _add(errors, field, message)
        if errors or not isinstance(value, int):
            raise ValidationFailed(errors or {param.name: [messages.NOT_A_NUMBER]})
        return value

    # -- query ------------------------------------------------------------------------------

    def query(self, query_string: str) -> ValidatedQuery:
        """Coerce, validate and apply defaults; unknown parameters are ignored
        (or refused, under unknown_query_params=reject)."""
        seen: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            if name in self._query_params:
                seen.setdefault(name, []).append(value)
            elif self._permitted is not None and name not in self._permitted:
                _add(errors, name, messages.NOT_A_PERMITTED_PARAMETER)
        values: dict[str, Any] = {}
        for name, raw_values in seen.items():
            param = self._query_params[name]
            raw = raw_values[0] if len(raw_values) == 1 else _repeated(param, raw_values, self._last_wins)
            if raw is None:
                _add(errors, name, messages.GIVEN_TWICE)
                continue
            lenient = self._lenient.get(name)
            coerced = _coerce(param, raw) if lenient is None else lenient.read(raw)
            if coerced is not _ABSENT:
                values[name] = coerced
        for error in self._query_validator.iter_errors(values):
            for field, message in _messages(error):
                _add(errors, field, message)
        for name, value in values.items():
            # JSON Schema counts 1.0 as an integer, but `page=1.0` is not one
            # (openapi-core refuses it too); passed on, it crashed the slice (500).
            if isinstance(value, float) and name not in errors and self._query_params[name].type == "integer":
                _add(errors, name, messages.NOT_AN_INTEGER)
        if errors:
            raise ValidationFailed(errors)
        return {**self._defaults, **values}

    # -- body -------------------------------------------------------------------------------

    def body(self, document: Any) -> dict[str, Any]:
        """The body's fields, validated; those the schema does not list are
        dropped (unknown_body_fields=ignore: the decided schema lets them through)."""
        if self._body_validator is None:
            return {}
        if not isinstance(document, dict):
            raise ValidationFailed({messages.BASE: [messages.NOT_AN_OBJECT]})
        fields: dict[str, Any] = document
        if self._trim:
            fields = {name: trim(value) if isinstance(value, str) else value for name, value in fields.items()}
        if self._casts is not None:
            fields = {name: _cast(value, self._casts.get(name)) for name, value in fields.items()}
        # Values nested too deep for the validator: it checks an empty stand-in, and they are invalid.
        deep = deep_fields(fields)
        errors = schema_errors(self._body_validator, shallow(fields, deep) if deep else fields)
        for name in deep:
            errors.setdefault(name, [messages.INVALID])
        if errors:
            raise ValidationFailed(errors)
        # JSON Schema counts 7.0 as an integer; store 7, so it is answered as 7.
        for name in self._integer_fields & fields.keys():
            if isinstance(fields[name], float):
                fields[name] = int(fields[name])
        if self._body_fields and not fields.keys() <= self._body_fields:
            fields = {name: value for name, value in fields.items() if name in self._body_fields}
        return fields


_ABSENT = object()


def _repeated(param: Parameter, raw_values: list[str], last_wins: bool) -> str | None:
    """The value of a parameter given more than once: a comma-separated list
    (`explode: false`, `fields`) joins them, as the spec says; otherwise the
    last under repeated_params=last_wins, else None (422)."""
    if param.type == "array" and not param.explode:
        return ",".join(value for value in raw_values if value)
    return raw_values[-1] if last_wins else None


class _Lenient:
    """A parameter whose invalid values are dropped so that its default
    applies (invalid_paging=fallback, boolean_values=lenient, ...): a value is
    read as the guide's contract types it and dropped unless the contract
    allows it; an entry of a list, entry by entry. Upper bounds are left to
    the decided document (above the maximum is per_page_over_max's point)."""

    def __init__(self, written: Parameter):
        self.written = written
        bounds = ("maximum", "exclusiveMaximum")
        if written.type == "array":
            items = written.schema.get("items") or {}
            self._allows = _compile({k: v for k, v in items.items() if k not in bounds}).is_valid
        else:
            self._allows = _compile({k: v for k, v in written.schema.items() if k not in bounds}).is_valid

    def read(self, raw: str) -> Any:
        if self.written.type == "array":
            return [item for item in (raw.split(",") if raw != "" else []) if self._allows(item)]
        value = _coerce(self.written, raw)
        if value is _ABSENT or (isinstance(value, float) and self.written.type == "integer"):
            return _ABSENT
        return value if self._allows(value) else _ABSENT


def _integer_properties(schema: Mapping[str, Any]) -> set[str]:
    """Top-level properties whose schema allows integers."""
    return {name for name, sub in object_shape(schema).properties.items() if "integer" in (json_types(sub) or ())}


def _coerce(param: Parameter, raw: str) -> Any:
    """A query string value as its schema's type; what does not convert stays a
    string so the validator reports it under the parameter's name."""
    kind = param.type
    if kind == "string":
        # An empty string filter is absent (spec); an empty enumerated value
        # (`lang=`) is not one of the values and is reported as such.
        return raw if raw != "" or "enum" in param.schema else _ABSENT
    if kind == "integer":
        if _INTEGER.fullmatch(raw):
            return integer(raw)  # any number of digits (int() refuses more than 4300)
        if _DECIMAL.fullmatch(raw):
            value = float(raw)
            return value if math.isfinite(value) else raw  # 1.0e400: not a number the API reads, not blank
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return [item for item in raw.split(",")] if raw != "" else []
    return raw


def _compile(schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    # `date`: jsonschema-rs takes year 0000 and negative years; no client date type holds them.
    return jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True, formats={"date": is_date})


def compile_schema(schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    """A validator for any schema of the spec, with the formats the API checks."""
    return _compile(schema)


def schema_errors(validator: jsonschema_rs.Validator, document: Any) -> dict[str, list[str]]:
    """Rails-style messages by field for every violation of `document`."""
    errors: dict[str, list[str]] = {}
    if validator.is_valid(document):  # the common case, without building an error iterator
        return errors
    for error in validator.iter_errors(document):
        for field, message in _messages(error):
            _add(errors, field, message)
    return errors


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    messages = errors.setdefault(field, [])
    if message not in messages:
        messages.append(message)


def _messages(error: jsonschema_rs.ValidationError) -> Iterator[tuple[str, str]]:
    """Rails-style (field, message) pairs for one schema violation."""
    kind: Any = error.kind  # the stubs type it as a union of the kinds; each branch reads its own
    name = kind.name
    path = list(error.instance_path)
    field = str(path[0]) if path else messages.BASE
    instance = error.instance
    if name == "required":
        yield str(kind.property), messages.BLANK
    elif name in ("additionalProperties", "unevaluatedProperties"):
        for unexpected in kind.unexpected:
            yield str(unexpected), messages.NOT_PERMITTED
    elif name in ("anyOf", "oneOf"):
        yield from _from_branches(kind.context, field)
    elif instance is None or (
        isinstance(instance, str) and not instance.strip(_BLANK) and name in ("minLength", "pattern", "type")
    ):
        yield field, messages.BLANK if path else messages.NOT_AN_OBJECT
    elif not path and name == "type":
        yield messages.BASE, messages.NOT_AN_OBJECT
    else:
        yield field, _message(name, kind, instance, error)


def _from_branches(context: Iterable[list[jsonschema_rs.ValidationError]], field: str) -> Iterator[tuple[str, str]]:
    """`anyOf: [X, null]` failed: report why X failed, not that the value is not null."""
    branches = [b for b in context if not all(_only_not_null(e) for e in b)]
    chosen = branches[0] if branches else []
    if not chosen:
        yield field, messages.INVALID
    for error in chosen:
        yield from _messages(error)


def _only_not_null(error: jsonschema_rs.ValidationError) -> bool:
    kind: Any = error.kind
    return bool(kind.name == "type" and list(kind.types) == ["null"])


def _message(name: str, kind: Any, instance: Any, error: jsonschema_rs.ValidationError) -> str:
    if name in ("enum", "const"):
        return messages.NOT_IN_LIST
    if name == "type":
        # The schema's expected types, never the message text (which quotes the value).
        expected = set(kind.types)
        if expected & {"integer", "number"}:
            if isinstance(instance, float) and not isinstance(instance, bool):
                return messages.NOT_AN_INTEGER
            return messages.NOT_A_NUMBER
        if "boolean" in expected:
            return messages.NOT_IN_LIST
        return messages.INVALID
    bounds = {
        "minimum": messages.at_least, "maximum": messages.at_most, "exclusiveMinimum": messages.greater_than,
        "exclusiveMaximum": messages.less_than, "maxLength": messages.too_long, "minLength": messages.too_short,
    }  # fmt: skip
    if name in bounds:
        return bounds[name](kind.limit)
    return messages.INVALID


def _cast(value: Any, kind: str | None) -> Any:
    """`value` as Rails casts it to a text field (type_coercion=coerce: a number or
    boolean is its text); anything else stays as it is, for validation to judge."""
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, (int, float)):
        return str(value)
    return value
