"""The HTTP/1.1 connection: uvicorn's httptools protocol with three changes.

uvicorn answers a request it cannot parse with a text/plain "Invalid HTTP
request received.", refuses raw UTF-8 in the request line (what
`curl "http://127.0.0.1:8000/api/v1/patients?q=хоџа"` sends), and lets
httptools buffer a header of any size before the app can say 431. Here:

* **Errors in the API's shape.** A request the parser refuses (NUL bytes, a
  bad chunk size, a broken header line, an unknown HTTP version) gets
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
  header is never held whole (the bound is the limit plus one read).

Passed to uvicorn as `http=` (cli.py, tools/proxy.py); bench/http_protocol.py
measures it against the stock class.
"""

from __future__ import annotations

import re
from typing import Any

import httptools
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["LINGER_SECONDS", "JsonErrorsProtocol", "client_gone", "http_protocol"]

#: How long a refused connection still reads (and drops) what the client sends.
LINGER_SECONDS = 2.0
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


class JsonErrorsProtocol(HttpToolsProtocol):
    """See the module docstring. `max_head_bytes` is set by `http_protocol()`."""

    max_head_bytes = 32_768

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._head_open = False  # between the first byte of a request and the end of its headers
        self._body_open = False  # between the end of the headers and the end of the body
        self._line_open = True  # the next bytes fed continue a request line
        self._completed_in_feed = False
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
        super().on_message_begin()
        self._head_bytes = 0
        self._head_open = True
        if self._completed_in_feed:
            # A pipelined request that began inside bytes already fed: its line went as it came.
            self._line_open = False

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._body_open = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._body_open = False
        self._line_open = True
        self._completed_in_feed = True
        super().on_message_complete()

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
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        transport.write(b"".join(head) + body)
        if transport.can_write_eof():
            transport.write_eof()  # the answer, then our side closed; theirs is read and dropped
        self.loop.call_later(LINGER_SECONDS, transport.close)


class _NoAnswer(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def client_gone(request: Request, exc: Exception) -> Response:
    """Starlette's handler for ClientDisconnect: the client went away, or this protocol
    refused the rest of its request, while its body was read; nobody is left to answer."""
    return _NoAnswer()


def http_protocol(max_head_bytes: int) -> type[JsonErrorsProtocol]:
    """The protocol class for uvicorn's `http=`, with this head limit."""
    return type("JsonErrorsProtocol", (JsonErrorsProtocol,), {"max_head_bytes": max_head_bytes})


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text[:120]


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "an unknown client"
