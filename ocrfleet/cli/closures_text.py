"""The sites' next closures, as `check-config` and `norms` print them."""

from __future__ import annotations

from ocrfleet.config.loader import LoadedConfig
from ocrfleet.config.upcoming import CONFIGURED, upcoming_closures
from ocrfleet.i18n.catalogs import Catalogs
from ocrfleet.i18n.text import Catalog

_ = Catalog("ocrfleet")

# Enough to see the coming holidays without drowning the summary.
SHOWN_PER_SITE = 5


def calendar_lines(loaded: LoadedConfig) -> list[str]:
    """One line per configured calendar: its type and how many closures it knows.

    Known without the network: the commands print, they never fetch.
    """
    lines = [
        f"  {calendar.label} ({calendar.type_name}): {len(calendar.periods())} closures known"
        for calendar in loaded.calendars
    ]
    return ["calendars: " + ("none" if not lines else str(len(lines))), *lines]


def next_closure_lines(loaded: LoadedConfig, catalogs: Catalogs, now: float) -> list[str]:
    """Each site's next closures, in the site's language and on its calendar days."""
    readers = loaded.config.readers(catalogs)
    lines = [f"next closures (up to {SHOWN_PER_SITE} per site, in the site's language):"]
    for site in loaded.config.sites:
        schedule = loaded.schedules[site.id]
        speaker = readers.speaker(site=site.id)
        today = schedule.local(now).date()
        coming = upcoming_closures(schedule, today, SHOWN_PER_SITE, speaker.language)
        lines.append(f"  {site.id}:" + ("" if coming else " none known"))
        rows = []
        for closure in coming:
            days = speaker.day(closure.first, weekday=True)
            if closure.last != closure.first:
                days += " – " + speaker.day(closure.last, weekday=True)
            name = speaker.say(closure.name) if closure.name else speaker.say(_("closed"))
            source = "configured closure" if closure.source == CONFIGURED else closure.source
            rows.append((days, name, source))
        widths = [max((len(row[i]) for row in rows), default=0) for i in range(2)]
        lines.extend(
            f"    {days.ljust(widths[0])}  {name.ljust(widths[1])}  ({source})"
            for days, name, source in rows
        )
    return lines
