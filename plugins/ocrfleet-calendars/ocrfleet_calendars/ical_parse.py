"""An iCal feed (RFC 5545) as closed periods: all-day events close their days; timed
events close the days they touch, or nothing (the feed's `timed_events` option)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ocrfleet.plugin import CalendarError, Catalog, ClosedPeriod

_ = Catalog("ocrfleet_calendars")

TimedEvents = Literal["whole_day", "ignore"]

# The window of a feed's repeating events expanded around today: past
# closures for reports, the year ahead for what comes.
_DAYS_BEFORE = 62
_DAYS_AFTER = 400
# Closures are whole days: an event repeating more often than daily means
# nothing here, and expanding one costs without bound (a 140-byte rule
# every second is millions of occurrences), so such a feed is refused.
_FINER_THAN_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
# More than this is not a closing-day agenda; both bound what a feed can
# cost to expand (each repeating event gives up to one occurrence a day).
_MAX_OCCURRENCES = 10_000
_MAX_REPEATING = 100


def parse_feed(
    data: bytes, today: date, zone: str, timed_events: TimedEvents = "whole_day"
) -> list[ClosedPeriod]:
    """The closures of a feed; raises CalendarError("invalid", ...) for one that cannot
    be parsed, so that it never empties a schedule."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(data)
        if calendar.name != "VCALENDAR":
            raise ValueError(f"a {calendar.name}, not a VCALENDAR")
        _refuse_fine_repeats(calendar)
        start = today - timedelta(days=_DAYS_BEFORE)
        end = today + timedelta(days=_DAYS_AFTER)
        found: list[ClosedPeriod | None] = []
        for event in recurring_ical_events.of(calendar).between(start, end):
            if len(found) == _MAX_OCCURRENCES:
                raise CalendarError(
                    "invalid",
                    f"more than {_MAX_OCCURRENCES} events from {start} to {end}: "
                    "not a list of closing days",
                )
            found.append(_period(event, ZoneInfo(zone), timed_events))
    except CalendarError:
        raise
    except Exception as exc:  # The libraries raise several kinds for bad data.
        raise CalendarError("invalid", f"not an iCal calendar: {_first_line(exc)}") from exc
    return [period for period in found if period is not None]


def _refuse_fine_repeats(calendar: Any) -> None:
    repeating = [event for event in calendar.walk("VEVENT") if event.get("RRULE")]
    if len(repeating) > _MAX_REPEATING:
        raise CalendarError(
            "invalid",
            f"{len(repeating)} repeating events (at most {_MAX_REPEATING}): "
            "not a list of closing days",
        )
    for event in repeating:
        for rule in _as_list(event["RRULE"]):
            frequency = str((rule.get("FREQ") or [""])[0]).upper()
            if frequency in _FINER_THAN_DAILY:
                summary = str(event.get("SUMMARY", "")).strip() or str(event.get("UID", "?"))
                raise CalendarError(
                    "invalid",
                    f"event {summary!r} repeats {frequency}: closures are whole days, "
                    "so only daily or rarer repeats are read",
                )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _period(event: Any, zone: ZoneInfo, timed_events: TimedEvents) -> ClosedPeriod | None:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    summary = str(event.get("SUMMARY", "")).strip()
    name = summary or _("Closed")
    start = event["DTSTART"].dt
    end = event["DTEND"].dt if "DTEND" in event else None
    if "DTEND" not in event and "DURATION" in event:
        end = start + event["DURATION"].dt
    if isinstance(start, datetime):
        if timed_events == "ignore":
            return None
        first = _local(start, zone)
        last = _local(end, zone) if isinstance(end, datetime) else first
        # An event ending at midnight does not touch the day it ends on.
        last_day = (last - timedelta(microseconds=1)).date() if last > first else first.date()
        return ClosedPeriod(first.date(), last_day, name)
    # All-day: DTEND is the day after the last (RFC 5545 3.6.1); none means one day.
    last_day = end - timedelta(days=1) if isinstance(end, date) and end > start else start
    return ClosedPeriod(start, last_day, name)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    # A floating time (no zone) is the site's own wall clock.
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
