"""The one owner of a store file's SQLite connections.

Whoever composes the parts (the App, a CLI command) makes one
StoreConnections per store file and hands it to every part that uses the
file. It brings the schema up to date before the first connection, sets
every connection up the same way, keeps account of the ones still open, and
closes them all in `close()`: a stopped daemon leaves no connection behind,
whichever part forgot to close its own. Nothing else opens the file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ocrfleet.store.health import damaged_message, is_corruption
from ocrfleet.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)


class StoreError(Exception):
    pass


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """sqlite3 errors as StoreError naming the file: callers handle one exception
    for every store problem (locked, read-only, corrupt)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(error_message(path, exc)) from exc


def error_message(path: Path, exc: sqlite3.Error | OSError) -> str:
    if is_corruption(exc):
        return damaged_message(path, str(exc))
    return f"{path}: {exc}"


class StoreConnections:
    """Hands out connections to the SQLite file at `path`; closes them all at the end.

    Thread-safe: parts on any thread may ask for a connection.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._migrating = threading.Lock()
        self._open: set[_Connection] = set()
        self._migrated = False
        self._closed = False

    def connect(self, *, any_thread: bool = False, timeout: float = 10.0) -> sqlite3.Connection:
        """A connection of its own, in autocommit mode; the file and its schema made first.

        Connections use WAL, which lets them work side by side. `any_thread`:
        the connection is handed between threads, one at a time (the caller's
        lock, or one user after another); otherwise only the calling thread
        may use it. `timeout`: how long a statement waits for another
        connection's lock. Raises StoreError.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._open_file(str(self.path), timeout, any_thread=any_thread)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode keeps the file consistent after a crash; a
                # power cut may lose the last transactions, which QoS 1 redelivers.
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                self._migrate_once(db)
            except BaseException:
                db.close()
                raise
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(error_message(self.path, exc)) from exc
        return db

    def connect_existing(self, *, timeout: float = 10.0) -> sqlite3.Connection:
        """A connection for this thread to the file as it is: never created nor migrated.

        For checks, backups and readers that must not make an empty store
        where there was none. Raises sqlite3.Error, which the caller words
        (StoreError once the owner is closed).
        """
        # mode=rw: a missing file is an error here, not a new empty database.
        return self._open_file(f"{self.path.resolve().as_uri()}?mode=rw", timeout, uri=True)

    def backup_to(self, target: Path) -> None:
        """Copy the file into `target` with SQLite's online backup API.

        The copy is consistent while other connections keep writing, and is a
        file on its own: no -wal beside it to lose when it is copied.
        Raises sqlite3.Error.
        """
        source = self.connect_existing()
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            source.close()

    @property
    def open_connections(self) -> int:
        """How many of the connections handed out are still open."""
        with self._lock:
            return len(self._open)

    def close(self) -> None:
        """Close every connection still open; none is handed out afterwards."""
        with self._lock:
            self._closed = True
            left, self._open = self._open, set()
        if left:
            log.debug("closing %d connections to %s left open", len(left), self.path)
        for db in left:
            db.close_for_owner()

    def _open_file(
        self, database: str, timeout: float, *, any_thread: bool = False, uri: bool = False
    ) -> _Connection:
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.path}: its connections were closed (shutting down)")
            # The owner may close any connection from its own thread at the
            # end; _Connection keeps a single-thread one to its thread meanwhile.
            db = sqlite3.connect(
                database,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
                uri=uri,
            )
            db.owner = weakref.ref(self)
            db.thread = None if any_thread else threading.get_ident()
            self._open.add(db)
        return db

    def _forget(self, db: _Connection) -> None:
        with self._lock:
            self._open.discard(db)

    def _migrate_once(self, db: sqlite3.Connection) -> None:
        # A second connection waits here until the first has migrated.
        with self._migrating:
            if self._migrated:
                return
            current = int(db.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"database schema version {current} is newer than this ocrfleet knows "
                    f"({len(MIGRATIONS)}); refusing to touch it"
                )
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                db.executescript(f"BEGIN; {script}; PRAGMA user_version = {version}; COMMIT;")
            self._migrated = True


class _Connection(sqlite3.Connection):
    """A connection handed out by StoreConnections.

    Closing it takes it off its owner's books. One made for a single thread
    refuses the others, as sqlite3's own check_same_thread would, except
    for its owner's final close().
    """

    # Weak: an owner nobody holds any more goes, with its connections, at once.
    owner: weakref.ref[StoreConnections] | None = None
    thread: int | None = None  # the only thread that may use it; None: any

    def close(self) -> None:
        self._check_thread()
        self.close_for_owner()

    def close_for_owner(self) -> None:
        owner = self.owner() if self.owner is not None else None
        if owner is not None:
            owner._forget(self)
        super().close()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._check_thread()
        return super().cursor(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        self._check_thread()
        return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        self._check_thread()
        return super().executemany(*args, **kwargs)

    def executescript(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        self._check_thread()
        return super().executescript(*args, **kwargs)

    def commit(self) -> None:
        self._check_thread()
        super().commit()

    def rollback(self) -> None:
        self._check_thread()
        super().rollback()

    def backup(self, *args: Any, **kwargs: Any) -> None:
        self._check_thread()
        super().backup(*args, **kwargs)

    def _check_thread(self) -> None:
        here = threading.get_ident()
        if self.thread is not None and self.thread != here:
            raise sqlite3.ProgrammingError(
                "SQLite objects created in a thread can only be used in that same thread. "
                f"The object was created in thread id {self.thread} and this is thread id {here}."
            )
