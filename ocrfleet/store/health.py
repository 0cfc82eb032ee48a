"""Whether the store can be written, for /healthz and the metrics.

The writer thread and the backup job report here; the HTTP threads read.
"""

from __future__ import annotations

import sqlite3
import threading
from enum import Enum
from pathlib import Path

# SQLite's primary result codes for a damaged file (the extended codes keep
# them in their low byte).
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


class StoreOperation(Enum):
    """What failed; the label of `ocrfleet_store_errors_total`."""

    SESSIONS = "sessions"
    SEEN = "seen"
    TASK = "task"
    BACKUP = "backup"


def is_corruption(exc: BaseException) -> bool:
    """True when `exc`, or the sqlite3 error it wraps, says the file is damaged."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            code = getattr(seen, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        seen = seen.__cause__
    return False


def damaged_message(path: Path, detail: str) -> str:
    """The one line that tells an operator a store is damaged and what to do."""
    return (
        f"store {path} is damaged ({detail}): run 'ocrfleet store check' / 'ocrfleet store restore'"
    )


class StoreHealth:
    """The last write's outcome, the damage found (it never heals) and error counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._errors = {operation: 0 for operation in StoreOperation}
        self._failure: str | None = None
        self._damage: str | None = None

    @property
    def problem(self) -> str | None:
        """Why the store is unhealthy, or None while writes succeed."""
        return self._damage or self._failure

    @property
    def damaged(self) -> bool:
        return self._damage is not None

    def errors(self) -> dict[StoreOperation, int]:
        with self._lock:
            return dict(self._errors)

    def count(self, operation: StoreOperation) -> None:
        """A failure that does not make the store unhealthy (a backup)."""
        with self._lock:
            self._errors[operation] += 1

    def failed(self, operation: StoreOperation, exc: BaseException) -> bool:
        """Record a failed write; True when it is the first sign of damage."""
        with self._lock:
            self._errors[operation] += 1
            if is_corruption(exc):
                first = self._damage is None
                if first:
                    self._damage = damaged_message(self.path, _detail(exc))
                return first
            self._failure = f"store {self.path}: {operation.value} not written: {_detail(exc)}"
            return False

    def written(self) -> None:
        """A write committed: the cause of earlier failures has gone."""
        self._failure = None


def _detail(exc: BaseException) -> str:
    # A StoreError already names the file; keep only the sqlite3 message.
    cause = exc.__cause__
    return str(cause if isinstance(cause, sqlite3.Error) else exc)
