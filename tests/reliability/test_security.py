"""Security of the mock itself: tokens kept only as hashes, compared without
leaking timing, never logged or echoed; the control API closed to anything
but loopback unless an admin key is set; no stack trace or internal path in
any answer; request head and body sizes limited; CORS off unless configured."""

from __future__ import annotations

import hmac
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import mockserver.store.memory
import mockserver.web.control_guard
from mockserver.api.handlers import HANDLERS
from mockserver.domain.tokens import hash_token
from mockserver.settings import MockSettings
from tests.support import ROOT, RunningMock, free_port, wait_until_up
from tests.support.reliability import (
    InProcessClient,
    assert_error_shape,
    in_process_app,
    load_state,
    raw_request,
    state_of,
    token,
    two_accounts_document,
)

CONTROL_ROUTES = [
    ("POST", "/__mock/reset"),
    ("GET", "/__mock/state"),
    ("PUT", "/__mock/state"),
    ("GET", "/__mock/accounts"),
    ("GET", "/__mock/accounts/1/tokens"),
    ("POST", "/__mock/accounts/1/tokens"),
    ("DELETE", "/__mock/tokens/11"),
]
INTERNALS = ("Traceback", 'File "', ".py", str(ROOT), "site-packages", "mockserver.")


@pytest.fixture(scope="module")
def hashed_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixtures folder whose tokens are given only as hashes (so the banner prints none)."""
    folder = tmp_path_factory.mktemp("hashed-fixtures")
    document = two_accounts_document()
    for account in document["accounts"]:
        for entry in account["tokens"]:
            entry["token_sha256"] = hash_token(entry.pop("token"))
    (folder / "accounts.json").write_text(json.dumps({"accounts": document["accounts"]}))
    (folder / "patients.json").write_text(json.dumps({"patients": document["patients"]}))
    return folder


@pytest.fixture
def own_mock(rmock: RunningMock) -> RunningMock:
    return rmock


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# -- tokens ----------------------------------------------------------------------------------


def test_the_store_keeps_no_token_in_clear() -> None:
    app = in_process_app()
    client = InProcessClient(app)
    try:
        created = client.request("POST", "/__mock/accounts/1/tokens", json={"name": "fresh"})
        assert created.status_code == 201
        secret = created.json()["token"]
        assert client.request("GET", "/api/v1/me.json", headers=_auth(secret)).status_code == 200

        secrets = [token(a, n) for a in (1, 2) for n in (1, 2, 3)] + [secret]
        store = app.state.backend.store
        stored = repr([vars_of(t) for t in store.tokens()]) + repr(sorted(store._token_by_hash))
        exported = client.request("GET", "/__mock/state").text
        listed = client.request("GET", "/__mock/accounts/1/tokens").text
        for clear in secrets:
            assert clear not in stored
            assert clear not in exported
            assert clear not in listed
            assert hash_token(clear) in stored
        # The hint shown in lists is a short prefix, not the secret.
        assert all(len(t.hint) <= 8 for t in store.tokens())
    finally:
        client.close()


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_tokens_are_looked_up_by_digest_and_admin_keys_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token is found by the SHA-256 of what was sent (timing then says nothing
    about how close a guess is); the admin key goes through hmac.compare_digest."""
    hashed: list[str] = []
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy_hash(secret: str) -> str:
        hashed.append(secret)
        return hash_token(secret)

    def spy_compare(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(mockserver.store.memory, "hash_token", spy_hash)
    monkeypatch.setattr(mockserver.web.control_guard.hmac, "compare_digest", spy_compare)
    app = in_process_app(admin_key="s3cret-admin-key")
    client = InProcessClient(app, client_host="203.0.113.7")
    try:
        guess = token(1, 1)[:-1] + "y"
        assert client.request("GET", "/api/v1/me.json", headers=_auth(guess)).status_code == 401
        assert client.request("GET", "/api/v1/me.json", headers=_auth(token(1, 1))).status_code == 200
        assert client.request("GET", "/__mock/accounts", headers={"X-Mock-Admin-Key": "wrong"}).status_code == 403
    finally:
        client.close()
    assert hashed == [guess, token(1, 1)]
    assert compared == [(b"wrong", b"s3cret-admin-key")]


def test_no_token_is_logged_or_echoed(hashed_fixtures: Path, tmp_path: Path) -> None:
    """At debug level, nothing the mock prints contains a token sent to it."""
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockserver.cli",
                "--port",
                str(port),
                "--log-level",
                "debug",
                "--fixtures",
                str(hashed_fixtures),
            ],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
        )
        root = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{root}/__mock/accounts", process=process)
            with httpx.Client(base_url=root, timeout=30) as client:
                fresh = client.post("/__mock/accounts/2/tokens", json={"name": "log check"}).json()["token"]
                unknown = "dnt_never_issued_" + "z" * 24
                sent = [token(1, 1), token(1, 3), fresh, unknown]
                bodies = []
                for secret in sent:
                    for headers in (
                        _auth(secret),
                        {"Authorization": f"bearer {secret}"},
                        {"Authorization": f"Bearer  {secret}"},
                    ):
                        for method, path in (
                            ("GET", "/api/v1/me.json"),
                            ("GET", "/api/v1/patients/1"),
                            ("POST", "/api/v1/patients"),
                        ):
                            response = client.request(
                                method, path, headers=headers, json={"first_name": "Log", "last_name": "Check"}
                            )
                            bodies.append(response.text)
                revoked = client.get("/__mock/accounts/2/tokens").json()["data"][-1]["id"]
                client.request("DELETE", f"/__mock/tokens/{revoked}", json={})
                bodies.append(client.get("/api/v1/me.json", headers=_auth(fresh)).text)
        finally:
            process.terminate()
            process.wait(timeout=15)
    printed = out.read_text(errors="replace") + err.read_text(errors="replace")
    assert "GET /api/v1/me.json" in printed  # the access log is on, so the check below means something
    for secret in sent:
        assert secret not in printed
        assert all(secret not in body for body in bodies)
    assert bodies[-1] == '{"error":"Unauthorized"}'  # revoked: the very next request fails


# -- control API -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
@pytest.mark.parametrize(
    "spoof",
    [{}, {"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"}, {"X-Real-IP": "127.0.0.1"}],
    ids=["plain", "x-forwarded-for", "forwarded", "x-real-ip"],
)
def test_control_api_refuses_clients_off_loopback(method: str, path: str, spoof: dict[str, str]) -> None:
    app = in_process_app()
    before = state_of(app)
    client = InProcessClient(app, client_host="203.0.113.7")
    try:
        response = client.request(method, path, headers=spoof, json={"name": "x", "accounts": []})
    finally:
        client.close()
    assert response.status_code == 403
    assert_error_shape(403, response.json())
    assert state_of(app) == before


@pytest.mark.parametrize(
    ("client_host", "admin_key", "sent", "status"),
    [
        ("127.0.0.1", None, None, 200),
        ("::1", None, None, 200),
        ("203.0.113.7", None, "", 403),
        ("203.0.113.7", "k3y-for-tests", None, 403),
        ("203.0.113.7", "k3y-for-tests", "k3y-for-test", 403),
        ("203.0.113.7", "k3y-for-tests", "K3Y-FOR-TESTS", 403),
        ("203.0.113.7", "k3y-for-tests", "k3y-for-tests", 200),
    ],
)
def test_control_api_admin_key(client_host: str, admin_key: str | None, sent: str | None, status: int) -> None:
    client = InProcessClient(in_process_app(admin_key=admin_key), client_host=client_host)
    try:
        headers = {} if sent is None else {"X-Mock-Admin-Key": sent}
        assert client.request("GET", "/__mock/accounts", headers=headers).status_code == status
    finally:
        client.close()


def test_control_api_refuses_a_client_behind_a_local_proxy(own_mock: RunningMock) -> None:
    """uvicorn trusts X-Forwarded-For from loopback, so a proxied remote client is
    seen as remote: the control API must refuse it (and not be fooled the other way)."""
    proxied = httpx.get(f"{own_mock.root_url}/__mock/accounts", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    assert_error_shape(403, proxied.json())
    assert httpx.get(f"{own_mock.root_url}/__mock/accounts").status_code == 200


# -- no internals in answers -----------------------------------------------------------------


def test_an_unexpected_error_is_a_bare_500(serve_app: Any) -> None:
    async def boom(ctx: Any) -> Any:
        raise RuntimeError(f"secret internals at {ROOT}/mockserver/api/handlers.py")

    from mockserver import create_app

    app = create_app(MockSettings(fixtures_dir=None), handlers={**HANDLERS, "getMe": boom})
    load_state(app, two_accounts_document())
    with serve_app(app) as root:
        response = httpx.get(f"{root}/api/v1/me.json", headers=_auth(token(1, 1)))
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /api/v1/me.json HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/v1/patients HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
        b"GET /api/v1/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v1/me.json HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET \x00\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=[
        "garbage",
        "header-without-colon",
        "negative-length",
        "length-and-chunked",
        "huge-target",
        "http-9.9",
        "binary-target",
    ],
)
def test_protocol_garbage_gets_no_internals(own_mock: RunningMock, request_bytes: bytes) -> None:
    import socket

    port = int(own_mock.root_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
    text = answer.decode("latin-1")
    assert not any(marker in text for marker in INTERNALS), text


# -- size limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Pad", "a" * 40_000)],
        [(f"X-Pad-{i}", "a" * 100) for i in range(400)],
        [("Authorization", "Bearer " + "a" * 40_000)],
    ],
    ids=["one-huge-header", "many-headers", "huge-token"],
)
def test_request_head_size_is_limited(own_mock: RunningMock, headers: list[tuple[str, str]]) -> None:
    response = raw_request(own_mock.root_url, "GET", "/api/v1/me.json", [*headers, ("Authorization", "Bearer x")])
    assert response.status == 431
    assert_error_shape(431, response.json())
    assert "limited to" in response.json()["error"]


def test_a_long_url_is_limited_too(own_mock: RunningMock) -> None:
    target = "/api/v1/patients?q=" + "a" * 40_000
    response = raw_request(own_mock.root_url, "GET", target, [("Authorization", "Bearer x")])
    assert response.status == 431
    assert_error_shape(431, response.json())


def test_an_8_kb_token_is_still_just_unauthorized(own_mock: RunningMock) -> None:
    response = raw_request(own_mock.root_url, "GET", "/api/v1/me.json", [("Authorization", "Bearer " + "a" * 8192)])
    assert response.status == 401
    assert response.json() == {"error": "Unauthorized"}


def test_the_head_limit_is_a_setting() -> None:
    client = InProcessClient(in_process_app(max_header_bytes=2048))
    try:
        small = client.request("GET", "/api/v1/me.json", headers={**_auth(token(1, 1)), "X-Pad": "a" * 1500})
        big = client.request("GET", "/api/v1/me.json", headers={**_auth(token(1, 1)), "X-Pad": "a" * 2100})
    finally:
        client.close()
    assert small.status_code == 200
    assert big.status_code == 431


# -- CORS ------------------------------------------------------------------------------------


def _preflight(client: Any, origin: str) -> Any:
    return client.request(
        "OPTIONS",
        "/api/v1/patients",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def test_cors_is_off_by_default(own_mock: RunningMock) -> None:
    with httpx.Client(base_url=own_mock.root_url) as client:
        preflight = _preflight(client, "https://evil.example")
        simple = client.get("/api/v1/me.json", headers={**_auth(token(1, 1)), "Origin": "https://evil.example"})
    assert preflight.status_code == 405
    for response in (preflight, simple):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_cors_allows_only_the_configured_origins() -> None:
    client = InProcessClient(in_process_app(cors_origins=("https://app.example",)))
    try:
        allowed = _preflight(client, "https://app.example")
        refused = _preflight(client, "https://evil.example")
        simple = client.request(
            "GET", "/api/v1/me.json", headers={**_auth(token(1, 1)), "Origin": "https://evil.example"}
        )
    finally:
        client.close()
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in allowed.headers
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([("Host", "127.0.0.1")], 200),
        ([("Host", "127.0.0.1"), ("Host", "evil.example")], 403),
        ([("Host", "evil.example"), ("Host", "127.0.0.1")], 403),
        ([("Host", "127.0.0.1"), ("Host", "127.0.0.1")], 403),
    ],
    ids=["one", "own-then-other", "other-then-own", "twice-the-same"],
)
def test_control_api_takes_one_host_header(headers: list[tuple[str, str]], status: int) -> None:
    """On a server that lets a second Host through (dentare-mock's own refuses it with a 400),
    the control API does not pick one: the first might name this server, the second the attacker's."""
    client = InProcessClient(in_process_app(), client_host="127.0.0.1")
    try:
        response = client.request("GET", "/__mock/accounts", headers=headers)
    finally:
        client.close()
    assert response.status_code == status, response.text
