"""How each calendar's refreshes go, and when each site next closes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, time

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.calendars.live import LiveCalendar
from ocrfleet.clock import Clock
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.config.upcoming import upcoming_closures


class CalendarCollector(Collector):
    def __init__(
        self,
        calendars: Callable[[], Sequence[LiveCalendar]],
        schedules: Callable[[], Mapping[str, SiteSchedule]],
        clock: Clock,
    ) -> None:
        self._calendars = calendars
        self._schedules = schedules
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "ocrfleet_calendar_last_success_timestamp_seconds",
            "When the calendar was last refreshed successfully (Unix time).",
            labels=("calendar", "type"),
        )
        failed = GaugeMetricFamily(
            "ocrfleet_calendar_refresh_failed",
            "1 if the calendar's last refresh failed, with the reason; the last good "
            'closures stay in use. 0 with reason="" otherwise.',
            labels=("calendar", "type", "reason"),
        )
        closures = GaugeMetricFamily(
            "ocrfleet_calendar_closures",
            "Closures the calendar knows (past and coming), as now in use.",
            labels=("calendar", "type"),
        )
        for calendar in self._calendars():
            status = calendar.status
            labels = [calendar.label, calendar.type_name]
            if status.last_success is not None:
                success.add_metric(labels, status.last_success)
            if status.failure is not None:
                failed.add_metric([*labels, status.failure], 1.0)
            else:
                failed.add_metric([*labels, ""], 0.0)
            closures.add_metric(labels, float(len(calendar.periods())))
        # Families without samples are left out: most fleets have no calendar.
        for family in (success, failed, closures, self._next_closures()):
            if family.samples:
                yield family

    def _next_closures(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "ocrfleet_site_next_closure_timestamp_seconds",
            "Start (local midnight) of the site's current or next closure, typed or from "
            "a calendar (Unix time).",
            labels=("site",),
        )
        now = self._clock.now()
        for site, schedule in self._schedules().items():
            coming = upcoming_closures(schedule, schedule.local(now).date(), 1)
            if coming:
                midnight = datetime.combine(coming[0].first, time(0), schedule.local(now).tzinfo)
                family.add_metric([site], midnight.timestamp())
        return family
