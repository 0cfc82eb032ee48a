"""Silences: "do not notify about this site (or device) until then", set by people.

They live in the store's `silences` table, so that `ocrfleet silence` can set
one while the daemon runs; the daemon's SilenceSuppressor reads them back
every few seconds.
"""

from __future__ import annotations

import builtins
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocrfleet.clock import Clock, SystemClock
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.store.connections import StoreConnections, StoreError

log = logging.getLogger(__name__)

# Silences are set by hand and rarely; a few seconds' delay before the daemon
# honours one costs nothing and spares the store a query per alert.
DEFAULT_REFRESH_INTERVAL = 5.0

_COLUMNS = "id, target, starts_at, ends_at, reason, created_by, created_at, removed_at"


class SilenceError(Exception):
    """A silence that cannot be added or removed, said in one line.

    `problem` says which for callers that answer differently: "invalid",
    "no_silence" or "already_removed".
    """

    def __init__(self, message: str, problem: str = "invalid") -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class SilenceTarget:
    """What a silence covers: every alert of a site, or of one device of it."""

    site: str
    device: str | None = None

    @classmethod
    def parse(cls, text: str) -> SilenceTarget:
        site, sep, device = text.partition("/")
        if not site or (sep and not device) or "/" in device:
            raise SilenceError(f'{text!r} is not a target: expected "SITE" or "SITE/DEVICE"')
        return cls(site, device or None)

    def matches(self, labels: Mapping[str, str]) -> bool:
        if labels.get("site") != self.site:
            return False
        return self.device is None or labels.get("device") == self.device

    def __str__(self) -> str:
        return self.site if self.device is None else f"{self.site}/{self.device}"


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    target: str
    starts_at: float
    ends_at: float
    reason: str
    created_by: str
    created_at: float
    removed_at: float | None = None

    def is_active(self, now: float) -> bool:
        return self.removed_at is None and self.starts_at <= now < self.ends_at

    def state(self, now: float) -> str:
        """ "active", "pending" (starts later), "expired" or "removed"."""
        if self.removed_at is not None:
            return "removed"
        if now >= self.ends_at:
            return "expired"
        return "pending" if now < self.starts_at else "active"

    def matches(self, labels: Mapping[str, str]) -> bool:
        try:
            return SilenceTarget.parse(self.target).matches(labels)
        except SilenceError:
            # A row written by hand with a malformed target silences nothing.
            return False


class SilenceStore:
    """Read and write the `silences` table; one object per thread that uses it."""

    def __init__(self, connections: StoreConnections, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._db = connections.connect()

    def close(self) -> None:
        self._db.close()

    def add(
        self, target: str, starts_at: float, ends_at: float, reason: str, created_by: str = ""
    ) -> int:
        SilenceTarget.parse(target)
        if ends_at <= starts_at:
            raise SilenceError("a silence must end after it starts")
        if not reason.strip():
            raise SilenceError("a silence needs a reason")
        cursor = self._db.execute(
            "INSERT INTO silences (target, starts_at, ends_at, reason, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (target, starts_at, ends_at, reason.strip(), created_by, self._clock.now()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, silence_id: int) -> Silence | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM silences WHERE id = ?", (silence_id,)
        ).fetchone()
        return _silence(row) if row is not None else None

    def list(self, now: float, include_expired: bool = False) -> builtins.list[Silence]:
        """Silences not yet over (active or pending); with include_expired, every one."""
        if include_expired:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM silences ORDER BY id")
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM silences "
                "WHERE removed_at IS NULL AND ends_at > ? ORDER BY id",
                (now,),
            )
        return [_silence(row) for row in rows]

    def remove(self, silence_id: int, now: float) -> Silence:
        """End a silence now; returns it as it was."""
        silence = self.get(silence_id)
        if silence is None:
            raise SilenceError(f"there is no silence #{silence_id}", "no_silence")
        if silence.removed_at is not None:
            raise SilenceError(f"silence #{silence_id} was already removed", "already_removed")
        self._db.execute(
            "UPDATE silences SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (now, silence_id),
        )
        return silence


def _silence(row: tuple[Any, ...]) -> Silence:
    id_, target, starts_at, ends_at, reason, created_by, created_at, removed_at = row
    return Silence(
        id=int(id_),
        target=str(target),
        starts_at=float(starts_at),
        ends_at=float(ends_at),
        reason=str(reason),
        created_by=str(created_by),
        created_at=float(created_at),
        removed_at=None if removed_at is None else float(removed_at),
    )


class SilenceSuppressor:
    """The daemon's view of the silences: a Suppressor that reads the store now and then.

    It opens a connection afresh at each refresh, only reads, and never
    creates the store, so it works from any thread and never holds the writer up.
    """

    def __init__(
        self,
        connections: StoreConnections,
        clock: Clock,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
    ) -> None:
        self._connections = connections
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._silences: tuple[Silence, ...] = ()
        self._read_at: float | None = None
        self._log = RateLimitedLog(log, interval=300.0)

    def suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
        self._refresh()
        matching = [s for s in self._silences if s.is_active(now) and s.matches(labels)]
        if not matching:
            return None
        # The one that holds longest says when notifications resume.
        silence = max(matching, key=lambda s: (s.ends_at, s.id))
        return f"silenced #{silence.id} until {_until(silence.ends_at, now)}: {silence.reason}"

    def _refresh(self) -> None:
        checked_at = self._clock.now()
        if self._read_at is not None and 0 <= checked_at - self._read_at < self._refresh_interval:
            return
        self._read_at = checked_at
        try:
            self._silences = tuple(self._read(checked_at))
        except (sqlite3.Error, OSError, StoreError) as exc:
            # Keeping the last silences read is safer than notifying about
            # everything because the store was busy for a moment.
            self._log.warning(
                "silences",
                "cannot read silences from %s: %s; keeping the %d read before",
                self._connections.path,
                exc,
                len(self._silences),
            )

    def _read(self, now: float) -> builtins.list[Silence]:
        db = self._connections.connect_existing(timeout=1.0)
        try:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM silences WHERE removed_at IS NULL AND ends_at > ?",
                (now,),
            ).fetchall()
        finally:
            db.close()
        return [_silence(row) for row in rows]


def _until(ends_at: float, now: float) -> str:
    end = datetime.fromtimestamp(ends_at, UTC)
    if end.date() == datetime.fromtimestamp(now, UTC).date():
        return end.strftime("%H:%M UTC")
    return end.strftime("%Y-%m-%d %H:%M UTC")
