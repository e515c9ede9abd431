"""`dentare-mock proxy`: a validating reverse proxy in front of a live deployment.

    dentare-mock proxy --upstream https://dentare.io [--port 8001]

Point a client at http://127.0.0.1:8001/api/v1 instead of the deployment: every
request is forwarded as it is, and every request and response is checked
against spec/openapi.yaml with openapi-core (an implementation independent of
the mock's own validation). Each violation is printed as one line when it
happens; a summary is printed when the proxy stops (Ctrl-C or SIGTERM). The
exit status is 1 if anything broke the spec, else 0.

429, 431, 502, 503 and 504 answers that the spec does not document for the
operation are counted as edge answers (the spec says a 429 may come from the
platform edge; a 431 is a server's header limit, answered before the API, as
the mock's own limits.py does), not as violations; a 500 is a violation.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._exceptions import SpecError
from ._resources import default_spec_path
from ._signals import sigterm_as_interrupt
from .spec import load_spec

__all__ = ["ExchangeChecker", "ProxyReport", "Violation", "build_proxy_app", "main"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_EDGE_STATUSES = frozenset({429, 431, 502, 503, 504})
# Hop-by-hop headers (RFC 9110, 7.6.1) and those httpx or Starlette set themselves.
_REQUEST_SKIP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding",
})  # fmt: skip
_RESPONSE_SKIP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "content-encoding",
})  # fmt: skip
_MAX_BODY = 64 * 1024 * 1024


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


@dataclass
class ProxyReport:
    """Running totals, printed as the summary."""

    exchanges: int = 0
    bad_requests: int = 0
    bad_responses: int = 0
    violations: list[Violation] = field(default_factory=list)
    edge_answers: int = 0
    upstream_errors: int = 0

    def add(self, violations: Sequence[Violation]) -> None:
        self.exchanges += 1
        self.violations.extend(violations)
        self.bad_requests += any(v.side == "request" for v in violations)
        self.bad_responses += any(v.side == "response" for v in violations)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        lines = [
            f"dentare-mock proxy: {self.exchanges} exchanges checked: "
            f"{self.bad_requests} requests and {self.bad_responses} responses broke the spec "
            f"({len(self.violations)} violations); {self.edge_answers} edge answers; "
            f"{self.upstream_errors} upstream errors",
        ]
        by_operation: dict[str, int] = {}
        for v in self.violations:
            key = f"{v.side} {v.method} {v.path}"
            by_operation[key] = by_operation.get(key, 0) + 1
        for key, count in sorted(by_operation.items(), key=lambda kv: -kv[1])[:20]:
            lines.append(f"  {count:5d}  {key}")
        return "\n".join(lines)


class ExchangeChecker:
    """Request and response validation with openapi-core against one spec."""

    def __init__(self, spec_path: Path):
        try:
            from openapi_core import OpenAPI
        except ImportError:  # pragma: no cover - depends on the install
            raise SpecError("dentare-mock proxy needs openapi-core: pip install 'openapi-core>=0.19'") from None
        spec = load_spec(spec_path)  # the mock's own checks, with its clearer messages, first
        self.base_path = spec.base_path
        self._openapi = OpenAPI.from_file_path(str(spec_path))
        # openapi-core finds operations by full URL against `servers`; requests
        # are presented as sent to the first server, whatever host they came to.
        first = urlsplit(spec.document["servers"][0]["url"])
        self._host_url = f"{first.scheme}://{first.netloc}"

    def check(
        self, method: str, path: str, query: str, headers: Sequence[tuple[str, str]], body: bytes,
        status: int, response_headers: Sequence[tuple[str, str]], response_body: bytes,
    ) -> tuple[list[Violation], bool]:
        """The violations of one exchange, and whether it was an edge answer."""
        from openapi_core.templating.paths.exceptions import PathError
        from openapi_core.templating.responses.exceptions import ResponseNotFound

        request = _OpenAPIRequest(self._host_url, method, path, query, headers, body)
        response = _OpenAPIResponse(status, response_headers, response_body)
        found: list[Violation] = []
        routed = True
        for error in self._openapi.iter_request_errors(request):
            routed = routed and not isinstance(error, PathError)
            found.extend(Violation("request", method, path, None, m) for m in _messages(error))
        if not routed:
            return found, False
        for error in self._openapi.iter_response_errors(request, response):
            if isinstance(error, ResponseNotFound) and status in _EDGE_STATUSES:
                return found, True
            found.extend(Violation("response", method, path, status, m) for m in _messages(error))
        return found, False


class _OpenAPIRequest:
    """openapi-core's Request protocol over plain values."""

    def __init__(self, host_url: str, method: str, path: str, query: str,
                 headers: Sequence[tuple[str, str]], body: bytes):
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


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 300 else line[:297] + "..."


def upstream_root(upstream: str, base_path: str) -> str:
    """The upstream's root URL: `https://dentare.io/api/v1` and `https://dentare.io`
    both mean requests to /api/v1/... go to https://dentare.io/api/v1/...."""
    url = upstream.rstrip("/")
    if base_path and url.endswith(base_path):
        url = url[: -len(base_path)]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--upstream must be an http(s) URL, not {upstream!r}")
    return url


def build_proxy_app(
    upstream: str,
    checker: ExchangeChecker,
    *,
    report: ProxyReport | None = None,
    emit: Callable[[str], None] = lambda line: print(line, flush=True),
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The proxy as an ASGI app; `emit` gets one line per violation."""
    tally = report if report is not None else ProxyReport()
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=False, transport=transport)

    async def forward(request: Request) -> Response:
        body = await request.body()
        if len(body) > _MAX_BODY:
            return _proxy_error(413, "Payload Too Large: the proxy forwards bodies up to 64 MiB")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope["query_string"].decode("latin-1")
        target = upstream + raw_path.decode("latin-1") + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_SKIP]
        try:
            answer = await client.request(
                request.method, target, headers=[*headers, ("accept-encoding", "identity")], content=body,
            )
        except httpx.HTTPError as exc:
            tally.upstream_errors += 1
            emit(f"UPSTREAM ERROR {request.method} {request.url.path}: {type(exc).__name__}: {exc}")
            return _proxy_error(502, f"Bad Gateway: the upstream did not answer ({type(exc).__name__})")
        response_headers = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _RESPONSE_SKIP]
        violations, edge = checker.check(
            request.method, request.url.path, query, request.headers.items(), body,
            answer.status_code, answer.headers.multi_items(), answer.content,
        )
        if edge:
            tally.edge_answers += 1
            emit(f"EDGE {answer.status_code} {request.method} {request.url.path} (not an API answer; not checked)")
        tally.add(violations)
        for violation in violations:
            emit(str(violation))
        reply = Response(answer.content, status_code=answer.status_code)
        reply.raw_headers = [
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers),
            (b"content-length", str(len(answer.content)).encode()),
        ]
        return reply

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    app = Starlette(routes=[Route("/{path:path}", forward, methods=_METHODS)], lifespan=lifespan)
    app.state.report = tally
    return app


def _proxy_error(status: int, message: str) -> Response:
    import orjson

    return Response(orjson.dumps({"error": message}), status_code=status, media_type="application/json")


# -- CLI -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock proxy",
        description="Forward every request to a live deployment and report what breaks the spec.",
    )
    parser.add_argument("--upstream", required=True, help="the deployment's URL, e.g. https://dentare.io")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8001, help="port (default: %(default)s)")
    parser.add_argument("--spec", type=Path, default=None,
                        help="OpenAPI spec to check against (default: the packaged one)")
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec_path = args.spec or default_spec_path()
    try:
        upstream_root(args.upstream, "")  # a bad URL fails before the spec is loaded
        checker = ExchangeChecker(spec_path)
        root = upstream_root(args.upstream, checker.base_path)
    except (SpecError, ValueError) as exc:
        print(f"dentare-mock proxy: error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    report = ProxyReport()
    app = build_proxy_app(root, checker, report=report)
    print(f"Dentare validating proxy on http://{args.host}:{args.port} -> {root}", flush=True)
    print(f"  Checking every request and response against {spec_path}; Ctrl-C for the summary.", flush=True)
    with sigterm_as_interrupt():
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, server_header=False)
    print(report.summary(), flush=True)
    return 0 if report.ok else 1
