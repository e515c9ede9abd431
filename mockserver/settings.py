"""The mock's settings: one frozen object, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._resources import default_fixtures_dir, default_spec_path
from .faults import FaultSettings

__all__ = ["MockSettings"]


@dataclass(frozen=True)
class MockSettings:
    spec_path: Path = field(default_factory=default_spec_path)
    #: Folder with accounts.json and patients.json; None starts with no data.
    fixtures_dir: Path | None = field(default_factory=default_fixtures_dir)
    #: Extra realistic patients generated into `generate_account` at start-up.
    generate: int = 0
    generate_account: int = 1
    #: Cache a large generated store between start-ups (snapshot.py).
    snapshot: bool = True
    seed: int = 4821
    #: Saved on shutdown and loaded on start-up instead of the fixtures, if it exists.
    state_file: Path | None = None
    #: Lets the control API answer clients other than loopback that send it.
    admin_key: str | None = None
    #: Fault and latency injection for API requests (faults.py); None injects nothing.
    faults: FaultSettings | None = None
    #: Validate every API answer against the spec with openapi-core and log violations (selfcheck.py).
    check_responses: bool = False
    #: Origins allowed by CORS; empty means CORS stays off.
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    #: Request line and headers together; larger requests get 431.
    max_header_bytes: int = 32_768
