"""Who the control API (/__mock) and the API Tokens page answer.

The control API hands out tokens and replaces the whole state, so it answers
a request only when all of these hold:

1. **Host** (DNS rebinding): the `Host` header names this server by a
   loopback name or address (`localhost`, 127.0.0.0/8, `[::1]`, any port),
   by the `--host` it was started with (unless a wildcard), or by the IP
   address the connection arrived at. A page of another site whose name the
   attacker re-points to 127.0.0.1 sends its own name as Host and is refused.
   There is one `Host` header (and at most one `Origin`).
2. **Client**: the peer is a loopback address (127.0.0.0/8 or ::1, by
   `ipaddress`; an IPv4-mapped ::ffff:127.x too), or sends the admin key in
   `X-Mock-Admin-Key` (compared as UTF-8 bytes in constant time).
3. **Origin** (CSRF): a browser's `Origin`, when sent, is exactly this
   server's own origin (`scheme://Host`), so a page on another port of
   127.0.0.1 is refused too: it is same-site, so `Sec-Fetch-Site` alone would
   not tell (it is still checked: `cross-site` is refused).
4. **Content type**, for requests that change state (POST, PUT, a DELETE
   with a body): `application/json` (charset utf-8 allowed), or `text/csv` for the CSV
   import. Neither is a CORS-safelisted type (those are text/plain,
   multipart/form-data and application/x-www-form-urlencoded, all an HTML
   form can send), so a cross-origin page can only send them after a CORS
   preflight, which the control API never approves (CORS applies to the API
   only). That is why the import needs no custom header or key beyond these
   rules: `text/csv` already forces the preflight.

Refusals are 403 (or 415 for the type) in the `{"error": ...}` shape.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Collection

from starlette.requests import Request

from .._exceptions import Forbidden, UnsupportedMediaType

__all__ = [
    "ADMIN_KEY_HEADER",
    "STATE_CHANGING",
    "admin_key_problem",
    "authorize",
    "is_loopback",
    "require_media_type",
]

ADMIN_KEY_HEADER = "x-mock-admin-key"
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def authorize(request: Request, admin_key: str | None, bound_host: str | None) -> None:
    """Forbidden unless the request passes rules 1 to 3 above."""
    # dentare-mock's HTTP layer refuses a second Host (web/http_protocol.py); a server in front may not.
    hosts = request.headers.getlist("host")
    host = hosts[0] if len(hosts) == 1 else ""
    if not _host_allowed(host, bound_host, _server_address(request)):
        raise Forbidden(
            "Forbidden: the control API answers requests addressed to localhost, 127.0.0.1 or [::1] "
            "(or the --host the mock serves) only"
        )
    if request.headers.get("sec-fetch-site") == "cross-site":
        # A page on another site, in a browser on this machine, is a loopback client too.
        raise Forbidden("Forbidden: the control API does not answer other sites' pages")
    origins = request.headers.getlist("origin")
    if len(origins) > 1 or (origins and origins[0].lower() != f"{request.url.scheme}://{host}".lower()):
        raise Forbidden("Forbidden: the control API answers pages of its own origin only")
    client = request.client.host if request.client else ""
    if is_loopback(client):
        return
    sent = request.headers.get(ADMIN_KEY_HEADER)
    if admin_key and sent is not None and _same_key(sent, admin_key):
        return
    raise Forbidden(
        "Forbidden: the control API answers loopback clients only; "
        "start the mock with --admin-key and send it in X-Mock-Admin-Key"
    )


def require_media_type(request: Request, allowed: Collection[str]) -> None:
    """415 unless a state-changing request says one of the `allowed` media types
    (a charset parameter other than utf-8 is refused too). A DELETE without a
    body needs none: no page can send one cross-origin without a preflight."""
    headers = request.headers
    if request.method == "DELETE" and headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    charset = params.strip().lower().replace('"', "").replace(" ", "")
    if media_type.strip().lower() in allowed and charset in ("", "charset=utf-8"):
        return
    wanted = " or ".join(f"Content-Type: {kind}" for kind in sorted(allowed))
    raise UnsupportedMediaType(f"Unsupported Media Type: send {wanted} (charset utf-8)")


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, and IPv4-mapped loopback (what a dual-stack socket reports)."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def admin_key_problem(key: str) -> str | None:
    """Why `key` could never be sent and matched in an HTTP header, if so: headers
    lose surrounding whitespace and cannot hold control characters, and the key
    is compared as UTF-8 (what curl and browsers send for non-ASCII text)."""
    if not key:
        return "the admin key is empty"
    if key != key.strip(" \t"):
        return "the admin key starts or ends with whitespace, which HTTP strips from header values"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        return "the admin key holds a control character, which no HTTP header can carry"
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return "the admin key is not valid UTF-8 text"
    if len(key.encode("utf-8")) > 1024:
        return "the admin key is longer than 1024 bytes"
    return None


def _same_key(sent: str, admin_key: str) -> bool:
    # Starlette decodes header bytes as latin-1: encoding back gives the bytes sent.
    try:
        expected = admin_key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sent.encode("latin-1"), expected)


def _host_allowed(host: str, bound_host: str | None, server_address: str | None) -> bool:
    name = _host_name(host)
    if name is None:
        return False
    if name in _LOOPBACK_NAMES or is_loopback(name):
        return True
    if bound_host and bound_host.lower() not in _WILDCARDS and name == bound_host.strip("[]").lower():
        return True
    return server_address is not None and _same_address(name, server_address)


def _host_name(host: str) -> str | None:
    """The name or address of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), lower-cased."""
    host = host.strip().lower()
    if not host or any(ch in host for ch in "/@\\ \t"):
        return None
    if host.startswith("["):
        end = host.find("]")
        if end < 0 or (host[end + 1 :] and not _is_port(host[end + 1 :])):
            return None
        return host[1:end]
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if colon and (not name or not port.isdigit() or ":" in name):
        return None
    return name


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isdigit() and len(text) <= 6


def _server_address(request: Request) -> str | None:
    server = request.scope.get("server")
    return str(server[0]) if server else None


def _same_address(name: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(address)
    except ValueError:
        return False
