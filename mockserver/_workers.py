"""`--workers N`: uvicorn's supervisor, each worker listening on a socket of its own.

uvicorn's workers share one listening socket, and whichever is awake first
accepts every connection waiting on it: a client opening 16 keep-alive
connections at once got 14 on one worker and 2 on the other, which then idled
for the whole run (bench/README.md). Here each worker is handed a socket of
its own, bound to the same port with SO_REUSEPORT, so the kernel spreads new
connections over the workers' sockets by their addresses' hash. Each socket is
bound in this (the supervising) process, as uvicorn binds its one, and listened
on by the worker that gets it; this process closes its copy once the worker is
started, so a dead worker's socket goes with it and no connection waits on a
socket nobody accepts from. uvicorn's supervisor does the rest as before:
signals, health checks, restarting a worker that died.
"""

from __future__ import annotations

import socket
from typing import Any

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess

__all__ = ["OwnSocketWorkers", "reuse_port_socket"]


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` that other SO_REUSEPORT sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class OwnSocketWorkers(Multiprocess):
    """`Multiprocess` whose every new worker gets a new socket (`sockets` is read once per worker)."""

    def __init__(self, config: Config) -> None:
        self._handed: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        sock = reuse_port_socket(self.config.host, self.config.port)
        self._handed.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, _: Any) -> None:
        pass  # Multiprocess.__init__ sets its list; every worker gets a fresh one instead

    def keep_subprocess_alive(self) -> None:
        # Workers are started (spawned, their descriptors passed) in this thread
        # before it gets here; the worker holds its socket now.
        while self._handed:
            self._handed.pop().close()
        super().keep_subprocess_alive()

    def join_all(self) -> None:
        super().join_all()
        while self._handed:
            self._handed.pop().close()
