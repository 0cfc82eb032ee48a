"""Acknowledgements: "I have seen this alert and am on it", said by a person.

An acknowledgement belongs to one episode of a firing alert: its key and
its `active_since`. While it stands, the engine sends no reminders of that
alert; the alert still resolves, and its resolution is still notified. An
alert that resolves and comes back is a new episode, not acknowledged.

They live in the store's `acknowledgements` table, so that the web pages
(or any other process) can write them while the daemon runs; the engine
reads the ones that match a current alert once per evaluation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ocrfleet.clock import Clock, SystemClock
from ocrfleet.store.connections import StoreConnections, store_errors

MAX_COMMENT = 500
MAX_NAME = 100

# Only acknowledgements of the episode the `alerts` table holds now: an
# older episode's row is history, not a current acknowledgement.
_CURRENT = (
    "SELECT a.key, a.active_since, a.acknowledged_by, a.acknowledged_at, a.comment"
    " FROM acknowledgements AS a"
    " JOIN alerts AS l ON l.key = a.key AND l.active_since = a.active_since"
)


AckProblem = Literal["no_alert", "not_firing", "invalid", "not_acknowledged"]


class AckError(Exception):
    """An acknowledgement that cannot be made or withdrawn, said in one line.

    `problem` says which, for callers that answer differently (the web: 404
    for `no_alert` and `not_acknowledged`, 409 for `not_firing`, 400 for
    `invalid`) without reading the words.
    """

    def __init__(self, message: str, problem: AckProblem) -> None:
        super().__init__(message)
        self.problem: AckProblem = problem


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    key: str  # the alert's key (AlertRecord.key)
    active_since: float  # the episode acknowledged (AlertRecord.active_since)
    by: str  # who: the user name
    at: float
    comment: str = ""


class AckStore:
    """Make and withdraw acknowledgements; one object per thread that uses it.

    Each change is one short `BEGIN IMMEDIATE` transaction: the alert is
    read and the acknowledgement written under the same write lock, so an
    evaluation committing meanwhile (which may resolve the alert) comes
    either before or after, never in between.
    """

    def __init__(self, connections: StoreConnections, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._path = connections.path
        self._db = connections.connect()

    def close(self) -> None:
        self._db.close()

    def acknowledge(self, key: str, by: str, comment: str = "") -> Acknowledgement:
        """Acknowledge the firing alert `key` for its current episode; again: replaces.

        Raises AckError (no such alert, not firing yet, bad name or comment)
        or StoreError.
        """
        by, comment = by.strip(), comment.strip()
        if not by:
            raise AckError("an acknowledgement needs the name of who makes it", "invalid")
        if len(by) > MAX_NAME:
            raise AckError(f"a name of at most {MAX_NAME} characters, please", "invalid")
        if not by.isprintable():
            # It is shown in one-line places: a subject, an annotation.
            raise AckError("a name on one line, please", "invalid")
        if len(comment) > MAX_COMMENT:
            raise AckError(f"a comment of at most {MAX_COMMENT} characters, please", "invalid")
        with _immediate(self._db, self._path):
            row = self._db.execute(
                "SELECT state, active_since FROM alerts WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                raise AckError(
                    f"there is no firing alert {key!r} (it may have resolved)", "no_alert"
                )
            state, active_since = str(row[0]), float(row[1])
            if state != "firing":
                raise AckError(
                    f"alert {key!r} is not firing yet: nothing to acknowledge", "not_firing"
                )
            ack = Acknowledgement(key, active_since, by, self._clock.now(), comment)
            self._db.execute(
                "INSERT OR REPLACE INTO acknowledgements"
                " (key, active_since, acknowledged_by, acknowledged_at, comment)"
                " VALUES (?, ?, ?, ?, ?)",
                (ack.key, ack.active_since, ack.by, ack.at, ack.comment),
            )
        return ack

    def withdraw(self, key: str) -> Acknowledgement:
        """Withdraw the acknowledgement of `key`'s current episode; returns it as it was.

        The row goes: a withdrawn acknowledgement is not history worth
        keeping, and reminders resume from the next evaluation.
        Raises AckError (none) or StoreError.
        """
        with _immediate(self._db, self._path):
            row = self._db.execute(f"{_CURRENT} WHERE a.key = ?", (key,)).fetchone()
            if row is None:
                raise AckError(f"alert {key!r} is not acknowledged", "not_acknowledged")
            ack = _acknowledgement(row)
            self._db.execute(
                "DELETE FROM acknowledgements WHERE key = ? AND active_since = ?",
                (ack.key, ack.active_since),
            )
        return ack

    def current(self) -> dict[str, Acknowledgement]:
        """The acknowledgements of the alerts' current episodes, by alert key."""
        with store_errors(self._path):
            return read_current(self._db)


@contextmanager
def _immediate(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """One short write transaction; rolled back on any error, sqlite3's as StoreError.

    IMMEDIATE takes the write lock before the first read, so what is read
    cannot change before the write (a deferred one would fail with "database
    is locked" instead of waiting its busy timeout).
    """
    with store_errors(path):
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")


class AcknowledgementReader:
    """The engine's view of the acknowledgements: called once per evaluation.

    It opens a connection afresh at each call, only reads, and never creates
    the store, so it works from the evaluation's worker thread and never
    holds a writer up. Raises sqlite3.Error (StoreError once the daemon's
    connections are closed); the engine keeps what it read before.
    """

    def __init__(self, connections: StoreConnections, timeout: float = 1.0) -> None:
        self._connections = connections
        self._timeout = timeout

    def __call__(self) -> dict[str, Acknowledgement]:
        db = self._connections.connect_existing(timeout=self._timeout)
        try:
            return read_current(db)
        finally:
            db.close()


def read_current(db: sqlite3.Connection) -> dict[str, Acknowledgement]:
    return {row[0]: _acknowledgement(row) for row in db.execute(_CURRENT).fetchall()}


def _acknowledgement(row: tuple[Any, ...]) -> Acknowledgement:
    key, active_since, by, at, comment = row
    return Acknowledgement(str(key), float(active_since), str(by), float(at), str(comment))
