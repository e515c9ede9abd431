"""Every response the kit's tests receive from the mock is checked against the
spec with openapi-core, independently of the mock's own (jsonschema-rs) code.

`SpecCheckedClient` is an httpx.Client whose response hook does the check; a
response the spec does not describe (405, unknown path) must still be the
documented `{"error": "..."}` shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from dentare_spec import load_spec

__all__ = ["SpecCheckedClient", "SpecViolation", "spec_errors"]

from .paths import SPEC_PATH

# The spec's local server; openapi-core matches requests against `servers`.
SPEC_HOST = "http://127.0.0.1:8000"


class SpecViolation(AssertionError):
    pass


@cache
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(dict(load_spec(SPEC_PATH).document))  # as the kit decides it


def spec_errors(response: httpx.Response) -> Iterator[str]:
    """Why `response` (to its request) breaks the spec; nothing if it conforms."""
    request = response.request
    url = urlsplit(str(request.url))
    body = response.read()
    documented = _documented(request.method, url.path, response.status_code)
    if not documented:
        # Undocumented statuses (405, unknown paths, 500) still use the error shape.
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            yield f"{response.status_code} body is not JSON: {body[:200]!r}"
            return
        if response.status_code >= 400 and not (isinstance(parsed, dict) and isinstance(parsed.get("error"), str)):
            yield f"{response.status_code} body is not {{'error': str}}: {parsed!r}"
        if response.status_code >= 500:
            yield f"server error {response.status_code}: {parsed!r}"
        return
    query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
    mock_request = MockRequest(
        SPEC_HOST,
        request.method.lower(),
        url.path,
        args=query,
        headers=dict(request.headers),
        data=request.content,
        content_type=request.headers.get("content-type", "application/json"),
    )
    mock_response = MockResponse(
        body,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    for error in _openapi().iter_response_errors(mock_request, mock_response):
        detail = "; ".join(str(e) for e in getattr(error, "schema_errors", ()) or ()) or str(error)
        yield f"{request.method} {url.path} -> {response.status_code}: {detail}"


def _documented(method: str, path: str, status: int) -> bool:
    operation = _operation(method, path)
    return operation is not None and str(status) in operation.get("responses", {})


@cache
def _paths() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["paths"]


def _operation(method: str, path: str) -> dict[str, Any] | None:
    relative = path.removeprefix("/api/v1")
    for template, item in _paths().items():
        if _matches(template, relative):
            return item.get(method.lower())
    return None


def _matches(template: str, path: str) -> bool:
    left, right = template.strip("/").split("/"), path.strip("/").split("/")
    return len(left) == len(right) and all(t.startswith("{") or t == p for t, p in zip(left, right, strict=True))


class SpecCheckedClient(httpx.Client):
    """httpx client that fails the test on any response breaking the spec."""

    def __init__(self, base_url: str, token: str | None = None, **kwargs: object):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        super().__init__(
            base_url=base_url,
            headers=headers,
            timeout=30.0,
            event_hooks={"response": [self._check]},
            **kwargs,  # type: ignore[arg-type]
        )
        self.checked = 0

    def _check(self, response: httpx.Response) -> None:
        problems = list(spec_errors(response))
        self.checked += 1
        if problems:
            raise SpecViolation("\n".join(problems))
