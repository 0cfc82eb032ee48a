"""The devices and sessions tables. One Store object per thread that uses it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.store.connections import StoreConnections, StoreError, store_errors

# Most parts import the store's error from here.
__all__ = ["SeenRecord", "SessionOutcome", "Store", "StoreError", "UsageSummary", "store_errors"]


class SessionOutcome(Enum):
    STARTED = "started"
    ENDED = "ended"
    WHOLE = "whole"  # an end whose start never arrived
    DUPLICATE = "duplicate"

    @property
    def is_new_session(self) -> bool:
        return self in (SessionOutcome.STARTED, SessionOutcome.WHOLE)


@dataclass(frozen=True, slots=True)
class SeenRecord:
    key: DeviceKey
    kind: str
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class UsageSummary:
    open_session: SessionEvent | None
    sessions_total: int


class Store:
    def __init__(self, connections: StoreConnections) -> None:
        """A connection of its own from `connections`; raises StoreError."""
        self.path = connections.path
        self._db = connections.connect()

    def schema_version(self) -> int:
        row = self._db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    # -- devices -----------------------------------------------------------

    def record_seen(self, seen: Mapping[DeviceKey, tuple[str, float]]) -> None:
        """Upsert last-seen times (kind, timestamp) in one transaction."""
        if not seen:
            return
        with self._transaction():
            self._db.executemany(
                """
                INSERT INTO devices (site, device, kind, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (site, device) DO UPDATE SET
                    kind = excluded.kind,
                    last_seen = max(last_seen, excluded.last_seen)
                """,
                [(k.site, k.device, kind, at, at) for k, (kind, at) in seen.items()],
            )

    def seen_devices(self) -> list[SeenRecord]:
        rows = self._db.execute(
            "SELECT site, device, kind, first_seen, last_seen FROM devices ORDER BY site, device"
        ).fetchall()
        return [SeenRecord(DeviceKey(r[0], r[1]), r[2], r[3], r[4]) for r in rows]

    # -- sessions ----------------------------------------------------------

    def record_session_events(
        self,
        events: Iterable[tuple[DeviceKey, SessionEvent]],
        positions: Mapping[tuple[DeviceKey, str], int] | None = None,
        now: float = 0.0,
    ) -> list[SessionOutcome]:
        """Store session events, and where their streams now stand, in one transaction.

        Returns, per event, what it changed: a redelivered event (same device,
        session id and type) changes nothing and is DUPLICATE, which is what
        makes QoS 1's at-least-once delivery count exactly once.
        """
        accepted = []
        with self._transaction():
            for key, event in events:
                accepted.append(self._record_session_event(key, event))
            if positions:
                self._db.executemany(
                    "INSERT INTO session_streams (site, device, stream, position, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, device, stream) DO UPDATE SET "
                    "position = max(position, excluded.position), updated_at = excluded.updated_at",
                    [(k.site, k.device, stream, n, now) for (k, stream), n in positions.items()],
                )
        return accepted

    def stream_position(self, key: DeviceKey, stream: str) -> int:
        """The highest event number committed for a device's stream; 0 if none."""
        row = self._db.execute(
            "SELECT position FROM session_streams WHERE site = ? AND device = ? AND stream = ?",
            (key.site, key.device, stream),
        ).fetchone()
        return int(row[0]) if row else 0

    def _record_session_event(self, key: DeviceKey, event: SessionEvent) -> SessionOutcome:
        if event.type is SessionEventType.START:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO sessions (site, device, session_id, started_at) "
                "VALUES (?, ?, ?, ?)",
                (key.site, key.device, event.session_id, event.started_at),
            )
            if cur.rowcount != 1:
                return SessionOutcome.DUPLICATE
            # One visitor at a time: an older session still open lost its end
            # (e.g. restore software wiped the agent's state at reboot). Only
            # older ones: a start delivered late must not close a newer session.
            self._db.execute(
                "UPDATE sessions SET ended_at = max(started_at, ?), closed_by = 'superseded' "
                "WHERE site = ? AND device = ? AND session_id != ? AND ended_at IS NULL "
                "AND started_at <= ?",
                (event.started_at, key.site, key.device, event.session_id, event.started_at),
            )
            return SessionOutcome.STARTED
        # A session closed as superseded may still get its real end: a version
        # 1 end delivered after the next session's start.
        cur = self._db.execute(
            "UPDATE sessions SET ended_at = ?, closed_by = 'agent' "
            "WHERE site = ? AND device = ? AND session_id = ? "
            "AND (ended_at IS NULL OR closed_by = 'superseded')",
            (event.ended_at, key.site, key.device, event.session_id),
        )
        if cur.rowcount == 1:
            return SessionOutcome.ENDED
        # An end whose start never arrived still is a whole session.
        cur = self._db.execute(
            "INSERT OR IGNORE INTO sessions "
            "(site, device, session_id, started_at, ended_at, closed_by) "
            "VALUES (?, ?, ?, ?, ?, 'agent')",
            (key.site, key.device, event.session_id, event.started_at, event.ended_at),
        )
        return SessionOutcome.WHOLE if cur.rowcount == 1 else SessionOutcome.DUPLICATE

    def close_stale_sessions(self, opened_before: float, max_duration: float) -> int:
        """End sessions open since before `opened_before`; their end is unknown.

        They are closed at `max_duration` after their start, the longest a
        session is believed to last, and marked 'stale'.
        """
        with self._transaction():
            cur = self._db.execute(
                "UPDATE sessions SET ended_at = started_at + ?, closed_by = 'stale' "
                "WHERE ended_at IS NULL AND started_at < ?",
                (max_duration, opened_before),
            )
        return int(cur.rowcount)

    def usage_summary(self) -> dict[DeviceKey, UsageSummary]:
        totals: dict[DeviceKey, int] = {
            DeviceKey(site, device): count
            for site, device, count in self._db.execute(
                "SELECT site, device, count(*) FROM sessions GROUP BY site, device"
            )
        }
        open_sessions: dict[DeviceKey, SessionEvent] = {}
        for site, device, session_id, started_at in self._db.execute(
            "SELECT site, device, session_id, started_at FROM sessions "
            "WHERE ended_at IS NULL ORDER BY started_at"
        ):
            open_sessions[DeviceKey(site, device)] = SessionEvent(
                SessionEventType.START, session_id, started_at
            )
        return {key: UsageSummary(open_sessions.get(key), total) for key, total in totals.items()}

    def session_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    def integrity_ok(self) -> bool:
        return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not exc_type:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:
            # SQLite rolls back by itself after some errors (a full disk, I/O):
            # a second ROLLBACK would hide the error that caused it.
            self._db.execute("ROLLBACK")
