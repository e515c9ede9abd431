"""The one door every HTTP request of the suite goes through, schemathesis's
included (it sends through the same `BoundedSession`).

`Client` bounds the run (request budget, rate), reads every answer whole
within `--request-timeout` and up to `--max-response-bytes`, retries edge
answers (429, 502, 503, 504: the platform edge, not the API) with a bounded
backoff, never sends a cookie back, remembers the last exchange (for the curl
line of a failure) and masks tokens wherever a request is shown.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.cookiejar
import json
import re
import shlex
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from ._exceptions import BudgetExceeded, EdgeUnavailable, TargetUnreachable
from ._types import Json, Params

__all__ = ["EDGE_STATUSES", "BoundedSession", "Client", "Exchange", "mask"]

#: Answers of the platform edge in front of the API: retried, never judged.
EDGE_STATUSES = frozenset({429, 502, 503, 504})
_MASK = "***"
_MAX_BACKOFF = 10.0


def mask(text: str, secrets: Mapping[str, str], *, shell: bool = False) -> str:
    """Hide every secret in `text`, in any letter case: as `$NAME` (its
    environment variable) when `shell`, else as its first 4 characters and
    `***`; near-copies (all but the last character) too."""
    for name, secret in sorted(((n, s) for n, s in secrets.items() if s), key=lambda i: -len(i[1])):
        shown = f"${name}" if shell else (secret[:4] + _MASK if len(secret) > 8 else _MASK)
        text = re.compile(re.escape(secret), re.IGNORECASE).sub(_literal(shown), text)
        if len(secret) > 8:
            text = re.compile(re.escape(secret[:-1]), re.IGNORECASE).sub(_literal(secret[:4] + _MASK), text)
    return text


def _literal(replacement: str) -> str:
    """`replacement` as re.sub's template, so a backslash in it stays a backslash."""
    return replacement.replace("\\", "\\\\")


@dataclass
class Exchange:
    """One request and its response, as the suite saw them."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    content: bytes
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    elapsed: float = 0.0

    def json(self) -> Json:
        try:
            return json.loads(self.content)
        except ValueError:
            return None

    def sent_json(self) -> Json:
        """The request's JSON body as sent (None without one)."""
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def as_curl(self) -> str:
        """A runnable curl line; tokens appear as `$DENTARE_TOKEN` & co, expanded by the shell."""
        parts = ["curl", "-X", self.method, self._quote(self.url)]
        for name, value in self.headers.items():
            if name.lower() in {"user-agent", "accept-encoding", "connection", "content-length"}:
                continue
            parts += ["-H", self._quote(f"{name}: {value}")]
        if self.body:
            parts += ["--data-raw", self._quote(self.body.decode("utf-8", "replace"))]
        return " ".join(parts)

    def _quote(self, text: str) -> str:
        if not any(secret.lower() in text.lower() for secret in self.secrets.values()):
            return mask(shlex.quote(text), self.secrets)
        # Double quotes, so the shell expands ${DENTARE_TOKEN}; everything else stays literal.
        escaped = _escape(text)
        for name, secret in self.secrets.items():
            escaped = escaped.replace(_escape(secret), f"${{{name}}}")
        return mask(f'"{escaped}"', self.secrets)

    def describe_response(self, limit: int = 300) -> str:
        text = self.content.decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit] + "…"
        return mask(f"{self.status} {text}", self.secrets)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The checks send exactly what they say: a cookie the target sets is never sent back."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class BoundedSession(requests.Session):
    """A `requests.Session` whose every request is admitted, retried past edge
    answers, read within the deadline and recorded by a `Client`."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self._client = client
        self.cookies.set_policy(_NoCookies())

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        client = self._client
        kwargs["timeout"] = kwargs.get("timeout") or client.timeout
        kwargs["stream"] = True
        attempt = 0
        while True:
            client._admit()
            started = time.monotonic()
            response = self._send(method, url, args, kwargs)
            client._record(response, time.monotonic() - started)
            if response.status_code not in EDGE_STATUSES:
                return response
            wait = client._retry_wait(attempt, response.headers.get("retry-after"))
            if wait is None:
                raise EdgeUnavailable(
                    f"{client.base_url} kept answering {response.status_code} (an edge answer, not the API's) "
                    f"after {attempt} retries; raise --max-retries or --retry-seconds, or try later"
                )
            attempt += 1
            time.sleep(wait)

    def _send(self, method: str | bytes, url: str | bytes, args: Any, kwargs: dict[str, Any]) -> requests.Response:
        client = self._client
        try:
            response = super().request(_text(method), _text(url), *args, **kwargs)
            client._read_whole(response)
        except requests.TooManyRedirects as exc:
            raise TargetUnreachable(f"{client.base_url} redirects in a loop ({exc})") from exc
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise TargetUnreachable(f"{client.base_url} did not answer: {_reason(exc)}") from exc
        return response


def _escape(text: str) -> str:
    return re.sub(r'([\\"`$])', r"\\\1", text)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


_REASONS = {
    "Connection refused": "connection refused",
    "Name or service not known": "unknown host",
    "Temporary failure in name resolution": "unknown host",
    "timed out": "timed out",
    "BadStatusLine": "it does not speak HTTP (bad status line)",
    "RemoteDisconnected": "the connection was closed without an answer",
    "Connection reset": "the connection was reset",
    "Connection aborted": "the connection was closed without an answer",
    "InvalidChunkLength": "the answer was cut off",
    "certificate verify failed": "TLS certificate verification failed",
}


def _reason(exc: Exception) -> str:
    text = repr(exc)
    for marker, reason in _REASONS.items():
        if marker in text:
            return reason
    return type(exc).__name__


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class Client:
    """Requests to one deployment: `client.get("/patients", token=t, params={...})`."""

    def __init__(
        self,
        base_url: str,
        *,
        secrets: Mapping[str, str],
        max_requests: int = 20_000,
        rate: float = 0.0,
        timeout: float = 10.0,
        max_retries: int = 3,
        retry_seconds: float = 60.0,
        max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = {name: value for name, value in secrets.items() if value}
        self.max_requests = max_requests
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_seconds = retry_seconds
        self.max_response_bytes = max_response_bytes
        self.count = 0
        self.retries = 0
        self.retry_waited = 0.0
        self.last: Exchange | None = None
        self.session = BoundedSession(self)
        self._lock = threading.Lock()
        self._next_slot = 0.0

    # -- the bounds -------------------------------------------------------

    def _admit(self) -> None:
        with self._lock:
            if self.count >= self.max_requests:
                raise BudgetExceeded(f"the request budget of {self.max_requests} is spent (raise --max-requests)")
            self.count += 1
            if self.rate > 0:
                now = time.monotonic()
                wait = self._next_slot - now
                self._next_slot = max(now, self._next_slot) + 1.0 / self.rate
            else:
                wait = 0.0
        if wait > 0:
            time.sleep(wait)

    def _retry_wait(self, attempt: int, retry_after: str | None) -> float | None:
        """How long to wait before retry `attempt + 1`, or None: give up."""
        if attempt >= self.max_retries:
            return None
        asked = _retry_after(retry_after)
        wait = min(_MAX_BACKOFF, asked if asked is not None else 0.5 * 2**attempt)
        with self._lock:
            if self.retry_waited + wait > self.retry_seconds:
                return None
            self.retries += 1
            self.retry_waited += wait
        return wait

    def _read_whole(self, response: requests.Response) -> None:
        """The body, whole, by the deadline and within the size cap. A watchdog
        shuts the socket at the deadline: a trickling body cannot hold a read."""
        expired = threading.Event()

        def cut_off() -> None:
            expired.set()
            _shutdown(response)

        watchdog = threading.Timer(self.timeout, cut_off)
        watchdog.daemon = True
        watchdog.start()
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > self.max_response_bytes:
                    response.close()
                    raise TargetUnreachable(
                        f"{self.base_url} answered more than {self.max_response_bytes} bytes "
                        "(raise --max-response-bytes if that is expected)"
                    )
                chunks.append(chunk)
        except (requests.RequestException, OSError, ValueError) as exc:
            if expired.is_set():
                raise TargetUnreachable(
                    f"{self.base_url} did not finish its answer within {self.timeout:g} s ({size} bytes so far)"
                ) from None
            raise TargetUnreachable(f"{self.base_url} did not answer: {_reason(exc)}") from exc
        finally:
            watchdog.cancel()
        if expired.is_set():
            raise TargetUnreachable(
                f"{self.base_url} did not finish its answer within {self.timeout:g} s ({size} bytes so far)"
            )
        # What requests' own `.content` would have left: the body read, the stream spent.
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]

    def _record(self, response: requests.Response, elapsed: float) -> None:
        request = response.request
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.last = Exchange(
            method=str(request.method),
            url=str(request.url),
            headers={k: _text(v) for k, v in request.headers.items()},
            body=body if isinstance(body, bytes) else None,
            status=response.status_code,
            response_headers=response.headers,
            content=response.content,
            secrets=self.secrets,
            elapsed=elapsed,
        )

    # -- the API the checks use --------------------------------------------

    def url(self, path: str, params: Params | None = None) -> str:
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        authorization: str | None = None,
        params: Params | None = None,
        json_body: Json = None,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        accept: bool = True,
    ) -> Exchange:
        """Send one request; `authorization` (a raw header value) wins over `token`;
        `accept` sends the `Accept: application/json` the guide recommends."""
        sent: dict[str, str] = {"Accept": "application/json"} if accept else {}
        if authorization is not None:
            sent["Authorization"] = authorization
        elif token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data: bytes | None = raw_body
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        self.session.request(method, self.url(path, params), data=data, headers=sent, allow_redirects=False)
        assert self.last is not None
        return self.last

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("PATCH", path, **kwargs)

    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def close(self) -> None:
        self.session.close()


def _shutdown(response: requests.Response) -> None:
    """Shut the response's socket from another thread (close alone does not wake a blocked read)."""
    raw = response.raw
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
