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
    """One start or end. `stream`, `seq` and `oldest` come with numbered delivery
    (interface version 2): the source's journal, the event's number in it, and
    the lowest number the source still holds."""

    type: SessionEventType
    session_id: str
    started_at: float
    ended_at: float | None = None
    stream: str | None = None
    seq: int | None = None
    oldest: int | None = None

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


def implausible_times(
    event: SessionEvent, now: float, max_future: float, max_duration: float
) -> str | None:
    """Why an event's times cannot be true by the daemon's clock, or None.

    A start dated in 2999 would keep a seat "in use" for good, and an end
    that started in 1970 would add decades of usage to the report.
    """
    latest = event.ended_at if event.ended_at is not None else event.started_at
    if latest > now + max_future:
        return f"dated {latest - now:.0f} s in the future (sessions.max_clock_skew)"
    if event.ended_at is None:
        if event.started_at < now - max_duration:
            return f"started {now - event.started_at:.0f} s ago (sessions.max_duration)"
    elif event.ended_at - event.started_at > max_duration:
        return f"lasted {event.ended_at - event.started_at:.0f} s (sessions.max_duration)"
    return None
