"""Servers the tests start: the mock as a subprocess (the real CLI, with
`--check-responses`), an ASGI app in a thread; on free loopback ports, stopped
by PID."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from mockserver.web.selfcheck import SELF_CHECK_PREFIX

from .paths import ROOT

__all__ = ["RunningMock", "free_port", "serve_in_thread", "spawn_mock", "wait_until_up"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=1.0)
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered {url} within {timeout} s")


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
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by RunningMock.stop()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--check-responses",
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    root = f"http://127.0.0.1:{port}"
    mock = RunningMock(root_url=root, base_url=f"{root}/api/v1", process=process, log=log)
    try:
        try:
            wait_until_up(f"{root}/__mock/accounts", timeout=timeout, process=process)
        except RuntimeError as exc:
            output = mock.output()[-2000:]
            raise RuntimeError(f"{exc}\n{output}") from None
        yield mock
    finally:
        mock.stop()
    # Every answer the mock gave was validated against the spec by openapi-core
    # (mockserver/web/selfcheck.py); a violation fails the test that used it.
    violations = [line for line in mock.output().splitlines() if SELF_CHECK_PREFIX in line]
    if violations:
        pytest.fail("the mock broke its spec:\n" + "\n".join(violations[:20]), pytrace=False)


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port in a thread; yields the root URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
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
