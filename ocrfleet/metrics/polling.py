"""Polling self-metrics: polls, errors by reason, poll durations, per source and kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.poller import POLL_DURATION_BUCKETS, PollStats

# The names from before polling had sources, kept for one release; see
# docs/metrics.md. They carry the same values for the snmp source alone.
_DEPRECATED_SNMP = "snmp"


class PollCollector(Collector):
    def __init__(self, stats: Callable[[], PollStats]) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        polls = dict(stats.polls)
        if not polls:
            return  # no polled device configured (or none polled yet)
        errors = dict(stats.errors)
        buckets = dict(stats.buckets)
        sums = dict(stats.duration_sum)
        yield from _families("ocrfleet_poll", ("source", "kind"), polls, errors, buckets, sums)
        snmp = {key: n for key, n in polls.items() if key[0] == _DEPRECATED_SNMP}
        if snmp:
            yield from _families(
                "ocrfleet_snmp_poll",
                ("kind",),
                snmp,
                {key: n for key, n in errors.items() if key[0] == _DEPRECATED_SNMP},
                {key: b for key, b in buckets.items() if key[0] == _DEPRECATED_SNMP},
                {key: t for key, t in sums.items() if key[0] == _DEPRECATED_SNMP},
                deprecated=True,
            )


def _families(
    prefix: str,
    labels: tuple[str, ...],
    polls: dict[tuple[str, str], int],
    errors: dict[tuple[str, str, str], int],
    buckets: dict[tuple[str, str], list[int]],
    sums: dict[tuple[str, str], float],
    *,
    deprecated: bool = False,
) -> Iterator[Metric]:
    # The deprecated families drop the source label: they are SNMP's alone.
    def values(key: tuple[str, ...]) -> list[str]:
        return list(key[-len(labels) :]) if deprecated else list(key)

    note = " Deprecated: use the ocrfleet_poll_* families." if deprecated else ""
    total = CounterMetricFamily(
        f"{prefix}s", f"Polls finished (answered or not), by source and kind.{note}", labels=labels
    )
    for key, count in sorted(polls.items()):
        total.add_metric(values(key), float(count))
    yield total
    failed = CounterMetricFamily(
        f"{prefix}_errors",
        f"Polls that got no usable answer, by source, kind and reason.{note}",
        labels=(*labels, "reason"),
    )
    for error_key, count in sorted(errors.items()):
        failed.add_metric([*values(error_key[:2]), error_key[2]], float(count))
    yield failed
    durations = HistogramMetricFamily(
        f"{prefix}_duration_seconds",
        f"Time one poll of one device took, answered or not.{note}",
        labels=labels,
    )
    for key, counts in sorted(buckets.items()):
        points = [
            (str(bound), float(count))
            for bound, count in zip(POLL_DURATION_BUCKETS, counts, strict=True)
        ]
        points.append(("+Inf", float(polls.get(key, 0))))
        durations.add_metric(values(key), points, sums.get(key, 0.0))
    yield durations
