"""Maintenance and renewal as Prometheus metrics: what is due, when it was last done, device age.

Due dates come from ocrfleet/alerts/maintenance.py, so a dashboard shows
exactly what the reminders say. Only configured devices appear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.alerts.maintenance import monthly_due, purchased_at, renewal_due
from ocrfleet.clock import Clock
from ocrfleet.config.alerting import MaintenanceConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.maintenance.ledger import LedgerView

# The ledger changes a few times a month; re-reading it more often than this
# would only load the store on every scrape.
DEFAULT_REFRESH_INTERVAL = 5.0


class MaintenanceCollector(Collector):
    def __init__(
        self,
        devices: Callable[[], Mapping[DeviceKey, DeviceInfo]],
        ledger_view: Callable[[], LedgerView],
        maintenance: Callable[[], MaintenanceConfig],
        clock: Clock,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        unmaintained_kinds: frozenset[str] = frozenset(),
    ) -> None:
        self._devices = devices
        self._unmaintained_kinds = unmaintained_kinds
        self._ledger_view = ledger_view
        self._maintenance = maintenance
        self._clock = clock
        self._refresh_interval = refresh_interval
        # (view, fetched at); replaced whole, so concurrent scrapes need no lock.
        self._cached: tuple[LedgerView, float] | None = None

    def describe(self) -> Iterable[Metric]:
        # Describing none keeps the registry from calling collect() at
        # registration time, before the daemon has opened its ledger.
        return []

    def _view(self, now: float) -> LedgerView:
        cached = self._cached
        if cached is not None and 0 <= now - cached[1] < self._refresh_interval:
            return cached[0]
        view = self._ledger_view()
        self._cached = (view, now)
        return view

    def collect(self) -> Iterator[Metric]:
        now = self._clock.now()
        view = self._view(now)
        norms = self._maintenance()
        task_labels = ("site", "device", "task")
        device_labels = ("site", "device", "kind")
        due = GaugeMetricFamily(
            "ocrfleet_maintenance_due",
            "1 while the task's reminder is on for the device (monthly maintenance due, "
            "renewal within its notice or overdue), else 0.",
            labels=task_labels,
        )
        last = GaugeMetricFamily(
            "ocrfleet_maintenance_last_timestamp_seconds",
            "Unix time the task was last logged for the device; absent when never.",
            labels=task_labels,
        )
        age = GaugeMetricFamily(
            "ocrfleet_device_age_seconds",
            "Seconds since the device's purchase date; absent without one.",
            labels=device_labels,
        )
        renewal = GaugeMetricFamily(
            "ocrfleet_device_renewal_due_timestamp_seconds",
            "Unix time the device is due for replacement; absent without a purchase date.",
            labels=device_labels,
        )
        devices = self._devices()
        configured = [devices[key] for key in sorted(devices)]
        keys = devices.keys()
        for (key, task), done_at in sorted(view.last_done_at.items()):
            if key in keys:
                last.add_metric([key.site, key.device, task], done_at)
        for info in configured:
            site, device = info.key
            if info.kind not in self._unmaintained_kinds:
                monthly = monthly_due(info, view, norms)
                due.add_metric([site, device, monthly.task], 1.0 if monthly.is_due(now) else 0.0)
            renewal_date = renewal_due(info, view, norms)
            if renewal_date is not None and renewal_date.due_at is not None:
                due.add_metric(
                    [site, device, renewal_date.task], 1.0 if renewal_date.is_due(now) else 0.0
                )
                renewal.add_metric([site, device, info.kind], renewal_date.due_at)
            bought = purchased_at(info)
            if bought is not None:
                age.add_metric([site, device, info.kind], max(0.0, now - bought))
        # A family without samples would be a HELP line for nothing.
        yield from (family for family in (due, last, age, renewal) if family.samples)
