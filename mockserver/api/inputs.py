"""Untrusted input made safe to validate: JSON bodies, numbers written as text,
dates, and values nested too deep for the validator.

Why each rule exists:

* orjson parses integers beyond 64 bits as floats (as the spec's own
  validator, jsonschema, then compares them) but refuses any number beyond
  the float range as "number is infinity". Such a body is valid JSON with a
  value out of range, so `loads` reads it again with the standard library and
  takes the largest float for it: the field is then refused as out of range
  (422), like any other too-large number.
* Python refuses `int()` of more than 4,300 digits (ValueError, a 500 where
  it escaped); `integer` reads any length.
* jsonschema-rs stops at about 255 levels of nesting with "Recursion limit
  reached" (a 500 where it escaped), while JSON up to 1024 levels is valid
  (the spec: deeper is malformed). `deep_fields` finds top-level values
  nested deeper than `MAX_DEPTH`; the validator checks a shallow stand-in
  and the field is `is invalid`.
* jsonschema-rs' `date` format takes year 0000 and negative years, which
  no date type of the clients (nor Python's) can hold; `is_date` does not.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "deep_fields", "integer", "is_date", "loads", "shallow"]

#: Levels a value may nest below a top-level field of a body (the spec's own
#: schemas need two: preferences is an object of strings).
MAX_DEPTH = 64
#: JSON deeper than this is malformed (the spec; orjson's own limit).
JSON_MAX_DEPTH = 1024
_SIGNIFICANT = 300  # digits kept exactly; far beyond any bound in the spec
_FLOAT_MAX = sys.float_info.max
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def integer(text: str) -> int | float:
    """`int(text)` for an optional sign and ASCII digits of any length; a number of
    more than 300 significant digits is the largest float of its sign."""
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) <= _SIGNIFICANT:
        number = int(digits or "0")  # without the leading zeros, which int() counts too
        return -number if negative else number
    return -_FLOAT_MAX if negative else _FLOAT_MAX


def is_date(text: str) -> bool:
    """A calendar date `YYYY-MM-DD` with a year from 0001 to 9999."""
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def loads(raw: bytes) -> Any:
    """orjson.loads, except that a number beyond the float range is read as the
    largest float of its sign; orjson.JSONDecodeError for anything malformed."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "number is infinity" not in str(exc):
            raise
    return _loads_out_of_range(raw)


def deep_fields(document: Mapping[str, Any], limit: int = MAX_DEPTH) -> list[str]:
    """The top-level keys of `document` whose values nest deeper than `limit`."""
    return [key for key, value in document.items() if isinstance(value, list | dict) and _deeper(value, limit)]


def shallow(document: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """`document` with the values of `keys` replaced by an empty value of the same
    JSON type, for a validator that cannot descend into them."""
    return {k: (type(v)() if k in keys else v) for k, v in document.items()}


def _deeper(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` containers (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, list | dict))
    return False


def _loads_out_of_range(raw: bytes) -> Any:
    def fail(message: str) -> orjson.JSONDecodeError:
        return orjson.JSONDecodeError(message, "", 0)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("str is not valid UTF-8") from None
    try:
        with _recursion_limit(JSON_MAX_DEPTH + 1000):
            value = json.loads(text, parse_int=integer, parse_float=_float, parse_constant=_no_constant)
    except RecursionError:
        raise fail("depth limit exceeded") from None
    except ValueError as exc:
        raise fail(str(exc).split(": line", 1)[0]) from None
    for message in _problems(value):
        raise fail(message)
    return value


def _problems(value: Any) -> Iterator[str]:
    """What orjson would have refused that the standard library takes: nesting
    beyond 1024 levels and lone surrogates (`"\\ud800"`)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                yield "str is not valid UTF-8: surrogates not allowed"
                return
        elif isinstance(item, list | dict):
            if depth >= JSON_MAX_DEPTH:
                yield "depth limit exceeded"
                return
            pairs = item.items() if isinstance(item, dict) else ((None, v) for v in item)
            for key, child in pairs:
                stack.append((child, depth + 1))
                if key is not None:
                    stack.append((key, depth + 1))


def _float(text: str) -> float:
    number = float(text)
    return max(-_FLOAT_MAX, min(_FLOAT_MAX, number))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@contextlib.contextmanager
def _recursion_limit(at_least: int) -> Iterator[None]:
    """The standard library's parser recurses once per level; orjson allows 1024."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, at_least))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
