"""Where hypothesis keeps the examples a run found failing, so the next run
(on this machine, or on every runner of a fleet) replays them first.

`--example-db DIR` is a folder, `--example-db redis://host:port/N` a Redis
database shared by a fleet (hypothesis's own RedisExampleDatabase); without
it, a per-user cache folder. Hypothesis's working folder moves there too, so a
run never leaves a `.hypothesis/` in the caller's working directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from hypothesis import configuration
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from ._exceptions import UsageError

__all__ = ["cache_dir", "example_database"]


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "dentare-contract"


def _writable_home() -> Path:
    """The cache folder, or (a container user without a home, a read-only
    home) one in the temporary folder, said once on stderr: a run never stops
    for want of a place to keep its examples."""
    home = cache_dir()
    try:
        home.mkdir(parents=True, exist_ok=True)
        return home
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / f"dentare-contract-{os.getuid()}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        print(
            f"dentare-contract: cannot create {home} ({exc.strerror}); keeping examples in {fallback}", file=sys.stderr
        )
        return fallback


def example_database(where: str | None) -> ExampleDatabase:
    home = _writable_home()
    configuration.set_hypothesis_home_dir(str(home / "hypothesis"))
    if where is None:
        return DirectoryBasedExampleDatabase(str(home / "examples"))
    if where.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError:  # pragma: no cover - a declared dependency
            raise UsageError("--example-db redis://... needs the redis package: pip install redis") from None
        client = redis.Redis.from_url(where)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise UsageError(f"--example-db {where}: Redis does not answer ({exc})") from None
        return RedisExampleDatabase(client, key_prefix=b"dentare-contract:")
    try:
        Path(where).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--example-db {where}: cannot create the folder ({exc.strerror})") from None
    return DirectoryBasedExampleDatabase(where)
