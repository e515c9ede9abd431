"""The one door every HTTP request of the suite goes through.

`Client` counts requests, enforces the rate and total bounds, applies
timeouts, remembers the last exchange (for the curl line of a failure) and
masks tokens wherever a request is shown. Schemathesis sends through the
same `BoundedSession`, so its requests (probes included) are bounded too.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from ._exceptions import BudgetExceeded, TargetUnreachable
from .types import Json, Params

__all__ = ["BoundedSession", "Client", "Exchange", "mask"]

_MASK = "***"


def mask(text: str, secrets: Mapping[str, str], *, shell: bool = False) -> str:
    """Hide every secret in `text`: as `$NAME` (its environment variable) when `shell`,
    else as its first 4 characters and `***`; near-copies (all but the last character) too."""
    for name, secret in sorted(((n, s) for n, s in secrets.items() if s), key=lambda i: -len(i[1])):
        text = text.replace(secret, f"${name}" if shell else (secret[:4] + _MASK if len(secret) > 8 else _MASK))
        if len(secret) > 8:
            text = text.replace(secret[:-1], secret[:4] + _MASK)
    return text


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
        if not any(secret in text for secret in self.secrets.values()):
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


class BoundedSession(requests.Session):
    """A `requests.Session` whose every request is admitted, timed and recorded by a `Client`."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self._client = client

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self._client._admit()
        timeout = self._client.timeout
        kwargs.setdefault("timeout", timeout)
        kwargs["stream"] = True
        started = time.monotonic()
        try:
            response = super().request(_text(method), _text(url), *args, **kwargs)
            _read_body(response, deadline=started + timeout)
        except requests.TooManyRedirects as exc:
            raise TargetUnreachable(f"{self._client.base_url} redirects in a loop ({exc})") from exc
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise TargetUnreachable(f"{self._client.base_url} did not answer: {_reason(exc)}") from exc
        except _TooSlow as exc:
            raise TargetUnreachable(
                f"{self._client.base_url} did not finish its answer within {timeout:g} s ({exc} bytes so far)"
            ) from None
        self._client._record(response, time.monotonic() - started)
        return response


class _TooSlow(Exception):
    pass


def _read_body(response: requests.Response, deadline: float) -> None:
    """Read the whole body by `deadline` (a trickling body defeats per-read timeouts)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            response.close()
            raise _TooSlow(size)
    response._content = b"".join(chunks)
    response._content_consumed = True


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = {name: value for name, value in secrets.items() if value}
        self.max_requests = max_requests
        self.rate = rate
        self.timeout = timeout
        self.count = 0
        self.last: Exchange | None = None
        self.session = BoundedSession(self)
        self._lock = threading.Lock()
        self._next_slot = 0.0

    # -- the bound --------------------------------------------------------

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

    # -- the API the rules use ---------------------------------------------

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
    ) -> Exchange:
        """Send one request; `authorization` (a raw header value) wins over `token`."""
        sent: dict[str, str] = {"Accept": "application/json"}
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
