"""The mock's settings: one frozen object, filled by the CLI or by tests.

Plain data only (it is read by every layer, so it imports none of them).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dentare_spec import default_spec_path

from ._resources import default_fixtures_dir

__all__ = [
    "FAULT_KINDS",
    "MAX_LATENCY_MS",
    "FaultSettings",
    "MockSettings",
    "parse_fault_kinds",
    "settings_from_json",
    "settings_to_json",
]

FAULT_KINDS = ("429", "500", "502", "503", "504", "drop")
MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class FaultSettings:
    """What to inject (web/faults.py). Built only when fault injection is on."""

    #: Chance (0..1) that an API request gets one of `kinds` at random.
    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "503")
    #: Added to every API request, in milliseconds.
    latency_ms: int = 0
    #: Seed for the random faults; the same seed gives the same sequence.
    seed: int | None = None
    #: `Retry-After` seconds on 429 and 503.
    retry_after: int = 1

    def describe(self) -> str:
        parts = ["per-request headers X-Mock-Fault / X-Mock-Latency-Ms honoured"]
        if self.rate:
            seed = "random" if self.seed is None else self.seed
            parts.append(f"random faults {','.join(self.kinds)} at rate {self.rate:g} (seed {seed})")
        if self.latency_ms:
            parts.append(f"{self.latency_ms} ms added latency")
        return "; ".join(parts)


def parse_fault_kinds(text: str) -> tuple[str, ...]:
    """`"429,503"` -> ("429", "503"); ValueError naming what is not a fault."""
    kinds = tuple(k.strip().lower() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown fault {', '.join(unknown) or repr(text)}; use {', '.join(FAULT_KINDS)}")
    return kinds


@dataclass(frozen=True)
class MockSettings:
    spec_path: Path = field(default_factory=default_spec_path)
    #: A profile file (`decisions: {point: alternative}`): the mock answers by
    #: its choices at the spec's decision points (mockserver/decisions.py);
    #: None takes the kit's own choices.
    profile: Path | None = None
    #: Folder with accounts.json and patients.json; None starts with no data.
    fixtures_dir: Path | None = field(default_factory=default_fixtures_dir)
    #: Extra realistic patients generated into `generate_account` at start-up.
    generate: int = 0
    generate_account: int = 1
    seed: int = 4821
    #: Saved on shutdown and loaded on start-up instead of the fixtures, if it exists.
    state_file: Path | None = None
    #: Lets the control API answer clients other than loopback that send it.
    admin_key: str | None = None
    #: The address or name the server is bound to (`--host`): besides loopback names,
    #: the control API answers requests addressed to it (its Host check, web/control_guard.py).
    host: str | None = None
    #: Fault and latency injection for API requests (web/faults.py); None injects nothing.
    faults: FaultSettings | None = None
    #: Keep the answers to reads until the data they show changes (api/answers.py),
    #: for a backend that versions its data.
    answer_cache: bool = True
    #: Validate every API answer against the spec with openapi-core and log violations (web/selfcheck.py).
    check_responses: bool = False
    #: Origins allowed by CORS; empty means CORS stays off.
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    #: Request line and headers together; larger requests get 431.
    max_header_bytes: int = 32_768
    #: Where the state lives: "memory" (this process) or a PostgreSQL URL
    #: (postgresql://user@host:port/db), which any number of mock processes may share.
    store: str = "memory"
    #: Connections each process keeps open to a PostgreSQL store, in each of its two pools.
    pool_size: int = 4


# -- settings across processes ---------------------------------------------------------------
# `dentare-mock --workers N` starts N server processes, each building its app
# from the settings the CLI made: they travel as JSON in an environment variable.


def settings_to_json(settings: MockSettings) -> str:
    return json.dumps(_plain(settings))


def settings_from_json(text: str) -> MockSettings:
    """The settings `settings_to_json` wrote; ValueError if they are not such settings."""
    value = _typed(MockSettings, json.loads(text))
    assert isinstance(value, MockSettings)
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    return value


def _typed(kind: Any, value: Any) -> Any:
    """`value` (plain JSON) as `kind`, a type hint of the settings' fields."""
    if value is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return _typed(real[0], value) if len(real) == 1 else value
    if origin is tuple:
        return tuple(_typed(args[0], item) for item in value)
    if origin is frozenset:
        return frozenset(_typed(args[0], item) for item in value)
    if kind is Path:
        return Path(value)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        return kind(**{name: _typed(hints[name], item) for name, item in value.items()})
    return value
