"""Servers the tests and the benches start, on free loopback ports, stopped by
PID: any command (`spawn_server`, bench/_servers.py builds on it), the mock as
the real CLI with `--check-responses` (`spawn_mock`), an ASGI app in a thread."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import httpx
import pytest
import uvicorn

from mockserver.web.selfcheck import SELF_CHECK_PREFIX

from .paths import ROOT

__all__ = [
    "RunningMock",
    "free_port",
    "serve_in_thread",
    "spawn_mock",
    "spawn_server",
    "stop_process",
    "wait_until_up",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str,
    timeout: float = 30.0,
    process: subprocess.Popen[Any] | None = None,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> None:
    """Until `url` answers (with `status`, when given); fails early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(url, headers=headers, timeout=2.0)
            if status is None or answer.status_code == status:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered {url} within {timeout} s")


def stop_process(process: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """SIGTERM to the process group a `spawn_server` process leads (the server and
    anything it forked: Prism's node, uvicorn's workers), SIGKILL after `timeout`.
    By PID, never by name."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def spawn_server(
    command: Sequence[str],
    ready_url: str,
    *,
    log: IO[bytes],
    timeout: float = 60.0,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """The one way the tests and the benches run a server: `command` from the repo
    root in a session of its own, its output into `log` (a file: a pipe nobody
    reads could fill and stall it), up once `ready_url` answers, stopped on exit."""
    process = subprocess.Popen(
        list(command),
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        try:
            wait_until_up(ready_url, timeout=timeout, process=process, headers=headers, status=status)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{_tail(log)}") from None
        yield process
    finally:
        stop_process(process)


def _tail(log: IO[bytes], size: int = 2000) -> str:
    with contextlib.suppress(OSError, ValueError):
        log.flush()
        log.seek(0)
        return log.read()[-size:].decode(errors="replace")
    return ""


@dataclass
class RunningMock:
    """A mock served on a real port."""

    root_url: str
    base_url: str
    process: subprocess.Popen[Any] | None = None
    log: Any = None  # a temporary file: a pipe nobody reads could fill and stall the server
    _final_output: str = ""

    def reset(self) -> None:
        httpx.post(f"{self.root_url}/__mock/reset", json={}, timeout=30).raise_for_status()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=15)
        if self.log is not None and not self.log.closed:
            self._final_output = self.output()
            self.log.close()

    def output(self) -> str:
        """What the server wrote to stderr (its log), also after it stopped."""
        if self.log is None:
            return ""
        if self.log.closed:
            return self._final_output
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextlib.contextmanager
def spawn_mock(*args: str, timeout: float = 60.0) -> Iterator[RunningMock]:
    """`dentare-mock *args` in a subprocess on a free port, stopped (by PID) on exit."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mockserver.cli",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--check-responses",
        *args,
    ]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by RunningMock.stop()
    mock = RunningMock(root_url=root, base_url=f"{root}/api/v1", log=log)
    try:
        with spawn_server(command, f"{root}/__mock/accounts", log=log, timeout=timeout) as process:
            mock.process = process
            yield mock
    finally:
        mock.stop()
    # Every answer the mock gave was validated against the spec by openapi-core
    # (mockserver/web/selfcheck.py); a violation fails the test that used it.
    violations = [line for line in mock.output().splitlines() if SELF_CHECK_PREFIX in line]
    if violations:
        pytest.fail("the mock broke its spec:\n" + "\n".join(violations[:20]), pytrace=False)


@contextlib.contextmanager
def serve_in_thread(app: Any, http: Any = "auto") -> Iterator[str]:
    """Serve an ASGI app with uvicorn (its HTTP protocol `http`) on a free port in a thread; yields the root URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", http=http)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield root
    finally:
        server.should_exit = True
        thread.join(timeout=15)
