"""When a site is open, in its own time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ocrfleet.config.hours import OpeningHours


@dataclass(frozen=True)
class SiteSchedule:
    opening_hours: OpeningHours
    timezone: str = "Europe/Brussels"
    # Local dates the site is closed whatever its hours say (the site's own
    # closures and the municipality's holidays).
    closed_days: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self._zone)

    def is_closed_day(self, t: float) -> bool:
        return self.local(t).date() in self.closed_days

    def is_open(self, t: float) -> bool:
        when = self.local(t)
        return when.date() not in self.closed_days and self.opening_hours.is_open(when)
