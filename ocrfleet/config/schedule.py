"""When a site is open, in its own time zone."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ocrfleet.calendars.live import LiveCalendar
from ocrfleet.config.hours import OpeningHours

# How far ahead next_opening/next_closing look: past the longest closure
# people configure (a summer break) with room to spare.
LOOKAHEAD_DAYS = 62


@dataclass(frozen=True)
class SiteSchedule:
    opening_hours: OpeningHours
    timezone: str = "Europe/Brussels"
    # Local dates the site is closed whatever its hours say (the site's own
    # closures and the municipality's holidays).
    closed_days: frozenset[date] = frozenset()
    # Closing days kept as data (holidays, iCal feeds): live, refreshed while
    # the daemon runs, so they are asked, not copied.
    calendars: tuple[LiveCalendar, ...] = field(default=(), compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, self._zone)

    def closes_on(self, day: date) -> bool:
        """Whether the site is closed all of this local day (a closure or a calendar's)."""
        return day in self.closed_days or any(c.closes(day) for c in self.calendars)

    def is_closed_day(self, t: float) -> bool:
        return self.closes_on(self.local(t).date())

    def is_open(self, t: float) -> bool:
        when = self.local(t)
        return not self.closes_on(when.date()) and self.opening_hours.is_open(when)

    def next_opening(self, t: float) -> float | None:
        """When the site next opens: t itself if it is open then; None if it stays closed
        throughout the lookahead."""
        if self.is_open(t):
            return t
        for opens, _closes in self._spans_from(t):
            if opens > t:
                return opens
        return None

    def next_closing(self, t: float) -> float | None:
        """When the site, open at t, next closes; None if it is closed at t, or stays open
        throughout the lookahead."""
        if not self.is_open(t):
            return None
        for _opens, closes in self._spans_from(t):
            if closes > t:
                return None if closes == math.inf else closes
        return None

    def _spans_from(self, t: float) -> Iterator[tuple[float, float]]:
        """Open spans (start, end) from t's local day on, closed days skipped, in order.

        Ranges that meet ("09:00-12:00", "12:00-17:00", or "18:00-24:00" and the next
        day's "00:00-02:00") are one span: the site does not close in between.
        """
        first = self.local(t).date()
        pending: tuple[float, float] | None = None
        for offset in range(LOOKAHEAD_DAYS):
            day = first + timedelta(days=offset)
            if self.closes_on(day):
                continue
            for start, end in self.opening_hours.day(day.weekday()):
                opens = self._instant(day, start)
                # time.max is how hours.py writes 24:00: the range runs to the next midnight.
                closes = (
                    self._instant(day + timedelta(days=1), time(0))
                    if end == time.max
                    else self._instant(day, end)
                )
                if pending is not None and pending[1] == opens:
                    pending = (pending[0], closes)
                    continue
                if pending is not None:
                    yield pending
                pending = (opens, closes)
        if pending is not None:
            # A span running into the lookahead's end may go on past it: no known end.
            horizon = self._instant(first + timedelta(days=LOOKAHEAD_DAYS), time(0))
            yield (pending[0], math.inf) if pending[1] >= horizon else pending

    def _instant(self, day: date, wall: time) -> float:
        """The first moment the site's clock reads `wall` on `day`, or later.

        In a spring-forward gap (02:30 on the last Sunday of March in Brussels) the
        clock never reads `wall`; it jumps from before it to the gap's end, which is
        when is_open() first sees the range begun. Gaps start and end on whole minutes.
        """
        naive = datetime.combine(day, wall)
        for _ in range(24 * 60):
            moment = naive.replace(tzinfo=self._zone).timestamp()
            if self.local(moment).replace(tzinfo=None) == naive:
                return moment
            naive = (naive + timedelta(minutes=1)).replace(second=0, microsecond=0)
        raise ValueError(f"{day} {wall} never shows in {self.timezone}")
