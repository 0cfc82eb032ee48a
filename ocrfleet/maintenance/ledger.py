"""The maintenance ledger: what was done to which device, when (SQLite `maintenance_log`).

Written by `ocrfleet maintenance done` and by evidence the rules find (a
cartridge swap); read by reminder rules through a LedgerView.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocrfleet.devices import DeviceKey
from ocrfleet.store.connections import StoreConnections, store_errors

# Task names the core's reminder rules use.
MONTHLY_TASK = "monthly"
RENEWAL_TASK = "renewal"


@dataclass(frozen=True, slots=True)
class MaintenanceEntry:
    id: int
    device: DeviceKey
    task: str
    done_at: float
    minutes: int | None
    note: str
    source: str  # "cli" or "evidence:<rule>"
    evidence_id: str | None = None


@dataclass(frozen=True)
class LedgerView:
    """The ledger as rules see it: the last time each task was done per device."""

    last_done_at: Mapping[tuple[DeviceKey, str], float] = field(default_factory=dict)
    # When the daemon first heard from each device (the store's `devices`
    # table): maintenance of a device never maintained counts from there.
    known_since: Mapping[DeviceKey, float] = field(default_factory=dict)

    def last_done(self, device: DeviceKey, task: str) -> float | None:
        return self.last_done_at.get((device, task))

    def tasks_of(self, device: DeviceKey) -> list[str]:
        """Every task logged for the device, sorted by name."""
        return sorted(task for key, task in self.last_done_at if key == device)


_COLUMNS = "id, site, device, task, done_at, minutes, note, source, evidence_id"


class MaintenanceLedger:
    """Access to `maintenance_log`; one object per thread that uses it."""

    def __init__(self, connections: StoreConnections) -> None:
        self.path = connections.path
        # Built on one thread, then used by the event loop's thread only
        # (the daemon is constructed before its loop runs).
        self._db = connections.connect(any_thread=True)

    def record(
        self,
        device: DeviceKey,
        task: str,
        done_at: float,
        minutes: int | None,
        note: str,
        source: str,
        evidence_id: str | None = None,
    ) -> int | None:
        """Add an entry; its id, or None if `evidence_id` was already logged (nothing added)."""
        # The UNIQUE constraint on evidence_id makes a replayed piece of
        # evidence (the same swap seen again after a restart) a no-op.
        with store_errors(self.path):
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO maintenance_log "
                "(site, device, task, done_at, minutes, note, source, evidence_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (device.site, device.device, task, done_at, minutes, note, source, evidence_id),
            )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def view(self) -> LedgerView:
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT site, device, task, max(done_at) FROM maintenance_log "
                "GROUP BY site, device, task"
            ).fetchall()
            seen = self._db.execute("SELECT site, device, first_seen FROM devices").fetchall()
        return LedgerView(
            {(DeviceKey(site, device), task): at for site, device, task, at in rows},
            {DeviceKey(site, device): at for site, device, at in seen},
        )

    def entries(
        self, device: DeviceKey | None = None, since: float | None = None
    ) -> list[MaintenanceEntry]:
        """Entries oldest first, of one device or all, done at or after `since`."""
        conditions: list[str] = []
        parameters: list[object] = []
        if device is not None:
            conditions.append("site = ? AND device = ?")
            parameters += [device.site, device.device]
        if since is not None:
            conditions.append("done_at >= ?")
            parameters.append(since)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        with store_errors(self.path):
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM maintenance_log{where} ORDER BY done_at, id", parameters
            ).fetchall()
        return [_entry(row) for row in rows]

    def entry(self, entry_id: int) -> MaintenanceEntry | None:
        with store_errors(self.path):
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM maintenance_log WHERE id = ?", (entry_id,)
            ).fetchone()
        return None if row is None else _entry(row)

    def close(self) -> None:
        self._db.close()


def _entry(row: Sequence[Any]) -> MaintenanceEntry:
    return MaintenanceEntry(
        id=row[0],
        device=DeviceKey(row[1], row[2]),
        task=row[3],
        done_at=row[4],
        minutes=row[5],
        note=row[6],
        source=row[7],
        evidence_id=row[8],
    )
