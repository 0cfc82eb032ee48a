"""Usage sessions of a device: a visitor sits down, a visitor leaves.

Sessions carry an opaque id and timestamps only; who used the device is never
known to the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SessionEventType(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True, slots=True)
class SessionEvent:
    type: SessionEventType
    session_id: str
    started_at: float
    ended_at: float | None = None

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.started_at)


# Public PC sessions run from a quick print (minutes) to an afternoon of
# guidance (hours); the buckets follow that range.
SESSION_DURATION_BUCKETS: tuple[float, ...] = (
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    28800.0,
)
