"""The contract between the core and a calendar: where a site's closing days come from.

A calendar type (public holidays, an iCal feed, ...) is contributed by a
plugin through the `ocrfleet_calendar_types` hook. The core validates its
options, opens one `Calendar` per configured entry, reads it when the
configuration is loaded and refreshes it daily; the days it gives close the
site in its `SiteSchedule` like the closures typed into the configuration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel

from ocrfleet.i18n.text import Words


@dataclass(frozen=True)
class ClosedPeriod:
    """Local days a site is closed, first to last inclusive, with what people call them.

    `name` is fixed text (an iCal event's summary) or a `Text` of the
    plugin's catalog; `names` holds the name by language ("nl", "en") when the
    calendar has it ready-made (a holiday library's translations) and wins.
    """

    first: date
    last: date
    name: Words
    names: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def name_in(self, language: str) -> Words:
        return self.names.get(language, self.name)


class CalendarError(Exception):
    """A calendar that could not be read: a feed that did not answer or cannot be parsed.

    `reason` is a fixed word for the metric label ("unreachable", "timeout",
    "http_status", "invalid", "unreadable", ...); `key` is the option at
    fault, when one is ("path", "url"), so that a configuration error names it.
    """

    def __init__(self, reason: str, message: str, *, key: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.key = key


@dataclass(frozen=True)
class CalendarContext:
    """What the core gives a calendar when it opens it.

    `state_dir` is a directory the calendar may write to (e.g. the last good
    copy of a feed), beside the store; it may not exist yet, or not be
    writable (e.g. under `ocrfleet check-config`). `name` is unique among the
    configured calendars and safe in a file name. `timezone` is the zone of
    the site (or, for the municipality's calendars, of the municipality):
    where a time of day becomes a local date.
    """

    name: str
    state_dir: Path
    timezone: str = "Europe/Brussels"


class Calendar(ABC):
    """One configured calendar."""

    @abstractmethod
    def read(self, today: date) -> Sequence[ClosedPeriod] | None:
        """The closures known without waiting on the network: a file, a last good copy,
        a computation; None when there is nothing to read yet (a feed never
        fetched), and the core keeps what it has. Called whenever the
        configuration is loaded; raise `CalendarError` for data that cannot be
        used (a configuration error).
        """

    @abstractmethod
    async def fetch(self, today: date) -> Sequence[ClosedPeriod]:
        """The closures as they are now, fetched anew; called daily and at start-up.

        Raise `CalendarError` when they cannot be had: the core then keeps
        the closures it has, logs the reason and reports it as a metric.
        """


class CalendarType(ABC):
    """A kind of calendar, usable as `type = "..."` in `[[municipality.calendars]]`
    and `[[sites.calendars]]`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]]

    @abstractmethod
    def open(self, options: BaseModel, context: CalendarContext) -> Calendar:
        """A calendar for these validated options; no I/O here."""

    def demo_options(self) -> Mapping[str, object] | None:
        """By the built-in demo only: the options of a calendar of this type for the demo
        municipality, or None for none. The demo works offline: nothing to fetch."""
        return None
