"""A start-up cache for large generated stores.

Generating and indexing a million patients costs about a minute of CPU;
loading the finished store back takes seconds. So a store built with
`--generate N` (N >= SNAPSHOT_MIN_PATIENTS) is pickled to a per-user cache,
keyed by everything it was built from: the fixtures' bytes, the generation
settings, the Python version and the source of the modules that shape the
store. Any change gives a new key; a stale or unreadable file is ignored and
rebuilt. Only files in a private (0700) folder owned by this user are read,
since unpickling runs code. `--no-snapshot` turns the cache off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import sys
from pathlib import Path

from ..settings import MockSettings
from .memory import Store

__all__ = ["SNAPSHOT_MIN_PATIENTS", "load_snapshot", "save_snapshot", "snapshot_path"]

SNAPSHOT_MIN_PATIENTS = 50_000
CACHE_ENV = "DENTARE_MOCK_CACHE"
logger = logging.getLogger("mockserver")

_PACKAGE = Path(__file__).resolve().parents[1]
# The modules whose code decides what a generated store holds.
_SHAPING_MODULES = ("domain", "store")


def snapshot_path(settings: MockSettings) -> Path | None:
    """Where the store for `settings` is cached, or None when it is not worth caching."""
    if not settings.snapshot or settings.generate < SNAPSHOT_MIN_PATIENTS:
        return None
    key = hashlib.sha256()
    key.update(repr((sys.version, settings.generate, settings.generate_account, settings.seed)).encode())
    for part in _SHAPING_MODULES:
        for module in sorted((_PACKAGE / part).glob("*.py")):
            key.update(module.read_bytes())
    key.update(settings.spec_path.read_bytes())  # the spec decides a patient's fields
    if settings.fixtures_dir is not None:
        for name in ("accounts.json", "patients.json"):
            path = settings.fixtures_dir / name
            key.update(path.read_bytes() if path.exists() else b"-")
    folder = Path(os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "dentare-mock"))
    return folder / f"store-{settings.generate}-{key.hexdigest()[:24]}.pickle"


def load_snapshot(path: Path) -> Store | None:
    try:
        if not _private(path.parent, path):
            return None
        with path.open("rb") as file:
            store = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file: rebuild instead
        logger.warning("ignoring the store snapshot %s: %s", path, exc)
        return None
    if not isinstance(store, Store):
        return None
    logger.info("loaded the generated store from %s", path)
    return store


def save_snapshot(store: Store, path: Path) -> None:
    """Best effort: a cache that cannot be written only costs the next start-up time."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            logger.warning("not caching the store: %s is not a private folder of this user", path.parent)
            return
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with tmp.open("wb") as file:
            pickle.dump(store, file, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError as exc:
        logger.warning("could not cache the generated store in %s: %s", path, exc.strerror or exc)


def _private(*paths: Path) -> bool:
    """Each owned by this user, and neither group- nor world-writable."""
    for item in paths:
        info = item.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True
