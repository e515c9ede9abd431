"""Run wrk against one loopback server and read back its numbers.

Each load is bounded by wrk's own `-d` and a subprocess timeout on top, and
targets 127.0.0.1 only. The Lua script rotates through the given paths, so a
scenario is measured over several queries, not one lucky one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LoadResult", "have_wrk", "run_wrk"]

_TEMPLATE = Path(__file__).with_name("wrk_template.lua")


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "mean_ms": self.mean_ms,
            "errors": self.errors,
        }


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    paths: Sequence[str],
    *,
    connections: int,
    seconds: float,
    script_dir: Path,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """`wrk -t1 -c<connections> -d<seconds>` rotating over `paths` (each already URL-encoded)."""
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the bench loads loopback servers only, not {host!r}")
    prefix = urlsplit(base_url).path.rstrip("/")
    script = script_dir / f"wrk-{abs(hash((tuple(paths), method, body))) & 0xFFFFFFFF:08x}.lua"
    script.write_text(_lua([prefix + p for p in paths], method, body, headers or {}), encoding="utf-8")
    duration = max(1, round(seconds))
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {done.returncode}): {done.stderr.strip()[:500]}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    latency = raw["latency_us"]
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        errors={k: v for k, v in raw["errors"].items() if v},
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
    )


def _lua(paths: Sequence[str], method: str, body: bytes | None, headers: Mapping[str, str]) -> str:
    for path in paths:
        if not path.isascii() or any(ch in path for ch in '"\\\n'):
            raise ValueError(f"path must be URL-encoded ASCII: {path!r}")
    header_lines = "\n".join(f'wrk.headers["{_lua_str(k)}"] = "{_lua_str(v)}"' for k, v in headers.items())
    return _TEMPLATE.read_text(encoding="utf-8") % {
        "paths": ", ".join(f'"{p}"' for p in paths),
        "method": method,
        "body": "nil" if body is None else f"[==[{body.decode('ascii')}]==]",
        "headers": header_lines,
    }


def _lua_str(text: str) -> str:
    if not text.isascii() or any(ch in text for ch in '"\\\n\r'):
        raise ValueError(f"header text must be plain ASCII: {text!r}")
    return text
