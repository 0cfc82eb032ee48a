"""TurnsTracker: the counters of fair turns, from one observation of the seats to the next.

The daemon owns one tracker for its whole life (a reload keeps it), and
observes the seats once a minute with the history sample. Between two
observations a site counts as it was at the first one: full and open, the
time is added to its all-seats-busy seconds. The counters start at zero when
the daemon starts, as Prometheus counters may.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from ocrfleet.turns.seats import SiteTurns

# A longer gap means the daemon was stopped or stalled: what happened
# meanwhile is unknown, so none of it is counted.
MAX_GAP = 300.0


class TurnsTracker:
    def __init__(self, *, max_gap: float = MAX_GAP) -> None:
        self._max_gap = max_gap
        # Observations may come from any worker thread; one at a time.
        self._lock = threading.Lock()
        self._previous: float | None = None
        self._busy_and_open: frozenset[str] = frozenset()
        # (site, device, session id) of open sessions already counted past their limit.
        self._counted: set[tuple[str, str, str]] = set()
        # Read by scrapes on other threads: replaced whole, never changed in place.
        self._busy_seconds: Mapping[str, float] = MappingProxyType({})
        self._over_limit_total: Mapping[str, int] = MappingProxyType({})

    @property
    def busy_seconds(self) -> Mapping[str, float]:
        """Per site, seconds every seat that was up was in use, while the site was open."""
        return self._busy_seconds

    @property
    def over_limit_total(self) -> Mapping[str, int]:
        """Per site, sessions that ran past their limit, each counted once."""
        return self._over_limit_total

    def observe(
        self, turns: Mapping[str, SiteTurns], site_open: Mapping[str, bool], now: float
    ) -> None:
        with self._lock:
            self._add_busy_time(now)
            self._busy_and_open = frozenset(
                site for site, seen in turns.items() if seen.full and site_open.get(site, True)
            )
            self._count_over_limit(turns, now)
            self._previous = now

    def _add_busy_time(self, now: float) -> None:
        if self._previous is None:
            return
        elapsed = now - self._previous
        # A clock that went back was counted already; a long gap is unknown.
        if elapsed <= 0 or elapsed > self._max_gap or not self._busy_and_open:
            return
        seconds = dict(self._busy_seconds)
        for site in self._busy_and_open:
            seconds[site] = seconds.get(site, 0.0) + elapsed
        self._busy_seconds = MappingProxyType(seconds)

    def _count_over_limit(self, turns: Mapping[str, SiteTurns], now: float) -> None:
        open_sessions = {
            (s.key.site, s.key.device, s.session_id): s
            for seen in turns.values()
            for s in seen.sessions
        }
        # Sessions already past their limit at the first observation passed it
        # before this daemon started (counted by the one before, if it ran):
        # they are only marked, so a restart does not count them again. One
        # that passed it between the start and the first observation (a minute
        # at most) is marked too, never counted: the price of not counting
        # twice (docs/turns.md).
        first = self._previous is None
        totals = dict(self._over_limit_total)
        for key, session in open_sessions.items():
            if key in self._counted or not session.over_limit(now):
                continue
            if first:
                self._counted.add(key)
            # On a seat that is down nobody is there: counted once it is up again.
            elif session.seat_up:
                self._counted.add(key)
                totals[key[0]] = totals.get(key[0], 0) + 1
        # Ended sessions are done with: their ids never come back.
        self._counted &= open_sessions.keys()
        if totals != self._over_limit_total:
            self._over_limit_total = MappingProxyType(totals)
