"""The ceiling: a bare Starlette + uvicorn app that answers each benchmarked
request with the exact bytes our mock answered it with, and does nothing else.

No authentication, validation, store or shaping: what is left is uvicorn,
httptools, uvloop and Starlette's routing, configured as `dentare-mock` runs
them (one process, the same headers). The bench runs it in the same rounds as
our mock and Prism, so each of our figures is also a share of what any
Starlette app on this machine, at that moment, could do.

    python bench/ceiling.py --port 8123 --answers answers.json

`answers.json` maps "METHOD path?query" to {"status": int, "body": str}
(bench/prism_compare.py writes it from our mock's own answers).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["build_app", "main"]


def build_app(answers: dict[str, tuple[int, bytes]], base_path: str) -> Starlette:
    """One catch-all route under `base_path`: the recorded answer, or 404."""

    async def answer(request: Request) -> Response:
        target = request.url.path.removeprefix(base_path)
        query = request.url.query
        found = answers.get(f"{request.method} {target}{'?' + query if query else ''}")
        if found is None:
            return Response(b'{"error":"Not Found"}', status_code=404, media_type="application/json")
        status, body = found
        return Response(body, status_code=status, media_type="application/json")

    return Starlette(routes=[Route(base_path + "/{path:path}", answer, methods=["GET", "POST"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/ceiling.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answers", type=Path, required=True)
    parser.add_argument("--base-path", default="/api/v1")
    args = parser.parse_args(argv)
    raw = json.loads(args.answers.read_text(encoding="utf-8"))
    answers = {key: (int(a["status"]), a["body"].encode("utf-8")) for key, a in raw.items()}

    import uvicorn

    # As mockserver/cli.py runs the mock (uvicorn's defaults pick httptools and uvloop).
    uvicorn.run(
        build_app(answers, args.base_path),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        server_header=False,
        date_header=True,
        lifespan="off",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
