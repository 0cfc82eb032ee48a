"""Days with a name, as the closed periods ocrfleet keeps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from ocrfleet.plugin import ClosedPeriod


def periods_of_days(
    days: Iterable[tuple[date, str]], names: Mapping[str, Mapping[date, str]]
) -> list[ClosedPeriod]:
    """Consecutive days of the same name as one period (a school holiday is one closure).

    `names` gives each day's name by language, where known.
    """
    periods: list[ClosedPeriod] = []
    for day, name in sorted(days):
        translated = {lang: by_day[day] for lang, by_day in names.items() if day in by_day}
        last = periods[-1] if periods else None
        if (
            last is not None
            and last.name == name
            and last.last + timedelta(days=1) == day
            and all(last.names.get(lang) == text for lang, text in translated.items())
        ):
            periods[-1] = ClosedPeriod(last.first, day, name, last.names)
        else:
            periods.append(ClosedPeriod(day, day, name, translated))
    return periods
