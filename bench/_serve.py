"""Serve the mock for a side-by-side bench, with the HTTP protocol class chosen.

    python bench/_serve.py --protocol stock|json --port N --fixtures DIR [--generate N] [--state-file F]

The same app and uvicorn settings as `dentare-mock` (mockserver/cli.py); only
`--protocol` differs: `json` is the mock's own (mockserver/web/http_protocol.py),
`stock` is uvicorn's httptools protocol it subclasses. Neither gives kept answers
at the connection (the app keeps its own under both), so the comparison is of
what the protocol does to every request: parsing, the head limit, the writes. Started and stopped by
PID by the bench (bench/_servers.py), never on its own.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["stock", "json"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--generate", type=int, default=0)
    parser.add_argument("--state-file", type=Path, default=None)
    args = parser.parse_args()

    import uvicorn

    from mockserver.settings import MockSettings
    from mockserver.web.app import create_app
    from mockserver.web.http_protocol import http_protocol

    settings = MockSettings(fixtures_dir=args.fixtures, generate=args.generate, state_file=args.state_file)
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    protocol = http_protocol(settings.max_header_bytes) if args.protocol == "json" else "httptools"
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        server_header=False,
        date_header=True,
        lifespan="on",
        http=protocol,
    )
    app.state.backend.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
