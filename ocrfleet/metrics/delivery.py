"""What became of session events once they reached the store writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.store.writer import SessionStats

# Listed up front so each outcome exists as a series from the start.
OUTCOMES = ("started", "ended", "whole", "duplicate", "implausible_time", "skipped")


class SessionDeliveryCollector(Collector):
    def __init__(self, stats: Callable[[], SessionStats], held: Callable[[], int]) -> None:
        self._stats = stats
        self._held = held

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        outcomes = CounterMetricFamily(
            "ocrfleet_session_events",
            "Session events handled by the store, by outcome: started, ended, whole (an end "
            "whose start never came), duplicate, implausible_time (refused), skipped (numbers "
            "the agent no longer holds).",
            labels=("outcome",),
        )
        counts = dict(self._stats().outcomes)
        for outcome in OUTCOMES:
            outcomes.add_metric([outcome], float(counts.get(outcome, 0)))
        yield outcomes
        yield GaugeMetricFamily(
            "ocrfleet_session_events_held",
            "Numbered session events that came early and wait for the ones before them.",
            value=float(self._held()),
        )
