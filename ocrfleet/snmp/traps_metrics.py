"""Counts of received SNMP traps, and their Prometheus collector.

Written on the event loop, read by scrapes on the web thread: the per-device
dict is replaced whole when it grows, so a reader never sees it change size.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from enum import StrEnum

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.devices import DeviceKey


class TrapResult(StrEnum):
    POLLED = "polled"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_SOURCE = "unknown_source"
    BAD_COMMUNITY = "bad_community"
    UNDECODABLE = "undecodable"
    UNSUPPORTED_VERSION = "unsupported_version"


class TrapStats:
    def __init__(self) -> None:
        self.results: dict[TrapResult, int] = dict.fromkeys(TrapResult, 0)
        self.by_device: dict[tuple[DeviceKey, str], int] = {}

    def count(self, result: TrapResult) -> None:
        self.results[result] += 1

    def count_device(self, key: DeviceKey, trap: str) -> None:
        entry = (key, trap)
        if entry in self.by_device:
            self.by_device[entry] += 1
        else:
            self.by_device = {**self.by_device, entry: 1}

    def forget_all_but(self, keys: Collection[DeviceKey]) -> None:
        """Drop the counts of devices no longer configured: no series for a device gone."""
        self.by_device = {entry: n for entry, n in self.by_device.items() if entry[0] in keys}


class TrapCollector(Collector):
    def __init__(self, stats: Callable[[], TrapStats]) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        received = CounterMetricFamily(
            "ocrfleet_snmp_traps_received",
            "SNMP traps and informs received, by what became of them.",
            labels=["result"],
        )
        for result, count in stats.results.items():
            received.add_metric([result.value], count)
        yield received
        by_device = CounterMetricFamily(
            "ocrfleet_snmp_device_traps",
            "SNMP traps accepted from a configured device, by standard notification name.",
            labels=["site", "device", "trap"],
        )
        for (key, trap), count in sorted(stats.by_device.items()):
            by_device.add_metric([key.site, key.device, trap], count)
        yield by_device
