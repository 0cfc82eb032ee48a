"""Deleting history older than the retention (`store.retention`, default 400 days).

Kept whatever their age: sessions still open (a visitor is on the PC), alert
state (`alerts`), silences, the devices seen, and the maintenance ledger,
which is a record of work done that reminders count from.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from ocrfleet.notify.outbox import FINISHED_STATES
from ocrfleet.store.connections import StoreConnections, StoreError

_DAILY_TABLES = ("site_daily", "kind_daily", "device_daily", "site_figure_daily")


@dataclass(frozen=True, slots=True)
class PurgeResult:
    sessions: int
    alert_events: int
    notifications: int
    daily_rows: int


def purge_history(store: StoreConnections, now: float, retention: float) -> PurgeResult:
    """Delete what ended before `now - retention`, in one transaction.

    Daily rows go by their date: a day is dropped once the whole of it (in
    UTC, a few hours either way do not matter at this scale) is too old.
    """
    cutoff = now - retention
    cutoff_day = datetime.fromtimestamp(cutoff, UTC).date().isoformat()
    db = store.connect()  # creates the tables on a store that has none yet
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            sessions = db.execute(
                "DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?", (cutoff,)
            ).rowcount
            events = db.execute("DELETE FROM alert_events WHERE at < ?", (cutoff,)).rowcount
            marks = ", ".join("?" for _ in FINISHED_STATES)
            notifications = db.execute(
                f"DELETE FROM outbox WHERE state IN ({marks}) "
                "AND coalesce(finished_at, created_at) < ?",
                (*FINISHED_STATES, cutoff),
            ).rowcount
            daily = sum(
                db.execute(f"DELETE FROM {table} WHERE day < ?", (cutoff_day,)).rowcount
                for table in _DAILY_TABLES
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: {exc}") from exc
    finally:
        db.close()
    return PurgeResult(sessions, events, notifications, daily)
