"""`dentare-mock`: serve the mock. With no arguments it serves the packaged
spec and fixtures on 127.0.0.1:8000 and prints a curl to paste."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._exceptions import MockError
from ._resources import default_fixtures_dir, default_spec_path
from .settings import MockSettings
from .state import read_json

__all__ = ["main"]

ADMIN_KEY_ENV = "DENTARE_MOCK_ADMIN_KEY"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock",
        description="Stateful mock of the Dentare Patients API, generated from its OpenAPI spec.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec to serve (default: the packaged one)")
    parser.add_argument("--fixtures", type=Path, default=None,
                        help="folder with accounts.json and patients.json (default: the packaged fixtures)")
    parser.add_argument("--generate", type=int, default=0, metavar="N",
                        help="add N realistic generated patients to --generate-account")
    parser.add_argument("--generate-account", type=int, default=1, metavar="ID")
    parser.add_argument("--seed", type=int, default=MockSettings.seed,
                        help="seed for --generate; the same seed gives the same patients")
    parser.add_argument("--state-file", type=Path, default=None,
                        help="load the state from this file at start (if it exists) and save it on shutdown")
    parser.add_argument("--admin-key", default=os.environ.get(ADMIN_KEY_ENV),
                        help=f"let non-loopback clients use /__mock with this key (or set {ADMIN_KEY_ENV})")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow this browser origin (repeatable); CORS is off without it")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return parser


def settings_from(args: argparse.Namespace) -> MockSettings:
    return MockSettings(
        spec_path=args.spec or default_spec_path(),
        fixtures_dir=args.fixtures or default_fixtures_dir(),
        generate=args.generate,
        generate_account=args.generate_account,
        seed=args.seed,
        state_file=args.state_file,
        admin_key=args.admin_key or None,
        cors_origins=tuple(args.cors_origin),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.generate < 0:
        return _fail("--generate must be 0 or more")
    settings = settings_from(args)
    try:
        from .app import create_app

        app = create_app(settings)
    except MockError as exc:
        return _fail(str(exc))

    import uvicorn

    base_url = f"http://{_display_host(args.host)}:{args.port}{app.state.spec.base_path}"
    _banner(base_url, settings, args.host)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                server_header=False, date_header=True)
    return 0


def _banner(base_url: str, settings: MockSettings, host: str) -> None:
    token = _sample_token(settings.fixtures_dir)
    print(f"Dentare mock serving {settings.spec_path}", flush=True)
    print(f"  Base URL: {base_url}")
    if token:
        print("  Try it:")
        print(f'    curl {base_url}/me.json -H "Authorization: Bearer {token}" -H "Accept: application/json"')
    print(f"  Control API: {base_url.rsplit('/api', 1)[0]}/__mock (reset, tokens, state)")
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.admin_key:
        print("  Note: bound beyond loopback; /__mock refuses non-loopback clients unless --admin-key is set.")
    print(flush=True)


def _sample_token(fixtures_dir: Path | None) -> str | None:
    """A live fixture token for the banner's curl (fixtures keep them in clear)."""
    if fixtures_dir is None or not (fixtures_dir / "accounts.json").exists():
        return None
    try:
        accounts = read_json(fixtures_dir / "accounts.json").get("accounts", [])
    except MockError:
        return None
    for account in accounts:
        for token in account.get("tokens", []):
            if token.get("token") and not token.get("revoked"):
                return str(token["token"])
    return None


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _fail(message: str) -> int:
    print(f"dentare-mock: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
