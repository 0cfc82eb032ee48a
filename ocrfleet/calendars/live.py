"""What the core keeps of each configured calendar: its closures now, and how its
refreshes went.

The closures are an immutable snapshot swapped in one assignment, so the
scrape, web and alerting threads that ask `closes(day)` never see a half
refreshed calendar, and a failed refresh leaves the last good one in place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from ocrfleet.calendars.types import (
    Calendar,
    CalendarContext,
    CalendarError,
    CalendarType,
    ClosedPeriod,
)

log = logging.getLogger(__name__)

# Beyond this a "closure" is a mistake in the data (a feed event without an
# end), not a closing day: it would hide every device for years.
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class _Snapshot:
    periods: tuple[ClosedPeriod, ...]
    days: frozenset[date]


@dataclass(frozen=True)
class RefreshStatus:
    """How the last refreshes went: `failure` is the last one's reason, None if it worked."""

    last_success: float | None = None
    failure: str | None = None
    detail: str = ""


def _snapshot(periods: Sequence[ClosedPeriod]) -> _Snapshot:
    kept: list[ClosedPeriod] = []
    days: set[date] = set()
    for period in periods:
        length = (period.last - period.first).days
        if length < 0 or length >= MAX_PERIOD_DAYS:
            continue
        kept.append(period)
        days.update(period.first + timedelta(days=n) for n in range(length + 1))
    kept.sort(key=lambda p: (p.first, p.last, p.name))
    return _Snapshot(tuple(kept), frozenset(days))


class LiveCalendar:
    """One configured calendar in a running ocrfleet: `label` is `municipality/<name>`
    or `<site>/<name>`."""

    def __init__(
        self, label: str, type_name: str, calendar: Calendar, clock: Callable[[], float]
    ) -> None:
        self.label = label
        self.type_name = type_name
        self._calendar = calendar
        self._clock = clock
        self._snapshot = _Snapshot((), frozenset())
        self.status = RefreshStatus()

    def closes(self, day: date) -> bool:
        return day in self._snapshot.days

    def periods(self) -> tuple[ClosedPeriod, ...]:
        return self._snapshot.periods

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), UTC).date()

    def load(self) -> None:
        """Read what is known without the network; raises CalendarError, keeping the
        closures it had."""
        periods = self._calendar.read(self._today())
        if periods is not None:
            self._snapshot = _snapshot(periods)

    async def refresh(self) -> bool:
        """Fetch anew; on failure keep the closures as they are. True if it worked."""
        try:
            periods = await self._calendar.fetch(self._today())
        except CalendarError as exc:
            self._failed(exc.reason, exc.message)
            return False
        except Exception as exc:  # A plugin's bug must not stop the other calendars.
            log.exception("calendar %s: refresh failed", self.label)
            self._failed("error", str(exc))
            return False
        self._snapshot = _snapshot(periods)
        self.status = RefreshStatus(last_success=self._clock())
        return True

    def _failed(self, reason: str, detail: str) -> None:
        log.warning(
            "calendar %s: refresh failed (%s): %s; keeping the %d closures it had",
            self.label,
            reason,
            detail,
            len(self._snapshot.periods),
        )
        self.status = RefreshStatus(self.status.last_success, reason, detail)


class CalendarBook:
    """The calendars of every configuration loaded in one process.

    A reload that keeps a calendar's type and options gets the same
    LiveCalendar back, with what it already fetched.
    """

    def __init__(
        self, types: Mapping[str, CalendarType], clock: Callable[[], float] = time.time
    ) -> None:
        self.types = types
        self._clock = clock
        self._open: dict[tuple[str, str, str, str, str], LiveCalendar] = {}

    def calendar(
        self,
        label: str,
        calendar_type: CalendarType,
        options: BaseModel,
        state_dir: Path,
        timezone: str,
    ) -> LiveCalendar:
        """The LiveCalendar for this entry, loaded; raises CalendarError."""
        key = (label, calendar_type.name, options.model_dump_json(), str(state_dir), timezone)
        live = self._open.get(key)
        if live is None:
            name = label.replace("/", "--")
            context = CalendarContext(name, state_dir, timezone)
            opened = calendar_type.open(options, context)
            live = LiveCalendar(label, calendar_type.name, opened, self._clock)
        live.load()
        self._open[key] = live
        return live
