"""Fair turns per site: every seat busy, sessions past their limit, the limit configured."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.kinds import DeviceKind
from ocrfleet.metrics.fleetview import FleetView
from ocrfleet.turns.seats import site_turns
from ocrfleet.turns.tracker import TurnsTracker


class TurnsCollector(Collector):
    def __init__(
        self,
        view: Callable[[], FleetView],
        kinds: Mapping[str, DeviceKind],
        tracker: TurnsTracker,
    ) -> None:
        # The scrape's one view (ocrfleet/metrics/fleetview.py): states worked out once.
        self._view = view
        self._seat_kinds = frozenset(name for name, kind in kinds.items() if kind.is_seat)
        self._tracker = tracker

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        view = self._view()
        now, config = view.taken_at, view.config
        turns = site_turns(config, view.snapshot.devices, view.is_up, self._seat_kinds)
        busy = GaugeMetricFamily(
            "ocrfleet_site_all_seats_busy",
            "1 while every seat that is up is in use and at least one is (visitors may wait).",
            labels=("site",),
        )
        over = GaugeMetricFamily(
            "ocrfleet_open_sessions_over_limit",
            "Open sessions past their session_limit now.",
            labels=("site",),
        )
        limit = GaugeMetricFamily(
            "ocrfleet_site_session_limit_seconds",
            "The site's configured session_limit.",
            labels=("site",),
        )
        busy_seconds = CounterMetricFamily(
            "ocrfleet_site_all_seats_busy_seconds",
            "Seconds every seat that was up was in use, while the site was open.",
            labels=("site",),
        )
        over_total = CounterMetricFamily(
            "ocrfleet_sessions_over_limit",
            "Sessions that ran past their session_limit, each counted once.",
            labels=("site",),
        )
        # From the start, at 0 until counted: increase() then sees the first count too.
        seconds, totals = self._tracker.busy_seconds, self._tracker.over_limit_total
        for site, seen in turns.items():
            busy.add_metric([site], 1.0 if seen.full else 0.0)
            busy_seconds.add_metric([site], seconds.get(site, 0.0))
            if seen.has_limits:
                over.add_metric([site], float(len(seen.over_limit(now))))
                over_total.add_metric([site], float(totals.get(site, 0)))
        for site_config in config.sites:
            if site_config.session_limit is not None:
                limit.add_metric([site_config.id], site_config.session_limit)
        yield busy
        yield busy_seconds
        # Only where some seat has a limit.
        if over.samples:
            yield over
            yield over_total
        if limit.samples:
            yield limit
