"""Refreshing the configured calendars (ocrfleet.calendars) while the daemon runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ocrfleet.calendars.live import LiveCalendar

# Daily: holidays move with the year, feeds change a few times a year.
REFRESH_HOURS = 24


async def refresh_calendars(calendars: Sequence[LiveCalendar], changed: Callable[[], None]) -> None:
    """Refresh every calendar at once; a failure keeps that calendar's last closures.

    `changed` is called once after the refreshes (alerts re-evaluate whether
    a site is closed).
    """
    if not calendars:
        return
    await asyncio.gather(*(calendar.refresh() for calendar in calendars))
    changed()
