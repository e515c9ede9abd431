"""What one run is told: the options (options.py), with tokens filled from the
environment and the seed chosen, checked before anything is sent."""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import UsageError
from .options import OPTIONS, TOKEN_OPTIONS

__all__ = ["QUICK_MAX_EXAMPLES", "RunConfig"]

DEFAULT_MAX_EXAMPLES = 30
QUICK_MAX_EXAMPLES = 4
_DEFAULTS = {option.dest: option.default for option in OPTIONS}


@dataclass
class RunConfig:
    base_url: str
    token: str
    other_token: str | None = None
    revoked_token: str | None = None
    read_only: bool = _DEFAULTS["read_only"]
    strict: bool = _DEFAULTS["strict"]
    profile: str | None = None
    spec: str | None = None
    seed: int = field(default_factory=lambda: random.randrange(2**31))
    max_examples: int | None = None
    quick: bool = _DEFAULTS["quick"]
    max_requests: int = _DEFAULTS["max_requests"]
    rate: float = _DEFAULTS["rate"]
    request_timeout: float = _DEFAULTS["request_timeout"]
    max_retries: int = _DEFAULTS["max_retries"]
    retry_seconds: float = _DEFAULTS["retry_seconds"]
    max_response_bytes: int = _DEFAULTS["max_response_bytes"]
    example_db: str | None = None
    rule: list[str] | None = None
    run_id: str = field(default_factory=lambda: f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}")

    @classmethod
    def from_options(cls, values: Mapping[str, Any]) -> RunConfig:
        """From option values by dest (argparse or the pytest plugin), tokens from
        the environment when not given; UsageError for what cannot run."""
        chosen = {k: v for k, v in values.items() if v is not None}
        for option in TOKEN_OPTIONS:
            if not chosen.get(option.dest) and option.env:
                chosen[option.dest] = os.environ.get(option.env) or None
        base_url = chosen.get("base_url")
        if not base_url:
            raise UsageError("--base-url is required")
        parts = urlsplit(str(base_url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError("--base-url must be an http(s) URL such as https://dentare.io/api/v1")
        if parts.username is not None or parts.password is not None:
            # Never echoed: it may hold a password.
            raise UsageError("--base-url must not hold credentials (user:pass@); pass tokens with --token")
        if not chosen.get("token"):
            raise UsageError("a token is required: --token or $DENTARE_TOKEN")
        for name, minimum in (
            ("max_requests", 1),
            ("request_timeout", 0.1),
            ("max_retries", 0),
            ("retry_seconds", 0),
            ("max_response_bytes", 1024),
            ("rate", 0),
        ):
            if name in chosen and chosen[name] < minimum:
                raise UsageError(f"--{name.replace('_', '-')} must be at least {minimum}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in chosen.items() if k in known and v is not None})

    @property
    def examples(self) -> int:
        if self.max_examples is not None:
            return self.max_examples
        return QUICK_MAX_EXAMPLES if self.quick else DEFAULT_MAX_EXAMPLES

    @property
    def secrets(self) -> dict[str, str]:
        """The tokens by the environment variable that carries them (to mask them)."""
        return {
            str(option.env): str(getattr(self, option.dest)) for option in TOKEN_OPTIONS if getattr(self, option.dest)
        }
