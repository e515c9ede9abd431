"""JSON answers as the whole mock sends them (API, control plane, docs, limits)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from .._exceptions import HTTPError

__all__ = ["dump_json", "error_response", "json_response"]


def dump_json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        # orjson stops at 64-bit integers; JSON does not (a `page` of 30 digits
        # is answered as sent where no maximum bounds it).
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump_json(body), status_code=status, headers=headers, media_type="application/json")


def error_response(error: HTTPError) -> Response:
    return json_response(error.status_code, error.body(), error.headers)
