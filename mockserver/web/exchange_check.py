"""Request and response validation with openapi-core against the spec: an
implementation independent of the mock's own (jsonschema-rs) hot path. Used
by `--check-responses` (selfcheck.py) and by the validating proxy.

429, 431, 502, 503 and 504 answers that the spec does not document for the
operation are edge answers (the spec says a 429 may come from the platform
edge; a 431 is a server's header limit, answered before the API, as
limits.py does), not violations; a 500 is a violation.

A request or response openapi-core cannot even read (a body that is not
UTF-8, JSON nested past Python's recursion limit, `Content-Type: ;;;`) is a
violation saying so, never an exception: the proxy forwards such a request
and counts the exchange like any other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dentare_spec import ApiSpec, SpecError

__all__ = ["EDGE_STATUSES", "ExchangeChecker", "Violation"]

EDGE_STATUSES = frozenset({429, 431, 502, 503, 504})


@dataclass(frozen=True)
class Violation:
    """One way a request or a response breaks the spec."""

    side: str  # "request" or "response"
    method: str
    path: str
    status: int | None
    message: str

    def __str__(self) -> str:
        answer = f" -> {self.status}" if self.status is not None else ""
        return f"VIOLATION {self.side} {self.method} {self.path}{answer}: {self.message}"


class ExchangeChecker:
    """Request and response validation with openapi-core against one spec."""

    def __init__(self, spec: ApiSpec):
        """Checks against `spec` as its profile decides it (the guide's contract
        with `spec.guide_contract()`)."""
        try:
            from openapi_core import OpenAPI
        except ImportError:  # pragma: no cover - depends on the install
            raise SpecError("dentare-mock proxy needs openapi-core: pip install 'openapi-core>=0.19'") from None
        self.base_path = spec.base_path
        self._openapi = OpenAPI.from_dict(dict(spec.document))
        # openapi-core finds operations by full URL against `servers`; requests
        # are presented as sent to the first server, whatever host they came to.
        first = urlsplit(spec.document["servers"][0]["url"])
        self._host_url = f"{first.scheme}://{first.netloc}"

    def check(
        self,
        method: str,
        path: str,
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        status: int,
        response_headers: Sequence[tuple[str, str]],
        response_body: bytes,
    ) -> tuple[list[Violation], bool]:
        """The violations of one exchange, and whether it was an edge answer."""
        from openapi_core.templating.paths.exceptions import PathError
        from openapi_core.templating.responses.exceptions import ResponseNotFound

        found: list[Violation] = []
        routed = True
        try:
            request = _OpenAPIRequest(self._host_url, method, path, query, headers, body)
            for error in self._openapi.iter_request_errors(request):
                routed = routed and not isinstance(error, PathError)
                found.extend(Violation("request", method, path, None, m) for m in _messages(error))
        except Exception as exc:  # whatever a client sends, the exchange is reported
            found.append(Violation("request", method, path, None, f"cannot be checked: {_unreadable(exc)}"))
            request = _OpenAPIRequest(self._host_url, method, path, query, [], b"")
        if not routed:
            return found, False
        try:
            response = _OpenAPIResponse(status, response_headers, response_body)
            for error in self._openapi.iter_response_errors(request, response):
                if isinstance(error, ResponseNotFound) and status in EDGE_STATUSES:
                    return found, True
                found.extend(Violation("response", method, path, status, m) for m in _messages(error))
        except Exception as exc:  # an unreadable answer is a violation, not a crash
            found.append(Violation("response", method, path, status, f"cannot be checked: {_unreadable(exc)}"))
        return found, False


class _OpenAPIRequest:
    """openapi-core's Request protocol over plain values."""

    def __init__(
        self, host_url: str, method: str, path: str, query: str, headers: Sequence[tuple[str, str]], body: bytes
    ):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = host_url
        self.path = path
        self.method = method.lower()
        self.body = body or None
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
            header=Headers(list(headers)),
        )
        self.content_type = Headers(list(headers)).get("content-type") or "application/octet-stream"


class _OpenAPIResponse:
    def __init__(self, status: int, headers: Sequence[tuple[str, str]], body: bytes):
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.headers = Headers(list(headers))
        self.content_type = self.headers.get("content-type") or ""
        self.data = body


def _messages(error: BaseException) -> Iterator[str]:
    """One line per problem: each schema error with where it is, else the error."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    prefix = _where(error)
    if not schema_errors:
        yield f"{prefix}{_first_line(_plain(error))}"
        return
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    for schema_error in schema_errors:
        # anyOf/oneOf: say why the closest branch failed, never "is not of type 'null'".
        branches = [e for e in schema_error.context or () if not _only_not_null(e)]
        if branches:
            schema_error = best_match(branches)
        location = ".".join(str(part) for part in schema_error.absolute_path)
        yield f"{prefix}{location + ': ' if location else ''}{_first_line(schema_error.message)}"


def _only_not_null(error: Any) -> bool:
    return bool(error.validator == "type" and error.validator_value == "null")


def _plain(error: BaseException) -> str:
    """openapi-core's routing and security errors in the words of the spec."""
    kind = type(error).__name__
    if kind == "SecurityValidationError" or kind == "InvalidSecurity":
        return "no valid `Authorization: Bearer <token>` header (bearerAuth)"
    if kind in ("PathNotFound", "PathsNotFound"):
        return "the spec defines no such path"
    if kind == "OperationNotFound":
        return "the spec defines no such operation (method) for this path"
    if kind == "ResponseNotFound":
        return f"a status the spec does not document for this operation ({error})"
    return str(error)


def _where(error: BaseException) -> str:
    name = getattr(error, "name", None)
    location = getattr(error, "location", None)
    if name and location:
        return f"{location} parameter {name}: "
    kind = type(error).__name__
    if "RequestBody" in kind:
        return "body: "
    if kind in ("InvalidData", "MissingData"):
        return "body: "
    return ""


def _unreadable(exc: BaseException) -> str:
    kind = "JSON nested too deep" if isinstance(exc, RecursionError) else type(exc).__name__
    return f"{kind}: {_first_line(str(exc))}" if str(exc) else kind


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 300 else line[:297] + "..."
