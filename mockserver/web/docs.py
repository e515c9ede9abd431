"""The interactive API reference: Swagger UI at `/docs`, the spec at
`/openapi.json` and `/openapi.yaml`.

Swagger UI's assets come from the installed `swagger_ui_bundle` package
(PyPI `swagger-ui-bundle-v2`, Swagger UI 5, which renders OpenAPI 3.1), so the
page works offline and loads nothing from another origin. The served spec
lists the mock's own origin first in `servers`, so "Try it out" calls the mock
that served the page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from dentare_spec import ApiSpec

from .._exceptions import NotFound
from ..api.responses import error_response, json_response

__all__ = ["ASSETS", "docs_routes", "served_document", "swagger_ui_dir"]

#: The only files of the bundle the page needs (and their source maps, for devtools).
ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "swagger-ui.css",
        "swagger-ui.css.map",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - API reference</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script id="swagger-ui-config" type="application/json">{config}</script>
  <script>
    const config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
    window.ui = SwaggerUIBundle({{...config, dom_id: "#swagger-ui"}});
  </script>
</body>
</html>
"""


def swagger_ui_dir() -> Path | None:
    """Swagger UI's static files, from the installed package (None when it is
    missing: the mock still serves the API and the spec, and /docs says why)."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def served_document(document: Mapping[str, Any], server_url: str) -> dict[str, Any]:
    """The spec as served: `server_url` (the mock itself) first in `servers`,
    then the document's own servers except that one."""
    own = {"url": server_url, "description": "This mock server (the one serving this page)"}
    others = [s for s in document.get("servers", []) if s.get("url", "").rstrip("/") != server_url.rstrip("/")]
    return {**document, "servers": [own, *others]}


def docs_routes(spec: ApiSpec) -> list[BaseRoute]:
    """Routes for `/docs`, its assets, `/openapi.json` and `/openapi.yaml`."""
    assets_dir = swagger_ui_dir()
    title = str(spec.document.get("info", {}).get("title", "API"))

    @lru_cache(maxsize=16)
    def rendered(server_url: str) -> tuple[bytes, bytes]:
        document = served_document(spec.document, server_url)
        as_json = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        as_yaml = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100).encode("utf-8")
        return as_json, as_yaml

    def server_url(request: Request) -> str:
        # base_url is the origin the client used plus any root_path.
        return str(request.base_url).rstrip("/") + spec.base_path

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def page(request: Request) -> Response:
        if assets_dir is None:
            return _unavailable()
        config = {
            "url": f"{root(request)}/openapi.json",
            "deepLinking": True,
            "persistAuthorization": True,
            "tryItOutEnabled": True,
            "displayRequestDuration": True,
            "validatorUrl": None,  # the default validator is an external service
        }
        # `</` cannot appear inside the JSON script element; "<\/" is the same JSON.
        body = _PAGE.format(
            title=html.escape(title),
            assets=html.escape(f"{root(request)}/docs/assets"),
            config=json.dumps(config).replace("</", "<\\/"),
        )
        return HTMLResponse(body)

    async def spec_json(request: Request) -> Response:
        return Response(rendered(server_url(request))[0], media_type="application/json")

    async def spec_yaml(request: Request) -> Response:
        return Response(rendered(server_url(request))[1], media_type="application/yaml; charset=utf-8")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if assets_dir is None:
            return _unavailable()
        if name not in ASSETS or not (assets_dir / name).is_file():
            return error_response(NotFound())
        return FileResponse(assets_dir / name, headers={"Cache-Control": "public, max-age=3600"})

    return [
        Route("/docs", page, methods=["GET", "HEAD"]),
        Route("/docs/assets/{name}", asset, methods=["GET", "HEAD"]),
        Route("/openapi.json", spec_json, methods=["GET", "HEAD"]),
        Route("/openapi.yaml", spec_yaml, methods=["GET", "HEAD"]),
    ]


def _unavailable() -> Response:
    return json_response(503, {"error": "API reference unavailable: install swagger-ui-bundle-v2 (Swagger UI 5)"})
