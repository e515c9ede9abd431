"""Helpers the kit's tests share (fixtures built on them are in tests/conftest.py)."""

from .paths import FIXTURES_DIR, ROOT, SPEC_PATH
from .processes import RunningMock, free_port, serve_in_thread, spawn_mock, wait_until_up
from .tokens import AccountTokens, acting_as, load_tokens
from .tools import missing_tool, require, require_module

__all__ = [
    "FIXTURES_DIR",
    "ROOT",
    "SPEC_PATH",
    "AccountTokens",
    "RunningMock",
    "acting_as",
    "free_port",
    "load_tokens",
    "missing_tool",
    "require",
    "require_module",
    "serve_in_thread",
    "spawn_mock",
    "wait_until_up",
]
