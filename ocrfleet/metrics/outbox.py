"""Notification delivery: outcomes by channel, and what still waits in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.notify.outbox import DeliveryStats
from ocrfleet.store.database import StoreError


class OutboxCollector(Collector):
    def __init__(self, stats: Callable[[], DeliveryStats], pending: Callable[[], int]) -> None:
        self._stats = stats
        self._pending = pending

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        notifications = CounterMetricFamily(
            "ocrfleet_notifications",
            "Notification delivery tries by channel and outcome: delivered, retried"
            " (failed, tried again later), failed (refused, not retried), expired (given up).",
            labels=("channel", "outcome"),
        )
        # A copy: the event loop may add a channel while this thread reads.
        for (channel, outcome), count in sorted(dict(self._stats().outcomes).items()):
            notifications.add_metric([channel, outcome], float(count))
        yield notifications
        try:
            pending = self._pending()
        except StoreError:
            # An unreadable outbox must not cost the whole scrape; the gauge
            # is missing instead, which absent() can alert on.
            return
        yield GaugeMetricFamily(
            "ocrfleet_outbox_pending",
            "Notifications stored and not yet delivered, refused or given up.",
            value=float(pending),
        )
