"""`dentare-mock`: serve the mock. With no arguments it serves the packaged
spec and fixtures on 127.0.0.1:8000 and prints a curl to paste."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dentare_spec import Profile, SpecError, default_spec_path

from ._exceptions import MockError
from ._resources import default_fixtures_dir
from .settings import MAX_LATENCY_MS, FaultSettings, MockSettings, parse_fault_kinds
from .store.documents import read_json

__all__ = ["main"]

ADMIN_KEY_ENV = "DENTARE_MOCK_ADMIN_KEY"

#: `dentare-mock NAME ...` runs the tool in this module (its `main(argv) -> int`).
SUBCOMMANDS = {
    "proxy": "mockserver.tools.proxy",
    "import-csv": "mockserver.tools.csv_import",
    "postman": "mockserver.tools.postman.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dentare-mock",
        description="Stateful mock of the Dentare Patients API, generated from its OpenAPI spec.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec to serve (default: the packaged one)")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="answer by this profile of the spec's decisions (YAML `decisions: {point: alternative}`;"
                             " default: the kit's choices)")
    parser.add_argument("--fixtures", type=Path, default=None,
                        help="folder with accounts.json and patients.json (default: the packaged fixtures)")
    parser.add_argument("--generate", type=int, default=0, metavar="N",
                        help="add N realistic generated patients to --generate-account")
    parser.add_argument("--generate-account", type=int, default=1, metavar="ID")
    # There is no start-up snapshot any more (a store is built afresh, faster than one
    # loaded); the option stays so that scripts which pass it still start.
    parser.add_argument("--no-snapshot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-answer-cache", dest="answer_cache", action="store_false",
                        help="compute every answer afresh (by default a read's answer is kept until the data"
                             " it shows changes: mockserver/api/answers.py)")
    parser.add_argument("--seed", type=int, default=MockSettings.seed,
                        help="seed for --generate; the same seed gives the same patients")
    parser.add_argument("--state-file", type=Path, default=None,
                        help="load the state from this file at start (if it exists) and save it on shutdown")
    parser.add_argument("--admin-key", default=os.environ.get(ADMIN_KEY_ENV),
                        help=f"let non-loopback clients use /__mock with this key (or set {ADMIN_KEY_ENV})")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow this browser origin (repeatable); CORS is off without it")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--check-responses", action="store_true",
                        help="validate every API answer against the spec with openapi-core; log violations")
    faults = parser.add_argument_group("fault injection (off by default; API requests only, never /__mock)")
    faults.add_argument("--faults", action="store_true",
                        help="honour the X-Mock-Fault, X-Mock-Latency-Ms and X-Mock-Retry-After request headers")
    faults.add_argument("--fault-rate", type=float, default=0.0, metavar="P",
                        help="inject a fault into this share (0..1) of API requests, at random; implies --faults")
    faults.add_argument("--fault", default="429,503", metavar="KINDS",
                        help="faults --fault-rate draws from: 429,500,502,503,504,drop (default: %(default)s)")
    faults.add_argument("--latency-ms", type=int, default=0, metavar="MS",
                        help="add this latency to every API request; implies --faults")
    faults.add_argument("--fault-seed", type=int, default=None, metavar="N",
                        help="seed for --fault-rate: the same seed gives the same faults in the same order")
    faults.add_argument("--retry-after", type=int, default=1, metavar="SECONDS",
                        help="Retry-After of injected 429 and 503 answers (default: %(default)s)")
    return parser


def settings_from(args: argparse.Namespace) -> MockSettings:
    return MockSettings(
        spec_path=args.spec or default_spec_path(),
        profile=args.profile,
        fixtures_dir=args.fixtures or default_fixtures_dir(),
        generate=args.generate,
        generate_account=args.generate_account,
        seed=args.seed,
        state_file=args.state_file,
        admin_key=args.admin_key or None,
        cors_origins=tuple(args.cors_origin),
        faults=_fault_settings(args),
        check_responses=args.check_responses,
        answer_cache=args.answer_cache,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return int(importlib.import_module(SUBCOMMANDS[argv[0]]).main(argv[1:]))
    args = build_parser().parse_args(argv)
    if args.generate < 0:
        return _fail("--generate must be 0 or more")
    try:
        settings = settings_from(args)
    except ValueError as exc:
        return _fail(str(exc))
    if settings.state_file is not None and not settings.state_file.parent.is_dir():
        return _fail(f"--state-file: the folder {settings.state_file.parent} does not exist")
    _configure_logging(args.log_level)
    # Start-up makes millions of objects that live as long as the server, and
    # next to no garbage cycles (under 1 MiB): the collector is off while it
    # runs and what it made is frozen, never walked, not even once (each pass
    # over a million patients took 1-3 s: bench/README.md).
    gc.disable()
    try:
        from .web.app import create_app

        app = create_app(settings)
    except (MockError, SpecError) as exc:
        return _fail(str(exc))
    finally:
        gc.freeze()
        gc.enable()

    import uvicorn

    from ._signals import sigterm_as_interrupt

    base_url = f"http://{_display_host(args.host)}:{args.port}{app.state.spec.base_path}"
    _banner(base_url, settings, args.host, app.state.decisions.profile)
    # lifespan="on": the state file is saved in the lifespan's shutdown, so it must run.
    with sigterm_as_interrupt():
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                    server_header=False, date_header=True, lifespan="on")
    return 1 if app.state.backend.save_error else 0


def _banner(base_url: str, settings: MockSettings, host: str, profile: Profile) -> None:
    token = _sample_token(settings.fixtures_dir)
    print(f"Dentare mock serving {settings.spec_path}", flush=True)
    if settings.profile is not None:
        differences = ", ".join(f"{point}={alternative}" for point, alternative in profile.differences.items())
        print(f"  Profile: {settings.profile} ({differences or 'no difference from the kit'})")
    print(f"  Base URL: {base_url}")
    if token:
        print("  Try it:")
        print(f'    curl {base_url}/me.json -H "Authorization: Bearer {token}" -H "Accept: application/json"')
    root = base_url.rsplit("/api", 1)[0]
    print(f"  API reference: {root}/docs    API Tokens page: {root}/__mock/tokens")
    print(f"  Control API: {root}/__mock (reset, tokens, state)")
    if settings.state_file is not None:
        loaded = "loaded from" if settings.state_file.exists() else "fixtures; saved on shutdown to"
        print(f"  State: {loaded} {settings.state_file}")
    if settings.faults is not None:
        print(f"  FAULT INJECTION ON: {settings.faults.describe()}")
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


def _fault_settings(args: argparse.Namespace) -> FaultSettings | None:
    """None unless some fault option asks for injection: a plain mock never misbehaves."""
    if not (args.faults or args.fault_rate or args.latency_ms):
        return None
    if not 0 <= args.fault_rate <= 1:
        raise ValueError("--fault-rate must be between 0 and 1")
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        raise ValueError(f"--latency-ms must be between 0 and {MAX_LATENCY_MS}")
    if args.retry_after < 0:
        raise ValueError("--retry-after must be 0 or more")
    return FaultSettings(
        rate=args.fault_rate, kinds=parse_fault_kinds(args.fault), latency_ms=args.latency_ms,
        seed=args.fault_seed, retry_after=args.retry_after,
    )


def _configure_logging(level: str) -> None:
    """The mock's own log lines (state saved, faults injected) beside uvicorn's, in its format."""
    from uvicorn.logging import DefaultFormatter

    logger = logging.getLogger("mockserver")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _fail(message: str) -> int:
    print(f"dentare-mock: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
