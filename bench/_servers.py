"""Start and stop the servers under test: our mock and Stoplight Prism.

Each runs as one process on a free loopback port, started here and stopped
here by its PID (never by name). Start-up time is measured from spawn to the
first authenticated answer, which for our mock includes generating and
indexing the store.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BENCH_TOKEN",
    "PRISM_VERSION",
    "ROOT",
    "Server",
    "ensure_prism",
    "free_port",
    "prism_binary",
    "serve_command",
    "start_ceiling",
    "start_command",
    "start_mock",
    "start_prism",
    "start_server",
    "write_bench_fixtures",
]

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts; the process helpers are the tests'

from tests.support.processes import free_port, spawn_server, stop_process  # noqa: E402

SPEC = ROOT / "spec" / "openapi.yaml"
NODE_PREFIX = ROOT / "bench" / ".node"
PRISM_VERSION = "5.16.0"
BENCH_TOKEN = "dnt_bench_0123456789abcdefghijklmnopqrstuv"
ACCOUNT_ID = 1


@dataclass
class Server:
    """One server process under test."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    startup_s: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mib(self) -> float:
        return _status_kib(self.pid, "VmRSS") / 1024

    def peak_rss_mib(self) -> float:
        return _status_kib(self.pid, "VmHWM") / 1024

    def stop(self) -> None:
        """SIGTERM to our own process group (the server and anything it forked), then SIGKILL."""
        stop_process(self.process)


def write_bench_fixtures(folder: Path) -> Path:
    """One clinic account with one live token and no patients: `--generate` adds them all."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "accounts": [
            {
                "id": ACCOUNT_ID,
                "name": "Bench Clinic",
                "country": "MK",
                "users": [{"id": 1, "name": "Bench User", "email": "bench@example.com"}],
                "tokens": [{"id": 1, "user_id": 1, "name": "bench", "token": BENCH_TOKEN, "revoked": False}],
            }
        ]
    }
    (folder / "accounts.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return folder


@contextlib.contextmanager
def start_mock(
    fixtures: Path,
    generate: int,
    *,
    log_dir: Path,
    token: str = BENCH_TOKEN,
    timeout: float = 900.0,
    options: Sequence[str] = (),
    name: str = "dentare-mock",
) -> Iterator[Server]:
    """`dentare-mock --generate N` (uvicorn with httptools and uvloop, full validation on), and `options`."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver.cli",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--fixtures",
        str(fixtures),
        "--generate",
        str(generate),
        "--generate-account",
        str(ACCOUNT_ID),
        *options,
    ]
    root = f"http://127.0.0.1:{port}"
    with start_server(name, command, f"{root}/api/v1", "/me.json", token, log_dir, timeout) as server:
        yield server


@contextlib.contextmanager
def start_prism(*, log_dir: Path, timeout: float = 120.0) -> Iterator[Server]:
    """`prism mock spec/openapi.yaml` (static examples, request validation on, its default)."""
    port = free_port()
    command = [str(prism_binary()), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)]
    with start_server(
        "prism", command, f"http://127.0.0.1:{port}", "/me.json", BENCH_TOKEN, log_dir, timeout
    ) as server:
        yield server


@contextlib.contextmanager
def start_ceiling(answers: Path, *, log_dir: Path, timeout: float = 60.0) -> Iterator[Server]:
    """bench/ceiling.py: a bare Starlette app replaying our mock's recorded answers."""
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "ceiling.py"), "--port", str(port), "--answers", str(answers)]
    root = f"http://127.0.0.1:{port}"
    with start_server("ceiling", command, f"{root}/api/v1", "/me.json", BENCH_TOKEN, log_dir, timeout) as server:
        yield server


def serve_command(
    fixtures: Path, store_size: int, protocol: str = "json", state_file: Path | None = None
) -> tuple[list[str], int]:
    """bench/_serve.py (the mock's app as `dentare-mock` builds it, with the HTTP protocol
    chosen and no kept answers at the connection) on a free port: its command and the port."""
    port = free_port()
    command = [sys.executable, str(Path(__file__).with_name("_serve.py")), "--protocol", protocol, "--port", str(port)]
    command += ["--fixtures", str(fixtures), "--generate", str(store_size)]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    return command, port


@contextlib.contextmanager
def start_command(
    name: str,
    command: Sequence[str],
    base_url: str,
    *,
    log_dir: Path,
    token: str = BENCH_TOKEN,
    timeout: float = 300.0,
) -> Iterator[Server]:
    """Any server command of ours (e.g. bench/_serve.py), answering `/me.json` under `base_url`."""
    with start_server(name, command, base_url, "/me.json", token, log_dir, timeout) as server:
        yield server


def prism_binary() -> Path:
    return NODE_PREFIX / "node_modules" / ".bin" / "prism"


def ensure_prism() -> Path:
    """Install the pinned Prism under bench/.node (gitignored) unless it is there."""
    binary = prism_binary()
    if not binary.exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NODE_PREFIX),
                f"@stoplight/prism-cli@{PRISM_VERSION}",
            ],
            check=True,
            timeout=900,
        )
    return binary


@contextlib.contextmanager
def start_server(
    name: str, command: Sequence[str], base_url: str, probe: str, token: str, log_dir: Path, timeout: float
) -> Iterator[Server]:
    """`command` up once `base_url + probe` answers 200 to `token` (tests/support/processes.py
    `spawn_server`, the one way the tests and the benches run a server); its output in
    `log_dir/NAME.log`, a file: a chatty server (Prism logs every request) never blocks on a pipe."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    with (
        open(log_path, "w+b") as log,
        spawn_server(command, base_url + probe, log=log, timeout=timeout, headers=headers, status=200) as process,
    ):
        server = Server(name=name, command=list(command), process=process, base_url=base_url, log=log_path)
        server.startup_s = time.perf_counter() - started
        yield server


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0
