"""Opening hours per weekday, e.g. mon = ["09:00-12:00", "13:30-17:00"]."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, time
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_time_range(value: str, *, overnight: bool = False) -> tuple[time, time]:
    """A "HH:MM-HH:MM" range as (start, end); "24:00" as an end means midnight.

    With `overnight`, a range may cross midnight (end before start), as sleep
    hours do; opening hours may not.
    """
    match = _RANGE.match(value)
    if match is None:
        raise ValueError(f'{value!r} is not a "HH:MM-HH:MM" range')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{value!r} is not a valid time range")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time")
    if end < start and not overnight:
        raise ValueError(f"{value!r} ends before it starts")
    return start, end


def _parse_ranges(value: object) -> tuple[tuple[time, time], ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError('expected a list of "HH:MM-HH:MM" ranges')
    ranges = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f'{item!r} is not a "HH:MM-HH:MM" range')
        ranges.append(parse_time_range(item))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise ValueError("time ranges overlap")
    return tuple(ranges)


DayHours = Annotated[tuple[tuple[time, time], ...], BeforeValidator(_parse_ranges)]


class OpeningHours(BaseModel):
    """Hours a site is open, in the site's local time; a missing day is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mon: DayHours = ()
    tue: DayHours = ()
    wed: DayHours = ()
    thu: DayHours = ()
    fri: DayHours = ()
    sat: DayHours = ()
    sun: DayHours = ()

    def day(self, weekday: int) -> tuple[tuple[time, time], ...]:
        hours: tuple[tuple[time, time], ...] = getattr(self, WEEKDAYS[weekday])
        return hours

    def is_open(self, when: datetime) -> bool:
        moment = when.time()
        return any(start <= moment < end for start, end in self.day(when.weekday()))

    def weekly_hours(self) -> float:
        total = 0.0
        for weekday in range(7):
            for start, end in self.day(weekday):
                minutes_end = 24 * 60 if end == time.max else end.hour * 60 + end.minute
                total += (minutes_end - start.hour * 60 - start.minute) / 60
        return total
