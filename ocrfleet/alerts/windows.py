"""Maintenance windows: recurring hours in which matching alerts do not notify.

E.g. "every Tuesday 22:00-02:00 the PCs install updates": PCs going down then
is expected. Hours are read in the time zone of the alert's own site, so one
window can serve sites in different zones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta

from ocrfleet.config.alerting import ALL_DAYS, MaintenanceWindowConfig
from ocrfleet.config.hours import parse_time_range
from ocrfleet.config.schedule import SiteSchedule


@dataclass(frozen=True, slots=True)
class _Window:
    label: str
    sites: frozenset[str]
    devices: frozenset[str]
    weekdays: frozenset[int]
    start: time
    end: time
    match: Mapping[str, frozenset[str]]

    def covers(self, labels: Mapping[str, str]) -> bool:
        site = labels.get("site", "")
        if self.sites and site not in self.sites:
            return False
        if self.devices and f"{site}/{labels.get('device', '')}" not in self.devices:
            return False
        return all(labels.get(name) in values for name, values in self.match.items())

    def is_on(self, schedule: SiteSchedule, now: float) -> bool:
        local = schedule.local(now)
        moment = local.time().replace(tzinfo=None)
        weekday = local.weekday()
        if self.start < self.end:
            return weekday in self.weekdays and self.start <= moment < self.end
        # Crossing midnight: the early hours belong to the day the window began.
        if moment >= self.start:
            return weekday in self.weekdays
        yesterday = (local - timedelta(days=1)).weekday()
        return moment < self.end and yesterday in self.weekdays


class MaintenanceWindows:
    """A Suppressor over the configured `[[alerting.maintenance_windows]]`."""

    def __init__(
        self, windows: Sequence[MaintenanceWindowConfig], schedules: Mapping[str, SiteSchedule]
    ) -> None:
        self._schedules = dict(schedules)
        self._windows = tuple(_compile(index, window) for index, window in enumerate(windows))

    def suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
        # An alert without a known site has no local time to place it in.
        schedule = self._schedules.get(labels.get("site", ""))
        if schedule is None:
            return None
        for window in self._windows:
            if window.covers(labels) and window.is_on(schedule, now):
                return f"maintenance window {window.label}"
        return None


def _compile(index: int, window: MaintenanceWindowConfig) -> _Window:
    start, end = parse_time_range(window.hours, overnight=True)
    return _Window(
        label=window.name or f"[{index}]",
        sites=frozenset(window.sites),
        devices=frozenset(window.devices),
        weekdays=frozenset(ALL_DAYS.index(day) for day in window.days),
        start=start,
        end=end,
        match={
            name: frozenset([values] if isinstance(values, str) else values)
            for name, values in window.match.items()
        },
    )
