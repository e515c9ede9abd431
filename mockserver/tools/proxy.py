"""`dentare-mock proxy`: a validating reverse proxy in front of a live deployment.

    dentare-mock proxy --upstream https://dentare.io [--port 8001]

Point a client at http://127.0.0.1:8001/api/v1 instead of the deployment: every
request is forwarded as it is, and every request and response is checked
against spec/openapi.yaml with openapi-core (an implementation independent of
the mock's own validation). Each violation is printed as one line when it
happens; a summary is printed when the proxy stops (Ctrl-C or SIGTERM). The
exit status is 1 if anything broke the spec, else 0.

Edge answers (429, 431, 502, 503, 504 the spec does not document for the
operation) are counted, not checked; a 500 is a violation.

Decided: only the API is forwarded, i.e. paths under the spec's base path
(`/api/v1/...`) without `.` or `..` segments; anything else (`/__mock/...`,
`/docs`, `/openapi.json`) is the API's own `404 {"error": "Not Found"}`. Forwarding the
control API would let anyone who reaches the proxy act as a loopback client
of the upstream mock (and hand out its tokens).

A request the spec's validator cannot even read (not UTF-8, JSON nested too
deep, `Content-Type: ;;;`) is still forwarded; the violation says so and the
exchange is counted. Headers are forwarded as the bytes received; one with
whitespace around its value (which no HTTP/1.1 sender may send, nor httpx)
is answered 400 by the proxy, counted with a violation. The proxy itself never
answers 500 for what a client sent.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from dentare_spec import SpecError, default_spec_path, load_spec

from .._signals import sigterm_as_interrupt
from ..web.exchange_check import ExchangeChecker, Violation
from ..web.http_protocol import client_gone, http_protocol

__all__ = ["ProxyReport", "build_proxy_app", "main", "upstream_root"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
#: What splits a decoded path segment into steps for some front end: a slash, IIS's backslash, Tomcat's `;`.
_STEP_SEPARATORS = re.compile(r"[/\\;]")
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
MAX_HEAD_BYTES = 64 * 1024  # the request line and headers; larger ones get 431 before they are forwarded


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

    base_path = checker.base_path.rstrip("/")

    async def forward(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        if not _is_api_path(raw_path, base_path):
            return _proxy_error(404, "Not Found")  # the API's own 404 (only its paths are forwarded)
        body = await _limited_body(request, _MAX_BODY)
        if body is None:
            return _proxy_error(413, "Payload Too Large: the proxy forwards bodies up to 64 MiB")
        query = request.scope["query_string"].decode("latin-1")
        target = upstream + raw_path.decode("latin-1") + (f"?{query}" if query else "")
        # The bytes as received (a latin-1 or UTF-8 value must not become a 500 on the way out).
        headers = [(k, v) for k, v in request.scope["headers"] if k.decode("latin-1").lower() not in _REQUEST_SKIP]
        padded = next((k.decode("latin-1") for k, v in headers if v != v.strip(b" \t")), None)
        if padded is not None:
            # HTTP/1.1 senders may not put whitespace around a value, and httpx will not; passing
            # it on stripped could change the answer (the API refuses a token followed by a space).
            refused = Violation(
                "request",
                request.method,
                request.url.path,
                None,
                f"header {padded}: whitespace around the value; the proxy cannot forward it as sent",
            )
            tally.add([refused])
            emit(str(refused))
            return _proxy_error(
                400, f"Bad Request: the proxy cannot forward the {padded} header as sent (whitespace around its value)"
            )
        try:
            answer = await client.request(
                request.method,
                target,
                headers=[*headers, (b"accept-encoding", b"identity")],
                content=body,
            )
        except httpx.HTTPError as exc:
            tally.upstream_errors += 1
            emit(f"UPSTREAM ERROR {request.method} {request.url.path}: {type(exc).__name__}: {exc}")
            return _proxy_error(502, f"Bad Gateway: the upstream did not answer ({type(exc).__name__})")
        response_headers = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _RESPONSE_SKIP]
        violations, edge = checker.check(
            request.method,
            request.url.path,
            query,
            list(request.headers.items()),
            body,
            answer.status_code,
            answer.headers.multi_items(),
            answer.content,
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

    app = Starlette(
        routes=[Route("/{path:path}", forward, methods=_METHODS)],
        lifespan=lifespan,
        exception_handlers={ClientDisconnect: client_gone},
    )
    app.state.report = tally
    return app


def _is_api_path(raw_path: bytes, base_path: str) -> bool:
    """Under the base path, with no segment a URL normalizer would resolve (`..`, `%2e.`),
    nor one that decodes to such a segment beside another (`..%2f`, `..%5c`, `..;`: what
    a front end decoding slashes, IIS or Tomcat would read as a step up)."""
    path = raw_path.decode("latin-1")
    if base_path and path != base_path and not path.startswith(base_path + "/"):
        return False
    return all(
        part not in (".", "..") for segment in path.split("/") for part in _STEP_SEPARATORS.split(unquote(segment))
    )


async def _limited_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` (it is never held whole)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _proxy_error(status: int, message: str) -> Response:
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
    parser.add_argument(
        "--spec", type=Path, default=None, help="OpenAPI spec to check against (default: the packaged one)"
    )
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec_path = args.spec or default_spec_path()
    try:
        upstream_root(args.upstream, "")  # a bad URL fails before the spec is loaded
        checker = ExchangeChecker(load_spec(spec_path))
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
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            server_header=False,
            http=http_protocol(MAX_HEAD_BYTES),
            ws="none",  # as the mock (cli.py): an Upgrade is a plain request
            timeout_graceful_shutdown=5,
        )
    print(report.summary(), flush=True)
    return 0 if report.ok else 1
