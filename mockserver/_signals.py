"""Graceful stop on SIGTERM as on Ctrl-C.

uvicorn shuts down gracefully on SIGINT and SIGTERM (lifespan shutdown
included), then raises the signal again with the handler it found. For
SIGTERM that default handler kills the process, so nothing after
`uvicorn.run` would run (exit summaries, exit status). Inside this context
SIGTERM raises KeyboardInterrupt instead, which `uvicorn.run` swallows as it
does for Ctrl-C, and the caller carries on.

`ignoring_stop_signals` then covers the last step (closing the state file):
another Ctrl-C or SIGTERM there is ignored rather than cutting it short.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["ignoring_stop_signals", "sigterm_as_interrupt"]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signals are main-thread only
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def ignoring_stop_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
