"""Counts of SNMP answers that were not taken, by why, and their Prometheus collector.

Written on the event loop, read by scrapes on the web thread: a count is one
int in a dict whose keys never change, so a reader never sees it change size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class DropReason(StrEnum):
    # An answer from a pending request's address that does not decode.
    MALFORMED = "malformed"
    TRUNCATED = "truncated"
    # A decodable answer whose request-id we never sent (or long forgot).
    UNKNOWN_REQUEST = "unknown_request"
    # An answer to a pending request, from another address than the one asked.
    WRONG_SENDER = "wrong_sender"
    WRONG_COMMUNITY = "wrong_community"
    # An answer to a request already answered or given up on.
    LATE = "late"


class AnswerStats:
    """The SNMP answers one daemon dropped, by reason."""

    def __init__(self) -> None:
        self.dropped: dict[DropReason, int] = dict.fromkeys(DropReason, 0)
        # Set once requests are made: a fleet without SNMP exports no series.
        self.in_use = False

    def count(self, reason: DropReason) -> None:
        self.dropped[reason] += 1


class AnswerCollector(Collector):
    def __init__(self, stats: Callable[[], AnswerStats]) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        if not stats.in_use:
            return
        dropped = CounterMetricFamily(
            "ocrfleet_snmp_answers_dropped",
            "SNMP datagrams received and not taken as an answer, by reason.",
            labels=["reason"],
        )
        for reason, count in stats.dropped.items():
            dropped.add_metric([reason.value], count)
        yield dropped
