"""When a site is open, in its own time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ocrfleet.config.hours import OpeningHours


@dataclass(frozen=True)
class SiteSchedule:
    opening_hours: OpeningHours
    timezone: str = "Europe/Brussels"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self._zone)

    def is_open(self, t: float) -> bool:
        return self.opening_hours.is_open(self.local(t))
