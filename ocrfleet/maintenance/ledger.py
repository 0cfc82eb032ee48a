"""The maintenance ledger: what was done to which device, when (SQLite `maintenance_log`).

Written by `ocrfleet maintenance done` and by evidence the rules find (a
cartridge swap); read by reminder rules through a LedgerView.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ocrfleet.devices import DeviceKey

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

    def last_done(self, device: DeviceKey, task: str) -> float | None:
        return self.last_done_at.get((device, task))


class MaintenanceLedger:
    """Access to `maintenance_log`; one object per thread that uses it."""

    def __init__(self, path: Path) -> None:
        raise NotImplementedError

    def record(
        self,
        device: DeviceKey,
        task: str,
        done_at: float,
        minutes: int | None,
        note: str,
        source: str,
        evidence_id: str | None = None,
    ) -> bool:
        """Add an entry; False if `evidence_id` was already logged (nothing added)."""
        raise NotImplementedError

    def view(self) -> LedgerView:
        raise NotImplementedError

    def entries(
        self, device: DeviceKey | None = None, since: float | None = None
    ) -> list[MaintenanceEntry]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
