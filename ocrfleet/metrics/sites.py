"""Per-site facts: open now, and the seat minimum the site promises."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.clock import Clock
from ocrfleet.config.models import Config
from ocrfleet.config.schedule import SiteSchedule


class SiteCollector(Collector):
    def __init__(
        self,
        config: Callable[[], Config],
        schedules: Callable[[], Mapping[str, SiteSchedule]],
        clock: Clock,
    ) -> None:
        self._config = config
        self._schedules = schedules
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        now = self._clock.now()
        config = self._config()
        schedules = self._schedules()
        is_open = GaugeMetricFamily(
            "ocrfleet_site_open",
            "1 while the site is open (opening hours, closures and holidays), else 0.",
            labels=("site",),
        )
        minimum = GaugeMetricFamily(
            "ocrfleet_site_min_usable_seats",
            "The site's configured minimum of usable seats (min_usable_seats).",
            labels=("site",),
        )
        for site in config.sites:
            schedule = schedules.get(site.id)
            if schedule is not None:
                is_open.add_metric([site.id], 1.0 if schedule.is_open(now) else 0.0)
            if site.min_usable_seats is not None:
                minimum.add_metric([site.id], float(site.min_usable_seats))
        yield is_open
        if minimum.samples:
            yield minimum
