"""Maintenance and renewal as Prometheus metrics: what is due, when it was last done, device age.

Due dates come from ocrfleet/alerts/maintenance.py, so a dashboard shows
exactly what the reminders say. Only configured devices appear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ocrfleet.alerts.maintenance import Due, monthly_due, purchased_at, renewal_due
from ocrfleet.clock import Clock
from ocrfleet.config.alerting import MaintenanceConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.metrics.exposition import Family, Row, SeriesText

# The ledger changes a few times a month; re-reading it more often than this
# would only load the store on every scrape.
DEFAULT_REFRESH_INTERVAL = 5.0

_TASK_LABELS = ("site", "device", "task")
_DEVICE_LABELS = ("site", "device", "kind")
DUE = Family(
    "ocrfleet_maintenance_due",
    "1 while the task's reminder is on for the device (monthly maintenance due, "
    "renewal within its notice or overdue), else 0.",
    "gauge",
    _TASK_LABELS,
)
LAST = Family(
    "ocrfleet_maintenance_last_timestamp_seconds",
    "Unix time the task was last logged for the device; absent when never.",
    "gauge",
    _TASK_LABELS,
)
AGE = Family(
    "ocrfleet_device_age_seconds",
    "Seconds since the device's purchase date; absent without one.",
    "gauge",
    _DEVICE_LABELS,
)
RENEWAL = Family(
    "ocrfleet_device_renewal_due_timestamp_seconds",
    "Unix time the device is due for replacement; absent without a purchase date.",
    "gauge",
    _DEVICE_LABELS,
)


class MaintenanceCollector(Collector):
    """A few series per configured device, written as rows (metrics/exposition.py)."""

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
        self._series = tuple(SeriesText(f) for f in (DUE, LAST, AGE, RENEWAL))
        # Replaced whole, as _cached.
        self._planned: _Plan | None = None

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
        plan = self._plan(self._view(now), self._maintenance(), self._devices())
        due: list[Row] = []
        age: list[Row] = []
        renewal: list[Row] = []
        for site, device, kind, monthly, renewal_date, bought in plan.devices:
            if monthly is not None:
                due.append(((site, device, monthly.task), 1.0 if monthly.is_due(now) else 0.0))
            if renewal_date is not None and renewal_date.due_at is not None:
                due_now = 1.0 if renewal_date.is_due(now) else 0.0
                due.append(((site, device, renewal_date.task), due_now))
                renewal.append(((site, device, kind), renewal_date.due_at))
            if bought is not None:
                age.append(((site, device, kind), max(0.0, now - bought)))
        # A family without samples would be a HELP line for nothing.
        for series, rows in zip(self._series, (due, plan.last, age, renewal), strict=True):
            if rows:
                yield series.family_of(rows)

    def _plan(
        self, view: LedgerView, norms: MaintenanceConfig, devices: Mapping[DeviceKey, DeviceInfo]
    ) -> _Plan:
        """Due dates and purchase times: they change with the ledger, the norms or a reload."""
        plan = self._planned
        if (
            plan is not None
            and plan.view is view
            and plan.norms is norms
            and plan.configured is devices
        ):
            return plan
        keys = devices.keys()
        last: list[Row] = [
            ((key.site, key.device, task), done_at)
            for (key, task), done_at in sorted(view.last_done_at.items())
            if key in keys
        ]
        planned = []
        for key in sorted(devices):
            info = devices[key]
            monthly = None
            if info.kind not in self._unmaintained_kinds:
                monthly = monthly_due(info, view, norms)
            renewal_date = renewal_due(info, view, norms)
            bought = purchased_at(info)
            planned.append((key.site, key.device, info.kind, monthly, renewal_date, bought))
        plan = _Plan(view, norms, devices, planned, last)
        self._planned = plan
        return plan


@dataclass(frozen=True, slots=True)
class _Plan:
    view: LedgerView
    norms: MaintenanceConfig
    configured: Mapping[DeviceKey, DeviceInfo]
    # site, device, kind, monthly due, renewal due, purchased at; sorted by device.
    devices: list[tuple[str, str, str, Due | None, Due | None, float | None]]
    last: list[Row]
