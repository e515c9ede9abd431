"""The mock's interactive API reference (/docs) and the spec it serves."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest
import yaml

from dentare_spec import load_spec
from mockserver.web.docs import served_document, swagger_ui_dir

ROOT = Path(__file__).resolve().parents[2]
SPEC = dict(load_spec(ROOT / "spec" / "openapi.yaml").document)  # served as the mock's profile decides it
TRY_IT = Path(__file__).with_name("docs_try_it.cjs")


class _Links(HTMLParser):
    """Every URL the page makes a browser load (src and href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def page_urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def docs_html(mock_server) -> str:
    response = httpx.get(f"{mock_server.root_url}/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_page_loads_nothing_from_another_origin(docs_html: str) -> None:
    urls = page_urls(docs_html)
    assert any(u.endswith("/swagger-ui-bundle.js") for u in urls)
    assert any(u.endswith("/swagger-ui.css") for u in urls)
    for url in urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"the page loads {url} from elsewhere"
    assert not re.search(r"(?i)\b(https?:)?//[a-z0-9]", docs_html), "an absolute URL in the page"


@pytest.mark.parametrize(
    ("suffix", "content_type"),
    [("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"), ("favicon-32x32.png", "image/png")],
)
def test_page_assets_load(mock_server, docs_html: str, suffix: str, content_type: str) -> None:
    [url] = [u for u in page_urls(docs_html) if u.endswith(suffix)]
    response = httpx.get(urljoin(f"{mock_server.root_url}/docs", url))
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.content == (swagger_ui_dir() / suffix).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/index.html",
        "/docs/assets/swagger-initializer.js",
        "/docs/assets/..%2F__init__.py",
        "/docs/assets/nope.js",
    ],
)
def test_only_the_pages_assets_are_served(mock_server, path: str) -> None:
    response = httpx.get(f"{mock_server.root_url}{path}")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_the_bundle_renders_openapi_3_1() -> None:
    # Swagger UI renders OpenAPI 3.1 from version 5 on; 4.x says it cannot.
    bundle = swagger_ui_dir()
    major = int(re.fullmatch(r"swagger-ui-(\d+)\.\d+\.\d+", bundle.name).group(1))  # type: ignore[union-attr]
    assert major >= 5, f"{bundle} is too old for OpenAPI 3.1"


def test_json_spec_lists_the_mock_first(mock_server) -> None:
    response = httpx.get(f"{mock_server.root_url}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    assert served["servers"][0]["url"] == mock_server.base_url
    assert [s["url"] for s in served["servers"][1:]] == [s["url"] for s in SPEC["servers"]]
    assert {k: v for k, v in served.items() if k != "servers"} == {k: v for k, v in SPEC.items() if k != "servers"}


def test_yaml_spec_is_the_same_document(mock_server) -> None:
    response = httpx.get(f"{mock_server.root_url}/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/yaml"
    as_json = httpx.get(f"{mock_server.root_url}/openapi.json").json()
    assert yaml.safe_load(response.text) == as_json


def test_server_follows_the_host_the_client_used(mock_server) -> None:
    port = urlparse(mock_server.root_url).port
    served = httpx.get(f"http://localhost:{port}/openapi.json").json()
    assert served["servers"][0]["url"] == f"http://localhost:{port}/api/v1"


def test_served_document_does_not_repeat_the_mock() -> None:
    served = served_document(SPEC, "http://127.0.0.1:8000/api/v1")
    urls = [s["url"] for s in served["servers"]]
    assert urls == ["http://127.0.0.1:8000/api/v1", "https://dentare.io/api/v1"]


def test_try_it_out_calls_the_mock_from_a_browser(mock_server, tokens, require_tool: Callable[[str], str]) -> None:
    chromium = require_tool("chromium")
    node = require_tool("node")
    require_tool("playwright-core")
    token = tokens[1].token
    run = subprocess.run(
        [node, str(TRY_IT), mock_server.root_url, token, chromium],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["selected_server"] == mock_server.base_url
    assert report["operations"] == sum(
        1 for item in SPEC["paths"].values() for method in item if method != "parameters"
    )
    assert report["api_url"] == f"{mock_server.base_url}/me.json"
    assert report["api_authorization"] == f"Bearer {token}"
    assert (report["api_status"], report["ui_status"]) == (200, "200")
    assert set(report["api_body"]) == set(SPEC["components"]["schemas"]["User"]["required"])
    assert report["failed"] == [] and report["console_errors"] == []
    foreign = [u for u in report["requests"] if not u.startswith(f"{mock_server.root_url}/")]
    assert foreign == [], "the page reached beyond the mock"
