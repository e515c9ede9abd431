"""`dentare-mock`: serve the mock. With no arguments it serves the packaged
spec and fixtures on 127.0.0.1:8000 and prints a curl to paste."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dentare_spec import Profile, SpecError, default_spec_path

from ._exceptions import MockError
from ._resources import default_fixtures_dir
from .settings import MAX_LATENCY_MS, FaultSettings, MockSettings, parse_fault_kinds, settings_to_json
from .store.documents import read_json
from .store.pg import is_postgres_url, redacted
from .web.control_guard import admin_key_problem, is_loopback

__all__ = ["main"]

ADMIN_KEY_ENV = "DENTARE_MOCK_ADMIN_KEY"

#: `dentare-mock NAME ...` runs the tool in this module (its `main(argv) -> int`).
SUBCOMMANDS = {
    "proxy": "mockserver.tools.proxy",
    "import-csv": "mockserver.tools.csv_import",
    "postman": "mockserver.tools.postman.cli",
}
#: One line each for `dentare-mock --help` (the tools are not imported to print it).
SUBCOMMAND_HELP = {
    "proxy": "forward to a live deployment and report each request or answer that breaks the spec",
    "import-csv": "import patients from a CSV file into one account (a running mock or a state file)",
    "postman": "write the Postman collection and environment generated from the spec",
}


def build_parser() -> argparse.ArgumentParser:
    width = max(map(len, SUBCOMMAND_HELP)) + 2
    epilog = "subcommands (dentare-mock NAME --help for their options):\n" + "\n".join(
        f"  {name:<{width}}{line}" for name, line in SUBCOMMAND_HELP.items()
    )
    parser = argparse.ArgumentParser(
        prog="dentare-mock",
        usage="dentare-mock [options]\n       dentare-mock {" + ",".join(SUBCOMMANDS) + "} ...",
        description="Stateful mock of the Dentare Patients API, generated from its OpenAPI spec.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--spec", type=Path, default=None, help="OpenAPI spec to serve (default: the packaged one)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="answer by this profile of the spec's decisions (YAML `decisions: {point: alternative}`;"
        " default: the kit's choices)",
    )
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        help="folder with accounts.json and patients.json (default: the packaged fixtures)",
    )
    parser.add_argument(
        "--generate", type=int, default=0, metavar="N", help="add N realistic generated patients to --generate-account"
    )
    parser.add_argument("--generate-account", type=int, default=1, metavar="ID")
    # There is no start-up snapshot any more (a store is built afresh, faster than one
    # loaded); the option stays so that scripts which pass it still start.
    parser.add_argument("--no-snapshot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-answer-cache",
        dest="answer_cache",
        action="store_false",
        help="compute every answer afresh (by default a read's answer is kept until the data"
        " it shows changes: mockserver/api/answers.py)",
    )
    parser.add_argument(
        "--seed", type=int, default=MockSettings.seed, help="seed for --generate; the same seed gives the same patients"
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep the state in this SQLite file (e.g. state.db): created from the fixtures if "
        "missing, loaded at start, and every acknowledged write is in it before the answer; "
        "a JSON state file of an earlier version is migrated (the JSON kept as FILE.bak)",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="on Ctrl-C or SIGTERM, wait at most this long for requests in progress before "
        "closing the state file (default: %(default)s; docker stop waits 10)",
    )
    parser.add_argument(
        "--store",
        default="memory",
        metavar="memory|postgresql://USER@HOST:PORT/DB",
        help="where the state lives: in this process (default), or in a PostgreSQL database that "
        "several mock processes share (created and migrated at start, fixtures loaded if empty)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=MockSettings.pool_size,
        metavar="N",
        help="connections per process to a PostgreSQL store, in each of its two pools: lookups and writes,"
        " searches (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve with N processes on one port (PostgreSQL store only; default: %(default)s)",
    )
    parser.add_argument(
        "--admin-key",
        default=os.environ.get(ADMIN_KEY_ENV),
        help=f"let non-loopback clients use /__mock with this key (or set {ADMIN_KEY_ENV})",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow this browser origin (repeatable); CORS is off without it",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument(
        "--check-responses",
        action="store_true",
        help="validate every API answer against the spec with openapi-core; log violations",
    )
    faults = parser.add_argument_group("fault injection (off by default; API requests only, never /__mock)")
    faults.add_argument(
        "--faults",
        action="store_true",
        help="honour the X-Mock-Fault, X-Mock-Latency-Ms and X-Mock-Retry-After request headers",
    )
    faults.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="inject a fault into this share (0..1) of API requests, at random; implies --faults",
    )
    faults.add_argument(
        "--fault",
        default="429,503",
        metavar="KINDS",
        help="faults --fault-rate draws from: 429,500,502,503,504,drop (default: %(default)s)",
    )
    faults.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="MS",
        help="add this latency to every API request; implies --faults",
    )
    faults.add_argument(
        "--fault-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for --fault-rate: the same seed gives the same faults in the same order",
    )
    faults.add_argument(
        "--retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        help="Retry-After of injected 429 and 503 answers (default: %(default)s)",
    )
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
        store=args.store,
        pool_size=args.pool_size,
        admin_key=args.admin_key or None,
        host=args.host,
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
    if settings.admin_key is not None and (problem := admin_key_problem(settings.admin_key)):
        return _fail(f"--admin-key: {problem}")
    if not 0 <= args.shutdown_timeout <= 3600:
        return _fail("--shutdown-timeout must be between 0 and 3600 seconds")
    shared = is_postgres_url(settings.store)
    if settings.store != "memory" and not shared:
        return _fail(f"--store {settings.store!r}: use memory or a postgresql:// URL")
    if args.workers < 1 or args.pool_size < 1:
        return _fail("--workers and --pool-size must be 1 or more")
    if args.workers > 1 and not shared:
        return _fail(
            "--workers needs --store postgresql://...: with the memory store each process would have its own state"
        )
    if shared and settings.state_file is not None:
        return _fail("--state-file is for the memory store; a PostgreSQL store keeps every write itself")
    busy = _port_in_use(args.host, args.port)
    if busy:
        return _fail(f"cannot listen on {args.host}:{args.port}: {busy}; pick another port with --port")
    _configure_logging(args.log_level)
    if args.workers > 1:
        return _serve_workers(args, settings)
    existed = settings.state_file is not None and settings.state_file.exists()
    # Start-up makes millions of objects that live as long as the server, and
    # next to no garbage cycles (under 1 MiB): the collector is off while it
    # runs and what it made is frozen, never walked, not even once (what a pass
    # costs at a million: bench/README.md).
    gc.disable()
    try:
        from .web.app import create_app

        app = create_app(settings)
        if shared:
            asyncio.run(app.state.backend.prepare())  # migrate and seed before the port opens
    except (MockError, SpecError) as exc:
        return _fail(str(exc))
    finally:
        gc.freeze()
        gc.enable()

    import uvicorn

    from ._signals import ignoring_stop_signals, sigterm_as_interrupt
    from .web.http_protocol import http_protocol

    base_url = f"http://{_display_host(args.host)}:{args.port}{app.state.spec.base_path}"
    _banner(
        base_url,
        settings,
        args.host,
        _live_fixture_token(settings, app.state.backend),
        existed,
        app.state.decisions.profile,
    )
    # lifespan="on": the state file is closed in the lifespan's shutdown. The
    # graceful timeout bounds how long a slow client can hold that up.
    with sigterm_as_interrupt():
        uvicorn.run(
            app,
            **_server_options(args),
            # Parse errors and the head limit answered in the API's JSON shape, while reading.
            http=http_protocol(settings.max_header_bytes, app.state.recall_answer),
        )
    backend = app.state.backend
    with ignoring_stop_signals():  # a second (or third) Ctrl-C must not cut the close short
        backend.shutdown()  # again: a second Ctrl-C makes uvicorn skip the lifespan shutdown
    if backend.save_error:
        print(f"dentare-mock: error: {backend.save_error}", file=sys.stderr)
        return 1
    return 0


def _server_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's settings for one process and for each of `--workers N`."""
    return {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "server_header": False,
        "date_header": True,
        "lifespan": "on",
        "timeout_graceful_shutdown": args.shutdown_timeout,
        # The API has no WebSocket: an Upgrade is served as a plain request, in the API's
        # shape (with a WebSocket library installed, uvicorn answered it in text/plain).
        "ws": "none",
    }


def _serve_workers(args: argparse.Namespace, settings: MockSettings) -> int:
    """N uvicorn processes on one port, each building its app from the settings
    (web/app.py `create_app_from_env`) against the one shared database."""
    import uvicorn

    from dentare_spec import load_spec

    from ._signals import sigterm_as_interrupt
    from ._workers import OwnSocketWorkers
    from .store.pg.backend import PostgresBackend
    from .web.app import SETTINGS_ENV, build_backend

    try:
        spec = load_spec(settings.spec_path, settings.profile)
        backend = build_backend(settings, spec)
        assert isinstance(backend, PostgresBackend)
        asyncio.run(backend.prepare())  # once here, so the workers find it done
    except (MockError, SpecError) as exc:
        return _fail(str(exc))
    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    _banner(
        f"http://{_display_host(args.host)}:{args.port}{spec.base_path}",
        settings,
        args.host,
        _live_fixture_token(settings, backend),
        False,
        spec.profile or spec.catalogue.defaults,
        args.workers,
    )
    config = uvicorn.Config(
        "mockserver.web.app:create_app_from_env",
        factory=True,
        workers=args.workers,
        **_server_options(args),
        http="mockserver.web.app:worker_http_protocol",
    )
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d with %d workers, a socket each (Press CTRL+C to quit)",
        f"[{args.host}]" if ":" in args.host else args.host,
        args.port,
        args.workers,
    )
    with sigterm_as_interrupt():
        OwnSocketWorkers(config).run()
    return 0


def _banner(
    base_url: str,
    settings: MockSettings,
    host: str,
    token: str | None,
    existed: bool,
    profile: Profile,
    workers: int = 1,
) -> None:
    root = base_url.rsplit("/api", 1)[0]
    print(f"Dentare mock serving {settings.spec_path}", flush=True)
    if settings.profile is not None:
        differences = ", ".join(f"{point}={alternative}" for point, alternative in profile.differences.items())
        print(f"  Profile: {settings.profile} ({differences or 'no difference from the kit'})")
    print(f"  Base URL: {base_url}")
    if token:
        print("  Try it:")
        print(f'    curl {base_url}/me.json -H "Authorization: Bearer {token}" -H "Accept: application/json"')
    else:
        print(f"  No fixture token is live in this state: create one on {root}/__mock/tokens")
        print(
            f"  (or: curl -X POST {root}/__mock/accounts/1/tokens -H 'Content-Type: application/json' "
            '-d \'{"name": "try"}\')'
        )
    print(f"  API reference: {root}/docs    API Tokens page: {root}/__mock/tokens")
    print(f"  Control API: {root}/__mock (reset, tokens, state)")
    if settings.state_file is not None:
        loaded = "loaded from" if existed else "the fixtures, kept in"
        print(f"  State: {loaded} {settings.state_file} (every acknowledged write is saved before the answer)")
    if is_postgres_url(settings.store):
        processes = f"{workers} processes" if workers > 1 else "1 process"
        connections = f"2 x {settings.pool_size} connections each"
        print(f"  State: PostgreSQL {redacted(settings.store)} ({processes}, {connections})")
    if settings.faults is not None:
        print(f"  FAULT INJECTION ON: {settings.faults.describe()}")
    if not (host == "localhost" or is_loopback(host)) and not settings.admin_key:
        print("  Note: bound beyond loopback; /__mock refuses non-loopback clients unless --admin-key is set.")
    print(flush=True)


def _live_fixture_token(settings: MockSettings, backend: Any) -> str | None:
    """A token for the banner's curl that works in the state as loaded: only the
    fixtures know secrets in clear, and a state (file or database) may have revoked them."""

    async def first_live() -> str | None:
        try:
            for secret in _fixture_secrets(settings.fixtures_dir):
                try:
                    await backend.authenticate(secret)
                except MockError:
                    continue
                return secret
            return None
        finally:
            if is_postgres_url(settings.store):
                await backend.close()  # its pool belongs to this loop; the server opens its own

    return asyncio.run(first_live())


def _fixture_secrets(fixtures_dir: Path | None) -> list[str]:
    if fixtures_dir is None or not (fixtures_dir / "accounts.json").exists():
        return []
    try:
        accounts = read_json(fixtures_dir / "accounts.json").get("accounts", [])
    except MockError:
        return []
    return [str(t["token"]) for a in accounts for t in a.get("tokens", []) if t.get("token")]


def _port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on, or None; checked before the (maybe slow) start-up."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
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
        rate=args.fault_rate,
        kinds=parse_fault_kinds(args.fault),
        latency_ms=args.latency_ms,
        seed=args.fault_seed,
        retry_after=args.retry_after,
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
