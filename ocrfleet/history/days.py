"""Local calendar days and months: reports count by the site's own clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ocrfleet.config.schedule import SiteSchedule

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def local_day(t: float, schedule: SiteSchedule | None) -> str:
    """The date of `t` as YYYY-MM-DD where the site is (UTC without a schedule)."""
    if schedule is None:
        return datetime.fromtimestamp(t, ZoneInfo("UTC")).date().isoformat()
    return schedule.local(t).date().isoformat()


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-10' -> Month(2026, 10); ValueError with a readable message otherwise."""
        found = _MONTH.match(text.strip())
        if found is None:
            raise ValueError(f"{text!r}: expected YYYY-MM, e.g. 2026-10")
        year, month = int(found.group(1)), int(found.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: month must be 01 to 12")
        if year < 1970:
            raise ValueError(f"{text!r}: year before 1970")
        return cls(year, month)

    @classmethod
    def of(cls, t: float, zone: ZoneInfo) -> Month:
        when = datetime.fromtimestamp(t, zone)
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def days(self) -> list[date]:
        end = self.next().first_day
        count = (end - self.first_day).days
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def bounds(self, zone: ZoneInfo) -> tuple[float, float]:
        """[start, end) of the month in epoch seconds, midnight to midnight in `zone`."""
        start = datetime(self.year, self.month, 1, tzinfo=zone)
        following = self.next()
        end = datetime(following.year, following.month, 1, tzinfo=zone)
        return start.timestamp(), end.timestamp()
