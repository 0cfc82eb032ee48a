"""Which demo sites are open as the demo starts, and when the others open.

At 08:00 on a Saturday every site is closed, so the demo shows no sessions;
a line per site says why and when that changes.
"""

from __future__ import annotations

from datetime import datetime

from ocrfleet.config.loader import LoadedConfig
from ocrfleet.config.schedule import SiteSchedule

# Fixed English names: the line is for the operator, and strftime's %a/%b
# would follow whatever locale the terminal has.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def opening_lines(loaded: LoadedConfig, now: float) -> list[str]:
    """One line per site, in config order, in the site's own time zone."""
    lines = []
    for site in loaded.config.sites:
        schedule = loaded.schedules[site.id]
        lines.append(f"site {site.id} ({site.name}): {site_state(schedule, now)}")
    return lines


def site_state(schedule: SiteSchedule, now: float) -> str:
    if schedule.is_open(now):
        closes = schedule.next_closing(now)
        if closes is None:
            return "open now"
        return f"open now until {_moment(schedule, now, closes)}"
    opens = schedule.next_opening(now)
    if opens is None:
        return "closed now, no opening in the weeks ahead"
    return f"closed now, opens {_moment(schedule, now, opens)}"


def _moment(schedule: SiteSchedule, now: float, t: float) -> str:
    """The time alone for later today, else with the day: 'Mon 7 Dec 09:00 CET'."""
    when = schedule.local(t)
    clock = f"{when:%H:%M} {when.tzname()}"
    if when.date() == schedule.local(now).date():
        return clock
    return f"{_day(when)} {clock}"


def _day(when: datetime) -> str:
    return f"{_WEEKDAYS[when.weekday()]} {when.day} {_MONTHS[when.month - 1]}"
