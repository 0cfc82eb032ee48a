"""Alert state in SQLite, so a restart neither forgets nor re-announces an alert.

The engine commits one evaluation's changes (alert rows, history events and
the notifications they cause) in ONE transaction: either the daemon knows it
notified and the outbox holds the notification, or neither happened and the
next evaluation does it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ocrfleet.i18n.readers import english_utc
from ocrfleet.i18n.text import Words, decode_words, encode_words
from ocrfleet.notify.notification import Notification
from ocrfleet.notify.outbox import insert_notifications
from ocrfleet.store.connections import StoreConnections, StoreError, store_errors


@dataclass(slots=True)
class AlertRecord:
    key: str
    rule: str
    labels: dict[str, str]
    severity: str
    summary: Words
    description: Words
    state: str  # "pending" or "firing"
    active_since: float  # when the problem was first found, this episode
    firing_since: float | None
    last_active: float  # the last evaluation that found it
    last_notified: float | None  # the last firing notification (None: never told)
    detail: str = ""  # for IT: OID names, raw values; never translated


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A line of `alert_events`: history for reports (fired, resolved)."""

    key: str
    rule: str
    site: str | None
    device: str | None
    severity: str
    status: str
    at: float


class AlertStore:
    def __init__(self, connections: StoreConnections) -> None:
        # Built on one thread, then used by one evaluation at a time.
        self._path = connections.path
        self._db = connections.connect(any_thread=True)
        self._english = english_utc().speaker()

    def load(self) -> dict[str, AlertRecord]:
        with store_errors(self._path):
            rows = self._db.execute(
                "SELECT key, rule, labels, severity, summary, description, state, active_since,"
                " firing_since, last_active, last_notified, words FROM alerts"
            ).fetchall()
        return {row[0]: _record(row) for row in rows}

    def commit(
        self,
        changed: Iterable[AlertRecord],
        removed: Iterable[str],
        events: Iterable[AlertEvent],
        notifications: Sequence[Notification],
        now: float,
    ) -> None:
        db = self._db
        # Everything is put into rows before the transaction starts: a value
        # that cannot be stored must not leave a transaction open.
        try:
            rows = [self._row(r) for r in changed]
        except Exception as exc:
            raise StoreError(f"alert state not saved: {exc}") from exc
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO alerts (key, rule, labels, severity, summary,"
                " description, state, active_since, firing_since, last_active, last_notified,"
                " words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany("DELETE FROM alerts WHERE key = ?", [(key,) for key in removed])
            db.executemany(
                "INSERT INTO alert_events (key, rule, site, device, severity, status, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.key, e.rule, e.site, e.device, e.severity, e.status, e.at) for e in events],
            )
            insert_notifications(db, notifications, now)
            db.execute("COMMIT")
        except Exception as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"alert state not saved: {exc}") from exc

    def _row(self, r: AlertRecord) -> tuple[Any, ...]:
        return (
            r.key,
            r.rule,
            json.dumps(r.labels, sort_keys=True),
            r.severity,
            self._english.say(r.summary),
            self._english.say(r.description),
            r.state,
            r.active_since,
            r.firing_since,
            r.last_active,
            r.last_notified,
            json.dumps(
                {
                    "summary": encode_words(r.summary),
                    "description": encode_words(r.description),
                    "detail": r.detail,
                }
            ),
        )

    def close(self) -> None:
        self._db.close()


def _record(row: Sequence[Any]) -> AlertRecord:
    summary: Words = row[4]
    description: Words = row[5]
    detail = ""
    if row[11] is not None:
        # Rows from before migration 7 have only the English words.
        words = json.loads(row[11])
        summary = decode_words(words["summary"])
        description = decode_words(words["description"])
        detail = words["detail"]
    return AlertRecord(
        key=row[0],
        rule=row[1],
        labels=json.loads(row[2]),
        severity=row[3],
        summary=summary,
        description=description,
        state=row[6],
        active_since=row[7],
        firing_since=row[8],
        last_active=row[9],
        last_notified=row[10],
        detail=detail,
    )
