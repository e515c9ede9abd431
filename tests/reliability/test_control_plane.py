"""The control plane (/__mock and the API Tokens page) answers only this
machine's own clients: Host names this server (DNS rebinding), the peer is
loopback (or has the admin key), a browser's Origin is the server's own, and
what changes state is JSON (or CSV for the import). CORS never reaches it.
Each case names what was let through before."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.support import ROOT, free_port
from tests.support.reliability import (
    InProcessClient,
    assert_error_shape,
    control_state,
    in_process_app,
    raw_bytes,
    state_of,
    token,
)


def _client(**settings: Any) -> tuple[Any, InProcessClient]:
    client_host = settings.pop("client_host", "127.0.0.1")
    app = in_process_app(**settings)
    return app, InProcessClient(app, client_host=client_host)


def _ask(client: InProcessClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, **kwargs)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1", 200),
        ("127.0.0.1:8000", 200),
        ("localhost", 200),
        ("LOCALHOST:8000", 200),
        ("127.1.2.3:80", 200),
        ("[::1]", 200),
        ("[::1]:8000", 200),
        ("evil.example", 403),
        ("evil.example:8000", 403),
        ("127.0.0.1.evil.example", 403),
        ("localhost.evil.example", 403),
        ("0.0.0.0:8000", 403),
        ("192.0.2.1", 403),
        ("", 403),
        ("127.0.0.1:8000:9", 403),
        ("[::1", 403),
        ("user@127.0.0.1", 403),
        ("::1", 403),
    ],
)
def test_the_host_must_name_this_server(host: str, status: int) -> None:
    """DNS rebinding: a page of evil.example re-pointed to 127.0.0.1 was answered as loopback."""
    _, client = _client()
    try:
        response = _ask(client, "GET", "/__mock/accounts", headers={"Host": host})
        page = _ask(client, "GET", "/__mock/tokens", headers={"Host": host})
    finally:
        client.close()
    assert (response.status_code, page.status_code) == (status, status)
    if status == 403:
        assert_error_shape(403, response.json())
        assert_error_shape(403, page.json())


@pytest.mark.parametrize(
    ("bound", "host", "status"),
    [
        ("mock.internal", "mock.internal:8000", 200),
        ("mock.internal", "other.internal:8000", 403),
        ("0.0.0.0", "evil.example:8000", 403),
        ("192.0.2.10", "192.0.2.10:8000", 200),
    ],
)
def test_the_host_it_was_started_with_is_its_own(bound: str, host: str, status: int) -> None:
    _, client = _client(host=bound, admin_key="k3y", client_host="192.0.2.50")
    try:
        response = _ask(client, "GET", "/__mock/accounts", headers={"Host": host, "X-Mock-Admin-Key": "k3y"})
    finally:
        client.close()
    assert response.status_code == status


@pytest.mark.parametrize(
    ("client_host", "status"),
    [
        ("127.0.0.1", 200),
        ("127.0.0.2", 200),
        ("127.255.255.254", 200),
        ("::1", 200),
        ("::ffff:127.0.0.1", 200),
        ("128.0.0.1", 403),
        ("10.0.0.1", 403),
        ("::2", 403),
        ("localhost", 403),
        ("testclient", 403),
    ],
)
def test_loopback_is_127_0_0_0_slash_8_and_ipv6_1(client_host: str, status: int) -> None:
    """Loopback was three strings; 127.0.0.2 was refused and 'localhost' (never a peer address) let in."""
    _, client = _client(client_host=client_host)
    try:
        assert _ask(client, "GET", "/__mock/accounts").status_code == status
    finally:
        client.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/__mock/reset", b"{}"),
        ("POST", "/__mock/accounts/1/tokens", b'{"name": "csrf"}'),
        ("PUT", "/__mock/state", b'{"accounts": []}'),
        ("DELETE", "/__mock/tokens/11", b"{}"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({}, 415),
        ({"Content-Type": "application/json", "Origin": "http://evil.example"}, 403),
        ({"Content-Type": "application/json", "Origin": "http://127.0.0.1:3000"}, 403),  # same site, other port
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
        ({"Content-Type": "application/json", "Origin": "https://127.0.0.1"}, 403),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403),
    ],
    ids=[
        "text-plain",
        "form",
        "multipart",
        "no-type",
        "other-site",
        "other-port",
        "null-origin",
        "other-scheme",
        "cross-site",
    ],
)
def test_what_changes_state_is_json_from_its_own_origin(
    method: str, path: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    """A form post or text/plain fetch from any page in the browser (a 'simple' request, no
    preflight) reset the mock or made a token; a page on another port of 127.0.0.1 too."""
    app, client = _client()
    before = state_of(app)
    try:
        response = _ask(client, method, path, content=body, headers=headers)
    finally:
        client.close()
    assert response.status_code == status, response.text
    assert_error_shape(status, response.json())
    assert state_of(app) == before


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "text/plain"}], ids=["no-type", "text-plain"])
def test_a_delete_without_a_body_needs_no_content_type(headers: dict[str, str]) -> None:
    """`curl -X DELETE .../__mock/tokens/11` revokes: no page sends a DELETE
    cross-origin without a preflight, which the control API never approves;
    another origin is still refused."""
    _app, client = _client()
    try:
        revoked = _ask(client, "DELETE", "/__mock/tokens/11", content=b"", headers=headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked"] is True
        foreign = _ask(
            client, "DELETE", "/__mock/tokens/12", content=b"", headers={**headers, "Origin": "http://evil.example"}
        )
        assert foreign.status_code == 403
    finally:
        client.close()


def test_its_own_origin_and_a_json_body_are_answered() -> None:
    _, client = _client()
    try:
        own = {"Content-Type": "application/json", "Origin": "http://127.0.0.1"}
        created = _ask(client, "POST", "/__mock/accounts/1/tokens", json={"name": "page"}, headers=own)
        revoked = _ask(client, "DELETE", f"/__mock/tokens/{created.json()['id']}", headers=own)
        empty = _ask(client, "POST", "/__mock/reset", content=b"", headers=own)
        not_object = _ask(client, "POST", "/__mock/reset", content=b"[]", headers=own)
        reset = _ask(client, "POST", "/__mock/reset", content=b"{}", headers=own)
    finally:
        client.close()
    assert (created.status_code, revoked.status_code, reset.status_code) == (201, 200, 200)
    assert empty.status_code == 400 and empty.json()["error"].startswith("Malformed JSON")
    assert not_object.status_code == 422 and not_object.json()["errors"] == {"base": ["must be a JSON object"]}


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/csv", 201),
        ("text/csv; charset=utf-8", 201),
        ("application/json", 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
    ],
)
def test_the_import_takes_csv_only(content_type: str, status: int) -> None:
    """text/csv is not a CORS-safelisted type: a page of another origin cannot send it without a preflight."""
    _, client = _client()
    try:
        response = _ask(
            client,
            "POST",
            "/__mock/accounts/1/import",
            content=b"first_name,last_name\nA,B\n",
            headers={"Content-Type": content_type},
        )
    finally:
        client.close()
    assert response.status_code == status


def test_cors_is_for_the_api_only() -> None:
    """--cors-origin wrapped the whole app: an allowed origin could read /__mock/state."""
    _, client = _client(cors_origins=("https://app.example",))
    origin = {"Origin": "https://app.example"}
    try:
        api = _ask(
            client,
            "OPTIONS",
            "/api/v1/patients",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        control = _ask(
            client,
            "OPTIONS",
            "/__mock/reset",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        read = _ask(client, "GET", "/__mock/state", headers=origin)
        docs = _ask(client, "GET", "/openapi.json", headers=origin)
        api_read = _ask(client, "GET", "/api/v1/me.json", headers={**origin, "Authorization": f"Bearer {token(1, 1)}"})
    finally:
        client.close()
    assert api.headers.get("access-control-allow-origin") == "https://app.example"
    assert api_read.headers.get("access-control-allow-origin") == "https://app.example"
    for response in (control, read, docs):
        assert "access-control-allow-origin" not in response.headers
    assert read.status_code == 403, "and another origin's page is refused anyway"


@pytest.mark.parametrize("key", ["ключ-🔑-clé", "ascii-key"])
def test_an_admin_key_in_any_script_works_as_utf8(key: str) -> None:
    _, client = _client(admin_key=key, client_host="203.0.113.7")
    try:
        good = _ask(client, "GET", "/__mock/accounts", headers={"X-Mock-Admin-Key": key.encode("utf-8")})
        latin1 = _ask(client, "GET", "/__mock/accounts", headers={"X-Mock-Admin-Key": key.encode("utf-8")[:-1]})
    finally:
        client.close()
    assert good.status_code == 200
    assert latin1.status_code == 403


@pytest.mark.parametrize(
    ("key", "message"),
    [(" padded", "starts or ends with whitespace"), ("tab\tinside", "control character"), ("", None)],
)
def test_an_admin_key_no_header_can_carry_is_refused_at_start(key: str, message: str | None) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "--port",
            str(free_port()),
            "--admin-key",
            key,
            "--fixtures",
            str(ROOT / "fixtures"),
            "--spec",
            "/nonexistent/spec.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    if message is None:  # empty means no key: the run fails later, on the missing spec
        assert "--admin-key" not in run.stderr
    else:
        assert run.stderr.startswith("dentare-mock: error: --admin-key: the admin key") and message in run.stderr


@pytest.mark.parametrize(
    ("method", "path", "content_type", "limit"),
    [
        ("POST", "/__mock/accounts/1/tokens", "application/json", 1024 * 1024),
        ("POST", "/__mock/reset", "application/json", 1024 * 1024),
        ("DELETE", "/__mock/tokens/11", "application/json", 1024 * 1024),
        ("POST", "/__mock/accounts/1/import", "text/csv", 32 * 1024 * 1024),
    ],
)
def test_control_bodies_are_limited(method: str, path: str, content_type: str, limit: int) -> None:
    """A 50 MB token name was read whole."""
    app, client = _client()
    before = state_of(app)
    body = b'{"name": "' + b"a" * limit + b'"}' if content_type == "application/json" else b"a" * (limit + 1)
    try:
        response = _ask(client, method, path, content=body, headers={"Content-Type": content_type})
    finally:
        client.close()
    assert response.status_code == 413
    assert response.json()["error"] == f"Payload Too Large: the limit is {limit} bytes"
    assert state_of(app) == before


def test_a_state_document_may_be_256_mib_and_no_more() -> None:
    """Streamed: the body is refused as soon as it passes the limit, whatever it declares."""
    app, client = _client()
    before = state_of(app)

    async def chunks() -> Any:
        yield b'{"accounts": [], "pad": "'
        for _ in range(257):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    try:
        response = _ask(client, "PUT", "/__mock/state", content=chunks(), headers={"Content-Type": "application/json"})
    finally:
        client.close()
    assert response.status_code == 413
    assert response.json()["error"] == f"Payload Too Large: the limit is {256 * 1024 * 1024} bytes"
    assert state_of(app) == before


def test_a_declared_length_over_the_limit_is_refused_before_reading(rmock: Any) -> None:
    before = control_state(rmock.root_url)
    head = (
        b"PUT /__mock/state HTTP/1.1\r\nHost: "
        + rmock.root_url.split("//", 1)[1].encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(256 * 1024 * 1024 + 1).encode()
        + b"\r\nConnection: close\r\n\r\n{"
    )
    response = raw_bytes(rmock.root_url, head)  # the rest of the body is never sent
    assert response.status == 413
    assert_error_shape(413, response.json())
    assert control_state(rmock.root_url) == before
