"""Days a site is closed although its opening hours say otherwise (holidays, closures)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import BeforeValidator

# A long closure written as a range must still be a closure, not a typo
# that closes a site for decades.
MAX_RANGE_DAYS = 366


def _parse_closure(value: object) -> tuple[date, date]:
    """A date ("2026-12-25") or an inclusive range ("2026-12-24..2027-01-01")."""
    if isinstance(value, date):
        return value, value
    if not isinstance(value, str):
        raise ValueError('expected a date "YYYY-MM-DD" or a range "YYYY-MM-DD..YYYY-MM-DD"')
    first, sep, last = value.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
    except ValueError:
        raise ValueError(
            f'{value!r} is not a date "YYYY-MM-DD" or a range "YYYY-MM-DD..YYYY-MM-DD"'
        ) from None
    if end < start:
        raise ValueError(f"{value!r} ends before it starts")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValueError(f"{value!r} is longer than {MAX_RANGE_DAYS} days")
    return start, end


Closure = Annotated[tuple[date, date], BeforeValidator(_parse_closure)]


def closed_days(closures: tuple[tuple[date, date], ...]) -> frozenset[date]:
    days: set[date] = set()
    for start, end in closures:
        day = start
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)
