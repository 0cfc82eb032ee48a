"""Counting opening time: a public printer is only used while its site is open.

A supply forecast measures consumption per hour of opening time and
projects it over the opening hours to come, so a weekend or a holiday
week does not count as days of use.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from ocrfleet.plugin import SiteSchedule

_DAY = timedelta(days=1)


class OpeningTime:
    """Opening intervals of one site; without a schedule, the site counts as always open."""

    def __init__(self, schedule: SiteSchedule | None) -> None:
        self._schedule = schedule
        self._zone: tzinfo = ZoneInfo(schedule.timezone) if schedule is not None else UTC

    @property
    def zone(self) -> tzinfo:
        return self._zone

    @property
    def ever_open(self) -> bool:
        return self._schedule is None or self._schedule.opening_hours.weekly_hours() > 0

    def day_intervals(self, day: date) -> list[tuple[float, float]]:
        """The day's opening intervals as (start, end) Unix times, in order."""
        schedule = self._schedule
        if schedule is None:
            return [(self._at(day, time(0)), self._at(day + _DAY, time(0)))]
        if day in schedule.closed_days:
            return []
        intervals = []
        for start, end in schedule.opening_hours.day(day.weekday()):
            # "24:00" is stored as time.max: the end of the day is the next midnight.
            until = self._at(day + _DAY, time(0)) if end == time.max else self._at(day, end)
            intervals.append((self._at(day, start), until))
        return intervals

    def intervals(self, start: float, end: float) -> Iterator[tuple[float, float]]:
        """Opening intervals clipped to [start, end]."""
        day = self._date(start)
        last = self._date(end)
        while day <= last:
            for opens, closes in self.day_intervals(day):
                clipped = (max(opens, start), min(closes, end))
                if clipped[0] < clipped[1]:
                    yield clipped
            day += _DAY

    def seconds(self, start: float, end: float) -> float:
        """Seconds of opening time between two moments."""
        return sum(b - a for a, b in self.intervals(start, end)) if end > start else 0.0

    def advance(self, start: float, seconds: float, horizon: float) -> tuple[float, int] | None:
        """When `seconds` of opening time after `start` will have passed, and on how
        many opening days (the day it ends counted); None past `start + horizon`."""
        if seconds <= 0:
            return start, 0
        if not self.ever_open:
            return None
        left = seconds
        days = 0
        day = self._date(start)
        while self._at(day, time(0)) <= start + horizon:
            counted = False
            for opens, closes in self.day_intervals(day):
                opens = max(opens, start)
                if opens >= closes:
                    continue
                if not counted:
                    days += 1
                    counted = True
                if closes - opens >= left:
                    end = opens + left
                    return (end, days) if end <= start + horizon else None
                left -= closes - opens
            day += _DAY
        return None

    def _date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self._zone).date()

    def _at(self, day: date, moment: time) -> float:
        return datetime.combine(day, moment, self._zone).timestamp()
