"""Start and stop the servers under test: our mock and Stoplight Prism.

Each runs as one process on a free loopback port, started here and stopped
here by its PID (never by name). Start-up time is measured from spawn to the
first authenticated answer, which for our mock includes generating and
indexing the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "BENCH_TOKEN",
    "PRISM_VERSION",
    "ROOT",
    "Server",
    "ensure_prism",
    "free_port",
    "prism_binary",
    "start_ceiling",
    "start_command",
    "start_mock",
    "start_prism",
    "write_bench_fixtures",
]

ROOT = Path(__file__).resolve().parents[1]
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
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def write_bench_fixtures(folder: Path) -> Path:
    """One clinic account with one live token and no patients: `--generate` adds them all."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {"accounts": [{
        "id": ACCOUNT_ID, "name": "Bench Clinic", "country": "MK",
        "users": [{"id": 1, "name": "Bench User", "email": "bench@example.com"}],
        "tokens": [{"id": 1, "user_id": 1, "name": "bench", "token": BENCH_TOKEN, "revoked": False}],
    }]}
    (folder / "accounts.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return folder


@contextlib.contextmanager
def start_mock(
    fixtures: Path, generate: int, *, log_dir: Path, token: str = BENCH_TOKEN, timeout: float = 900.0,
    options: Sequence[str] = (), name: str = "dentare-mock",
) -> Iterator[Server]:
    """`dentare-mock --generate N` (uvicorn with httptools and uvloop, full validation on), and `options`."""
    port = _free_port()
    command = [
        sys.executable, "-m", "mockserver.cli", "--port", str(port), "--log-level", "warning",
        "--fixtures", str(fixtures), "--generate", str(generate), "--generate-account", str(ACCOUNT_ID), *options,
    ]
    root = f"http://127.0.0.1:{port}"
    with _spawn(name, command, f"{root}/api/v1", "/me.json", token, log_dir, timeout) as server:
        yield server


@contextlib.contextmanager
def start_prism(*, log_dir: Path, timeout: float = 120.0) -> Iterator[Server]:
    """`prism mock spec/openapi.yaml` (static examples, request validation on, its default)."""
    port = _free_port()
    command = [str(prism_binary()), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)]
    with _spawn("prism", command, f"http://127.0.0.1:{port}", "/me.json", BENCH_TOKEN, log_dir, timeout) as server:
        yield server


@contextlib.contextmanager
def start_ceiling(answers: Path, *, log_dir: Path, timeout: float = 60.0) -> Iterator[Server]:
    """bench/ceiling.py: a bare Starlette app replaying our mock's recorded answers."""
    port = _free_port()
    command = [sys.executable, str(ROOT / "bench" / "ceiling.py"), "--port", str(port), "--answers", str(answers)]
    root = f"http://127.0.0.1:{port}"
    with _spawn("ceiling", command, f"{root}/api/v1", "/me.json", BENCH_TOKEN, log_dir, timeout) as server:
        yield server


@contextlib.contextmanager
def start_command(
    name: str, command: Sequence[str], base_url: str, *, log_dir: Path, token: str = BENCH_TOKEN,
    timeout: float = 300.0,
) -> Iterator[Server]:
    """Any server command of ours (e.g. bench/_serve.py), answering `/me.json` under `base_url`."""
    with _spawn(name, command, base_url, "/me.json", token, log_dir, timeout) as server:
        yield server


def free_port() -> int:
    return _free_port()


def prism_binary() -> Path:
    return NODE_PREFIX / "node_modules" / ".bin" / "prism"


def ensure_prism() -> Path:
    """Install the pinned Prism under bench/.node (gitignored) unless it is there."""
    binary = prism_binary()
    if not binary.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX),
             f"@stoplight/prism-cli@{PRISM_VERSION}"],
            check=True, timeout=900,
        )
    return binary


@contextlib.contextmanager
def _spawn(
    name: str, command: Sequence[str], base_url: str, probe: str, token: str, log_dir: Path, timeout: float
) -> Iterator[Server]:
    # Output goes to a file, not a pipe: a chatty server (Prism logs every
    # request) must never block on a full pipe in the middle of a run.
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(list(command), cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    server = Server(name=name, command=list(command), process=process, base_url=base_url, log=log_path)
    try:
        _wait_until_answering(server, probe, token, timeout)
        server.startup_s = time.perf_counter() - started
        yield server
    finally:
        server.stop()


def _wait_until_answering(server: Server, probe: str, token: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            error = server.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}: {error}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.base_url + probe, headers=headers, timeout=2.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer {probe} within {timeout:.0f} s")


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
