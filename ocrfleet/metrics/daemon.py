"""The daemon's own health: MQTT link, message counters, store queue and errors, build."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet import __version__
from ocrfleet.mqtt.ingest import IngestStats
from ocrfleet.store.health import StoreOperation

# Listed up front so every reason exists as a series from the start, which
# lets rate() and alert rules see the first rejection.
REJECT_REASONS = (
    "bad_topic",
    "unknown_channel",
    "unknown_device",
    "unparsable",
    "invalid",
    "unsupported_version",
    "plugin_error",
    "queue_full",
)


class DaemonCollector(Collector):
    def __init__(
        self,
        stats: Callable[[], IngestStats],
        mqtt_connected: Callable[[], bool],
        mqtt_connects: Callable[[], int],
        store_queue: Callable[[], int],
        channels: Callable[[], Iterable[str]],
        store_errors: Callable[[], Mapping[StoreOperation, int]] = dict,
        store_problem: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._stats = stats
        self._connected = mqtt_connected
        self._connects = mqtt_connects
        self._store_queue = store_queue
        self._channels = channels
        self._store_errors = store_errors
        self._store_problem = store_problem

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily(
            "ocrfleet_build_info",
            "Version of the running daemon; the value is always 1.",
            labels=("version", "python"),
        )
        build.add_metric([__version__, platform.python_version()], 1.0)
        yield build
        yield GaugeMetricFamily(
            "ocrfleet_mqtt_connected",
            "1 while connected to the MQTT broker.",
            value=1.0 if self._connected() else 0.0,
        )
        yield CounterMetricFamily(
            "ocrfleet_mqtt_connects",
            "Successful connections to the MQTT broker.",
            value=float(self._connects()),
        )
        stats = self._stats()
        accepted = CounterMetricFamily(
            "ocrfleet_mqtt_messages",
            "MQTT messages accepted, by topic channel.",
            labels=("channel",),
        )
        counts = dict(stats.accepted)
        for channel in sorted(set(self._channels()) | set(counts)):
            accepted.add_metric([channel], float(counts.get(channel, 0)))
        yield accepted
        rejected = CounterMetricFamily(
            "ocrfleet_mqtt_messages_rejected",
            "MQTT messages rejected, by reason.",
            labels=("reason",),
        )
        reasons = dict(stats.rejected)
        for reason in sorted(set(REJECT_REASONS) | set(reasons)):
            rejected.add_metric([reason], float(reasons.get(reason, 0)))
        yield rejected
        yield GaugeMetricFamily(
            "ocrfleet_store_queue_length",
            "Writes waiting for the SQLite store.",
            value=float(self._store_queue()),
        )
        yield GaugeMetricFamily(
            "ocrfleet_store_healthy",
            "1 while the SQLite store takes writes and shows no damage, else 0.",
            value=0.0 if self._store_problem() else 1.0,
        )
        errors = CounterMetricFamily(
            "ocrfleet_store_errors",
            "Failed store operations, by operation.",
            labels=("operation",),
        )
        failed = self._store_errors()
        # Every operation from the start, as for the reject reasons.
        for operation in StoreOperation:
            errors.add_metric([operation.value], float(failed.get(operation, 0)))
        yield errors
