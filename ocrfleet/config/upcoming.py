"""A site's next closures, from its configuration and its calendars, for people to read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.i18n.text import Words

# The source of the closures typed into the configuration (closures, holidays).
CONFIGURED = "config"


@dataclass(frozen=True)
class UpcomingClosure:
    first: date
    last: date
    # The calendar's label ("municipality/holidays"), or CONFIGURED.
    source: str
    # In the reader's language where the calendar has it; "" for a typed closure.
    name: Words


def upcoming_closures(
    schedule: SiteSchedule, today: date, count: int, language: str = "en"
) -> list[UpcomingClosure]:
    """The next `count` closures that end today or later, by their first day."""
    found = [
        UpcomingClosure(first, last, CONFIGURED, "")
        for first, last in _runs(schedule.closed_days)
        if last >= today
    ]
    for calendar in schedule.calendars:
        found.extend(
            UpcomingClosure(p.first, p.last, calendar.label, p.name_in(language))
            for p in calendar.periods()
            if p.last >= today
        )
    found.sort(key=lambda c: (c.first, c.last, c.source))
    return found[:count]


def _runs(days: frozenset[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
