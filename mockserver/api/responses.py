"""JSON answers as the whole mock sends them (API, control plane, docs, limits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from .._exceptions import HTTPError

__all__ = ["dump_json", "error_response", "json_response"]


def dump_json(value: Any) -> bytes:
    return orjson.dumps(value)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump_json(body), status_code=status, headers=headers, media_type="application/json")


def error_response(error: HTTPError) -> Response:
    return json_response(error.status_code, error.body(), error.headers)
