"""SNMP polling self-metrics: polls, errors by reason, poll durations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.snmp.poller import POLL_DURATION_BUCKETS, PollStats


class SnmpCollector(Collector):
    def __init__(self, stats: Callable[[], PollStats]) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        if not stats.polls:
            return  # no SNMP device configured (or none polled yet)
        polls = CounterMetricFamily(
            "ocrfleet_snmp_polls", "SNMP polls finished, by device kind.", labels=("kind",)
        )
        for kind, count in sorted(dict(stats.polls).items()):
            polls.add_metric([kind], float(count))
        yield polls
        errors = CounterMetricFamily(
            "ocrfleet_snmp_poll_errors",
            "SNMP polls that got no usable answer, by kind and reason.",
            labels=("kind", "reason"),
        )
        for (kind, reason), count in sorted(dict(stats.errors).items()):
            errors.add_metric([kind, reason], float(count))
        yield errors
        durations = HistogramMetricFamily(
            "ocrfleet_snmp_poll_duration_seconds",
            "Time one poll of one device took, answered or not.",
            labels=("kind",),
        )
        sums = dict(stats.duration_sum)
        for kind, counts in sorted(dict(stats.buckets).items()):
            buckets = [
                (str(bound), float(count))
                for bound, count in zip(POLL_DURATION_BUCKETS, counts, strict=True)
            ]
            total = stats.polls.get(kind, 0)
            buckets.append(("+Inf", float(total)))
            durations.add_metric([kind], buckets, sums.get(kind, 0.0))
        yield durations
