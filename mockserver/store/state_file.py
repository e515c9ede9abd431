"""The state file (`--state-file`): every change the mock acknowledges is on
disk before the answer is sent.

Decided: the file is a SQLite database (stdlib `sqlite3`) in WAL mode with
`synchronous=FULL`, not a hand-written append-only journal. Both cost one
fsync per acknowledged write (measured in bench/durability.py); SQLite also
gives, without code of ours to get wrong: all-or-nothing transactions for the
writes that touch many rows (a CSV import, a reset, `PUT /__mock/state`),
recovery of a torn last write after a crash or a power cut, no compaction
step at shutdown (a journal must be folded into a snapshot, which a SIGKILL
can interrupt), and a file anyone can inspect with the `sqlite3` shell. The
memory store stays the one that answers (store/memory.py); this file only
records. Rows hold the same JSON records as a state document
(store/documents.py), so loading one is loading a document.

What it guarantees:

* `write(change)` returns only once the change is committed and fsynced;
  if it raises `NotSaved`, nothing of the change is in the file.
* One process at a time: the database is opened in exclusive locking mode, so
  a second mock (or `import-csv --state-file`) on the same file is refused at
  start instead of both writing and one overwriting the other.
* The file, its write-ahead log and its migration temp file are created 0600
  by this module, with O_CREAT|O_EXCL|O_NOFOLLOW, before SQLite opens them; a
  state file or log that is a symbolic link is refused; a temp file left by a
  killed migration is removed at start.
* A state file of another format, or without its tables or its "complete"
  marker while it holds data, is refused before anything is written to it.
* A state file in the kit's earlier JSON format is migrated in place (the
  JSON is kept beside it as `<name>.bak`, by a hard link).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import FixtureError, NotSaved

__all__ = ["APPLICATION_ID", "Change", "StateFile", "migrate_json", "probe", "remove_leftovers"]

logger = logging.getLogger("mockserver")

#: PRAGMA application_id of a dentare-mock state file ("DNTA").
APPLICATION_ID = 0x444E5441
FORMAT_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
_SIDECARS = ("-wal", "-journal", "-shm")
_PROBED_BYTES = 4096  # what `probe` reads to tell a JSON document from a damaged file
_TABLES = ("accounts", "tokens", "patients")  # what a state holds (and meta, what the file says of it)
_NEW_FILE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS patients (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Change:
    """What one acknowledged write changes, as rows: patients and tokens as
    their state-document records, or a whole document that replaces every row."""

    patients: Sequence[Mapping[str, Any]] = ()
    #: (account id, token record) pairs.
    tokens: Sequence[tuple[int, Mapping[str, Any]]] = ()
    replace: Mapping[str, Any] | None = field(default=None)


def probe(path: Path) -> str:
    """What is at `path`: "missing", "empty", "sqlite", "json" (text that is not
    SQLite's: reading it as JSON says clearly why it is not), or "binary"
    (neither: a damaged state file, most likely). FixtureError for a symbolic
    link or something that is not a regular file."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(info.st_mode):
        raise FixtureError(f"{path}: the state file is a symbolic link; give the path of the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise FixtureError(f"{path}: the state file is not a regular file")
    if info.st_size == 0:
        return "empty"
    with _open_nofollow(path, os.O_RDONLY) as fd:
        head = os.read(fd, _PROBED_BYTES)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    try:  # not final: the head may end inside a character
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _PROBED_BYTES)
    except UnicodeDecodeError:
        return "binary"
    return "binary" if b"\x00" in head else "json"


def remove_leftovers(path: Path) -> list[Path]:
    """Remove the temp files a killed migration of `path` left (`.<name>.<pid>.tmp`
    whose process is gone, owned by this user); the removed paths."""
    removed = []
    prefix = f".{path.name}."
    for candidate in path.parent.glob(f".{_glob_escape(path.name)}.*.tmp"):
        pid_text = candidate.name[len(prefix) : -len(".tmp")].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        info = candidate.lstat()
        if info.st_uid != os.getuid() or not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            continue
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()  # a symbolic link is removed, never followed
            removed.append(candidate)
    return removed


def migrate_json(path: Path, document: Mapping[str, Any]) -> Path:
    """Replace the JSON state file at `path` by a SQLite one holding `document`
    (already checked and normalized), atomically; the JSON stays as `<name>.bak`
    (or `.bak.N`), a hard link to the old file. The backup's path."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        created = StateFile.open(tmp)
        try:
            created.write(Change(replace=document))
        finally:
            created.close()
        backup = _free_name(path.with_name(path.name + ".bak"))
        os.link(path, backup, follow_symlinks=False)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return backup
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


class StateFile:
    """One open state file. Not thread-safe: the backend calls it from one
    worker thread at a time."""

    def __init__(self, path: Path, connection: sqlite3.Connection, inode: tuple[int, int]):
        self.path = path
        self._db = connection
        self._inode = inode
        self.closed = False

    @classmethod
    def open(cls, path: Path) -> StateFile:
        """Open (or create, 0600) the state file and take it for this process."""
        kind = probe(path)
        if kind == "json":
            raise FixtureError(f"{path}: a JSON state file must be migrated first (migrate_json)")
        if kind == "binary":
            raise FixtureError(
                f"{path} is not a state file: it does not begin as SQLite files do, nor is it JSON text. "
                f"If it was a dentare-mock state file, it is damaged: restore it (with {path.name}-wal, "
                "if one was beside it) from a copy, or give another --state-file; it was left as it is"
            )
        for suffix in _SIDECARS:
            sidecar = path.with_name(path.name + suffix)
            if sidecar.is_symlink():
                raise FixtureError(f"{sidecar}: a symbolic link where the state file's {suffix[1:]} goes; remove it")
        if kind == "missing":
            try:
                os.close(os.open(path, _NEW_FILE, 0o600))
            except FileExistsError:
                raise FixtureError(f"{path}: created by another process while starting; try again") from None
            _fsync_dir(path.parent)
        # The log too is ours, created the same way (SQLite would open it without O_EXCL|O_NOFOLLOW);
        # one that is there already holds writes to recover and is left as it is.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path.with_name(path.name + "-wal"), _NEW_FILE, 0o600))
        with _open_nofollow(path, os.O_RDWR) as fd:
            info = os.fstat(fd)
        try:
            # Autocommit mode: transactions are begun and committed explicitly below.
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.2)
        except sqlite3.Error as exc:
            raise FixtureError(f"{path}: cannot open the state file: {exc}") from None
        try:
            # Exclusive before WAL: no shared-memory file, and no second process.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("BEGIN IMMEDIATE")  # takes the lock now, so a second mock fails here
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if application_id not in (0, APPLICATION_ID) or (application_id == 0 and tables):
                raise FixtureError(f"{path}: a SQLite database that is not a dentare-mock state file")
            if application_id == APPLICATION_ID:
                _check_format(path, db.execute("PRAGMA user_version").fetchone()[0], tables)
            db.execute("COMMIT")
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FixtureError(f"{path}: the state file cannot use a write-ahead log (journal mode {mode})")
            # FULL: each commit fsyncs the log, so it survives a power cut, not only a crash.
            db.execute("PRAGMA synchronous=FULL")
            if application_id == 0:  # a new file (a state file is written only once it is checked)
                db.execute("BEGIN IMMEDIATE")
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    db.execute(statement)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={FORMAT_VERSION}")
                db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc):
                raise FixtureError(
                    f"{path}: the state file is in use by another process (a running dentare-mock?)"
                ) from None
            raise FixtureError(f"{path}: cannot open the state file: {exc}") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise FixtureError(f"{path}: not a usable state file: {exc}") from None
        except FixtureError:
            db.close()
            raise
        return cls(path, db, (info.st_dev, info.st_ino))

    # -- reading ------------------------------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        """The stored state as a document, or None for a new (never written) file."""
        try:
            if self._meta("initialized") is None:
                if any(self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in _TABLES):
                    raise FixtureError(
                        f"{self.path}: the state file holds data but was never marked complete (damaged or "
                        "edited by hand?); it is left as it is: give another --state-file, or remove this one"
                    )
                return None
            accounts = {
                account_id: {**orjson.loads(record), "tokens": []}
                for account_id, record in self._db.execute("SELECT id, record FROM accounts ORDER BY id")
            }
            for account_id, record in self._db.execute("SELECT account_id, record FROM tokens ORDER BY id"):
                accounts[account_id]["tokens"].append(orjson.loads(record))
            patients = [orjson.loads(r) for (r,) in self._db.execute("SELECT record FROM patients ORDER BY id")]
        except (sqlite3.Error, orjson.JSONDecodeError, KeyError) as exc:
            raise FixtureError(f"{self.path}: the state file cannot be read: {exc}") from None
        return {"accounts": list(accounts.values()), "patients": patients}

    # -- writing ------------------------------------------------------------------------------

    def write(self, change: Change) -> None:
        """Record `change` in one transaction, durably; NotSaved (and nothing written) otherwise."""
        self._check_same_file()
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            if change.replace is not None:
                self._replace(change.replace)
            if change.patients:
                db.executemany(
                    "INSERT OR REPLACE INTO patients (id, account_id, record) VALUES (?, ?, ?)",
                    [(p["id"], p["account_id"], orjson.dumps(p)) for p in change.patients],
                )
            if change.tokens:
                db.executemany(
                    "INSERT OR REPLACE INTO tokens (id, account_id, record) VALUES (?, ?, ?)",
                    [(t["id"], account_id, orjson.dumps(t)) for account_id, t in change.tokens],
                )
            db.execute("COMMIT")
        except (sqlite3.Error, orjson.JSONEncodeError, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            logger.error("the state file %s refused a change: %s", self.path, exc)
            raise NotSaved(_reason(exc)) from None

    def close(self) -> None:
        """Fold the write-ahead log into the file and release it. OSError if that fails
        (every acknowledged change is in the log already: the next start reads it)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise OSError(f"cannot checkpoint {self.path}: {exc}") from None
        finally:
            self._db.close()

    def _replace(self, document: Mapping[str, Any]) -> None:
        db = self._db
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")  # fixed table names, never input
        accounts, tokens = [], []
        for account in document.get("accounts", []):
            record = {k: v for k, v in account.items() if k != "tokens"}
            accounts.append((account["id"], orjson.dumps(record)))
            tokens += [(t["id"], account["id"], orjson.dumps(t)) for t in account.get("tokens", [])]
        db.executemany("INSERT INTO accounts (id, record) VALUES (?, ?)", accounts)
        db.executemany("INSERT INTO tokens (id, account_id, record) VALUES (?, ?, ?)", tokens)
        db.executemany(
            "INSERT INTO patients (id, account_id, record) VALUES (?, ?, ?)",
            ((p["id"], p["account_id"], orjson.dumps(p)) for p in document.get("patients", [])),
        )
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('initialized', '1')")

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file, so the file alone holds what was
        written so far (after it is created: it says it is a state file without its log)."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            logger.warning("cannot checkpoint %s (its log keeps the writes): %s", self.path, exc)

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_same_file(self) -> None:
        """A state file deleted or replaced while the mock runs would take writes
        into a file nobody can open again: refuse them instead."""
        try:
            info = os.stat(self.path, follow_symlinks=False)
        except OSError:
            raise NotSaved(f"{self.path} was removed while the mock was running") from None
        if (info.st_dev, info.st_ino) != self._inode:
            raise NotSaved(f"{self.path} was replaced while the mock was running")


def _check_format(path: Path, version: int, tables: set[str]) -> None:
    """A state file of this format, whole; FixtureError otherwise, the file untouched."""
    if version != FORMAT_VERSION:
        newer = "newer than" if version > FORMAT_VERSION else "other than"
        raise FixtureError(
            f"{path}: a state file of format {version}, {newer} this dentare-mock's ({FORMAT_VERSION}); "
            "it is left as it is: open it with the dentare-mock that wrote it, or give another --state-file"
        )
    missing = sorted({*_TABLES, "meta"} - tables)
    if missing:
        raise FixtureError(f"{path}: a damaged state file (no table {', '.join(missing)}); it is left as it is")


@contextlib.contextmanager
def _open_nofollow(path: Path, flags: int) -> Iterator[int]:
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise FixtureError(f"{path}: cannot open the state file: {exc.strerror or exc}") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_name(path: Path) -> Path:
    candidate, n = path, 0
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry in `folder` itself survive a power cut."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
