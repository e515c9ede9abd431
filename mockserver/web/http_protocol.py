"""The HTTP/1.1 connection: uvicorn's httptools protocol with five changes.

uvicorn answers a request it cannot parse with a text/plain "Invalid HTTP
request received.", refuses raw UTF-8 in the request line (what
`curl "http://127.0.0.1:8000/api/v1/patients?q=хоџа"` sends), and lets
httptools buffer a header of any size before the app can say 431. Here:

* **Errors in the API's shape.** A request the parser refuses (NUL bytes, a
  bad chunk size, a broken header line, an unknown HTTP version, a second
  `Host` header) gets
  `400 {"error": "Bad Request: malformed HTTP request (...)"}`, and a head
  over the limit `431 {"error": ...}`, both with `Connection: close`. The
  connection is then half-closed and what the client still sends is read
  and dropped for a moment (a lingering close), so the client reads the
  answer instead of a reset.
* **Raw UTF-8 in the request target** is percent-encoded before parsing,
  byte for byte, so the app sees `q=%D1%85...` and the query means what the
  client typed (`q=хоџа` finds Hoxha). Only the request line is rewritten
  (header values may carry UTF-8 as obs-text and are left alone).
* **The head limit while reading**: the request line and headers are counted
  as they arrive and refused as soon as they pass `max_head_bytes`, so a 20 MB
  header is never held whole (the bound is the limit plus one read). A head
  that begins inside a read, after a pipelined request, is counted by its
  parts in that read (its target and headers): the read also holds the
  requests before it.
* **One write per answer**: uvicorn writes an answer's head and its body
  apart, two `send()` calls; here the head waits for the body's first bytes
  and both go in one (bench/README.md).
* **Kept answers at the connection** (api/answers.py): a GET whose head (target
  and every header, byte for byte) the app answered before, while the data it
  showed has not changed, is answered here, in one write, with the bytes the
  app would send, without an ASGI task. Only a plain keep-alive HTTP/1.1 GET
  with no body, on a connection with nothing else in flight, is answered so;
  everything else goes to the app as before, which is told the head
  (`ANSWER_HEAD`) so it can remember where its answer is kept.

Passed to uvicorn as `http=` (cli.py, tools/proxy.py); bench/http_protocol.py
measures it against the stock class.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any

import httptools
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..api.answers import ANSWER_HEAD

__all__ = ["LINGER_SECONDS", "JsonErrorsProtocol", "RecallAnswer", "client_gone", "http_protocol"]

#: (status, body) the app would answer to a request with this head, if it keeps one.
RecallAnswer = Callable[[Hashable], "tuple[int, bytes] | None"]

#: How long a refused connection still reads (and drops) what the client sends.
LINGER_SECONDS = 2.0
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
#: A request with one of these is not answered from a kept answer: it has a body, or asks for more than an answer.
_NOT_PLAIN = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
#: Heads up to this size are remembered (a client's is a few hundred bytes): with
#: `DEFAULT_MAX_HEADS` of them, what the remembered heads take stays bounded.
_MAX_KEPT_HEAD = 4096


class JsonErrorsProtocol(HttpToolsProtocol):
    """See the module docstring. `max_head_bytes` is set by `http_protocol()`."""

    max_head_bytes = 32_768
    #: The app's kept answers by request head (web/app.py); None: every request goes to the app.
    recall_answer: RecallAnswer | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered_kept = False  # this request was answered from a kept answer; the app never sees it
        self._head_bytes = 0
        self._head_open = False  # between the first byte of a request and the end of its headers
        self._body_open = False  # between the end of the headers and the end of the body
        self._line_open = True  # the next bytes fed continue a request line
        self._completed_in_feed = False
        self._count_parts = False  # the open head began inside the bytes being fed: count its parts
        self._hosts = 0  # Host headers of the open head
        self._refused = False

    # -- reading ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: read and drop
        self._unset_keepalive_if_required()
        while data:
            if self._body_open:
                self._feed(data)
                return
            room = self.max_head_bytes + 1 - self._head_bytes
            piece, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
            size = len(piece)
            if self._line_open:
                piece = self._request_line(piece)
            if not self._feed(piece):
                return
            if self._head_open:
                if self._count_parts:
                    self._count_parts = False  # what it has in this piece is counted; the next pieces, whole
                else:
                    self._head_bytes += size
                if self._head_bytes > self.max_head_bytes:
                    self._refuse(
                        431,
                        (
                            "Request Header Fields Too Large: "
                            f"the request line and headers are limited to {self.max_head_bytes} bytes"
                        ),
                    )
                    return

    def _request_line(self, piece: bytes) -> bytes:
        """`piece` with the bytes of a request line that are not ASCII percent-encoded."""
        start = len(piece) - len(piece.lstrip(b"\r\n"))  # blank lines before a request are allowed
        end = piece.find(b"\n", start)
        line = piece if end < 0 else piece[:end]
        self._line_open = end < 0
        if line.isascii():
            return piece
        encoded = _HIGH_BYTE.sub(lambda m: b"%%%02X" % m[0][0], line)
        return encoded if end < 0 else encoded + piece[end:]

    def _feed(self, data: bytes) -> bool:
        """Feed the parser; False when the connection was answered and is closing."""
        self._completed_in_feed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        except httptools.HttpParserError as exc:
            self._refuse(400, f"Bad Request: malformed HTTP request ({_reason(exc)})")
            return False
        return True

    # -- parser callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        # A kept answer arms the keep-alive timeout; a request already in the same read disarms it.
        self._unset_keepalive_if_required()
        super().on_message_begin()
        self._head_bytes = 0
        self._head_open = True
        self._hosts = 0
        if self._completed_in_feed:
            # A pipelined request that began inside bytes already fed: its line went as it came,
            # and the bytes fed hold the requests before it, so its own size is its parts'.
            self._line_open = False
            self._count_parts = True

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if self._count_parts:
            self._head_bytes += len(url) + len(b"OPTIONS  HTTP/1.1\r\n")  # and about the line around it

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        if self.headers[-1][0] == b"host":
            self._hosts += 1
        if self._count_parts:
            self._head_bytes += len(name) + len(value) + len(b": \r\n")
        if value[-1:] in (b" ", b"\t"):
            # uvicorn (0.55 on) drops whitespace after a value; the mock keeps the value as sent,
            # so a token followed by a space is refused (the guide: a token is copied without
            # trailing whitespace) and the proxy sees what it cannot forward as sent.
            self.headers[-1] = (self.headers[-1][0], value)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._body_open = True
        if self._hosts > 1:
            # RFC 9112 3.2: a server MUST answer 400; which one would name the server is anyone's guess.
            self._refuse(400, "Bad Request: malformed HTTP request (more than one Host header)")
            raise _StopParsing  # out of the parser (feed_data raises it, refused already); nothing more is read
        recall = self.recall_answer
        if recall is not None and self._plain_get():
            head = (self.url, tuple(self.headers))
            kept = recall(head)
            if kept is not None:
                self._answer_kept(*kept)
                return
            self.scope["extensions"] = {ANSWER_HEAD: {"head": head}}
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and self.scope["method"] != "HEAD":  # an answer to HEAD has no body to wait for
            cycle.transport = _OneWrite(self.transport)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._body_open = False
        self._line_open = True
        self._completed_in_feed = True
        if self._answered_kept:
            self._answered_kept = False
            self.on_response_complete()  # as an app's answer ends: counted, reading resumed, keep-alive armed
            return
        super().on_message_complete()

    # -- answering from kept answers ----------------------------------------------------------

    def _plain_get(self) -> bool:
        """A keep-alive HTTP/1.1 GET without a body and with a head of a usual size,
        nothing else in flight on the connection."""
        parser = self.parser
        if parser.get_method() != b"GET" or parser.get_http_version() != "1.1" or not parser.should_keep_alive():
            return False
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.pipeline or self.flow.write_paused:
            return False
        size = len(self.url)
        for name, value in self.headers:
            if name in _NOT_PLAIN:
                return False
            size += len(name) + len(value)
        return size <= _MAX_KEPT_HEAD

    def _answer_kept(self, status: int, body: bytes) -> None:
        """The bytes uvicorn writes for the app's answer (api/routing.py `_raw_headers`), in one write."""
        self._answered_kept = True
        head = self._status_and_default_headers(status)
        head += [b"content-length: ", str(len(body)).encode("ascii"), b"\r\ncontent-type: application/json\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        if self.access_log:
            client = _peer(self.client) if self.client else "-"
            # uvicorn's access line, with its arguments (its formatter reads them by position).
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', client, "GET", self.url.decode("latin-1"), "1.1", status)

    def _status_and_default_headers(self, status: int) -> list[bytes]:
        """An answer's first lines as uvicorn writes them: the status line, then its default headers."""
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        return head

    # -- answering what cannot be parsed ------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, f"Bad Request: {msg}")

    def _refuse(self, status: int, message: str) -> None:
        if self._refused:
            return
        self._refused = True
        self.logger.warning("refused a request from %s: %s", _peer(self.client), message)
        transport = self.transport
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The app has this request (its body broke off): it now reads a disconnect and
            # sends nothing, so our answer is the only one.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:  # an answer is half sent: nothing can follow it but the end
                transport.close()
                return
        body = orjson.dumps({"error": message})
        head = self._status_and_default_headers(status)
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        transport.write(b"".join(head) + body)
        if transport.can_write_eof():
            transport.write_eof()  # the answer, then our side closed; theirs is read and dropped
        self.loop.call_later(LINGER_SECONDS, transport.close)


class _StopParsing(Exception):
    """Raised in a parser callback once the request is refused."""


class _OneWrite:
    """The transport as one answer's cycle sees it: the answer's head is held and
    written with the first bytes after it (the body, or the end of the
    connection), in one write. A 1xx (`100 Continue`) goes at once."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 1"):
            self._held = data  # the head: the body follows
        else:
            self._transport.write(data)

    def close(self) -> None:
        if self._held is not None:
            self.write(b"")
        self._transport.close()

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def abort(self) -> None:
        """Closed at once, nothing held written (`X-Mock-Fault: drop`: web/faults.py)."""
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)  # the rest of the transport, as it is


class _NoAnswer(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def client_gone(request: Request, exc: Exception) -> Response:
    """Starlette's handler for ClientDisconnect: the client went away, or this protocol
    refused the rest of its request, while its body was read; nobody is left to answer."""
    return _NoAnswer()


def http_protocol(max_head_bytes: int, recall_answer: RecallAnswer | None = None) -> type[JsonErrorsProtocol]:
    """The protocol class for uvicorn's `http=`, with this head limit, answering
    from `recall_answer` (the app's `state.recall_answer`) where it can."""
    recall = staticmethod(recall_answer) if recall_answer is not None else None  # a function, not a method
    attributes = {"max_head_bytes": max_head_bytes, "recall_answer": recall}
    return type("JsonErrorsProtocol", (JsonErrorsProtocol,), attributes)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text[:120]


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "an unknown client"
