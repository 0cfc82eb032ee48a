"""HistoryRecorder: every minute, adds the minute's figures to today's rows per site.

A scheduler job calls `sample()` from a worker thread; the recorder has its
own SQLite connection and writes one transaction per sample. Minutes are
counted only while a site is open (its schedule), so utilisation and
availability are about the hours visitors can come.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devicestate import DeviceState, device_status
from ocrfleet.history.days import local_day
from ocrfleet.history.figures import declared_figures, device_figures
from ocrfleet.internet.site import InternetState, SiteInternet
from ocrfleet.kinds import Aggregation, KindRegistry
from ocrfleet.state import DeviceView, FleetSnapshot
from ocrfleet.store.connections import StoreConnections, store_errors
from ocrfleet.turns.seats import seats_full

SAMPLE_INTERVAL = 60.0
# A longer gap between samples means the daemon was stopped or stalled: what
# happened meanwhile is unknown, so only one interval's worth is counted.
MAX_GAP = 300.0


@dataclass(slots=True)
class _SiteMinutes:
    sampled: float = 0.0
    open: float = 0.0
    seats: float = 0.0
    seats_usable: float = 0.0
    seats_in_use: float = 0.0
    with_usable_seat: float = 0.0
    with_unreserved_seat: float = 0.0
    # Every seat that was up in use (fair turns), and the stretch of such minutes so far.
    all_seats_busy: float = 0.0
    longest_all_seats_busy: float = 0.0
    # kind -> [device minutes, device minutes up], for kinds that are not seats
    kinds: dict[str, list[float]] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)
    # Opening minutes the site's internet was known (up or down), up (degraded
    # included), degraded, down (docs/internet.md).
    internet_known: float = 0.0
    internet_up: float = 0.0
    internet_degraded: float = 0.0
    internet_down: float = 0.0


@dataclass(frozen=True, slots=True)
class _CounterRow:
    site: str
    device: str
    day: str
    figure: str
    kind: str
    first_value: float
    value: float
    increase: float


class HistoryRecorder:
    def __init__(
        self,
        connections: StoreConnections,
        kinds: KindRegistry,
        *,
        interval: float = SAMPLE_INTERVAL,
        max_gap: float = MAX_GAP,
    ) -> None:
        self.path = connections.path
        self._kinds = kinds
        self._figures = declared_figures(kinds)
        self._interval = interval
        self._max_gap = max_gap
        # Jobs may run on any worker thread; the lock keeps them one at a time.
        self._lock = threading.Lock()
        self._db = connections.connect(any_thread=True)
        self._previous: float | None = None
        # (site, device, figure) -> the counter's last value seen
        self._counters: dict[tuple[str, str, str], float] = {}
        # site -> (day, minutes) of the stretch every seat has been busy up to now
        self._busy_stretch: dict[str, tuple[str, float]] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def sample(
        self, snapshot: FleetSnapshot, internet: Mapping[str, SiteInternet] | None = None
    ) -> None:
        """Count the time since the last sample into the day of `snapshot.taken_at`.

        `internet`: each site's internet state now (ocrfleet/internet/judge.py).

        Raises StoreError when the store cannot be written; nothing of this
        sample is then kept, and the next sample counts its own interval.
        """
        with self._lock:
            now = snapshot.taken_at
            minutes = self._minutes_since_previous(now) / 60.0
            by_site: dict[str, list[DeviceView]] = defaultdict(list)
            for view in snapshot.devices:
                if view.info.kind in self._kinds:
                    by_site[view.info.site].append(view)
            sites: dict[tuple[str, str], _SiteMinutes] = {}
            counters: list[_CounterRow] = []
            with store_errors(self.path):
                for site, views in by_site.items():
                    schedule = _schedule_of(views)
                    day = local_day(now, schedule)
                    figures = [device_figures(self._kinds[v.info.kind], v) for v in views]
                    counted = self._site_minutes(views, figures, schedule, now, minutes)
                    counted.longest_all_seats_busy = self._busy_stretch_of(site, day, counted)
                    sites[(site, day)] = counted
                    _count_internet(counted, (internet or {}).get(site))
                    counters += self._counter_rows(views, figures, day)
                self._write(sites, counters)
            self._previous = now
            for row in counters:
                self._counters[(row.site, row.device, row.figure)] = row.value

    def _minutes_since_previous(self, now: float) -> float:
        if self._previous is None:
            return self._interval
        elapsed = now - self._previous
        if elapsed <= 0:
            return 0.0  # the clock went back: this time was counted already
        return elapsed if elapsed <= self._max_gap else self._interval

    def _busy_stretch_of(self, site: str, day: str, counted: _SiteMinutes) -> float:
        """Minutes every seat has been busy without a break, today; a new day starts afresh."""
        if not counted.all_seats_busy:
            self._busy_stretch.pop(site, None)
            return 0.0
        stretch_day, stretch = self._busy_stretch.get(site, (day, 0.0))
        stretch = (stretch if stretch_day == day else 0.0) + counted.all_seats_busy
        self._busy_stretch[site] = (day, stretch)
        return stretch

    def _site_minutes(
        self,
        views: list[DeviceView],
        figures: list[dict[str, float]],
        schedule: SiteSchedule | None,
        now: float,
        minutes: float,
    ) -> _SiteMinutes:
        counted = _SiteMinutes(sampled=minutes)
        peaks = [f.name for f in self._figures if f.aggregation is Aggregation.PEAK]
        for values in figures:
            for name in peaks:
                if name in values:
                    counted.peaks[name] = counted.peaks.get(name, 0.0) + values[name]
        if schedule is not None and not schedule.is_open(now):
            return counted
        counted.open = minutes
        usable = unreserved = busy = 0
        for view in views:
            up = device_status(view, now, self._kinds.get(view.info.kind)).state is DeviceState.UP
            if self._kinds[view.info.kind].is_seat:
                counted.seats += minutes
                if up:
                    usable += 1
                    unreserved += 0 if view.info.reservable else 1
                    busy += 1 if view.usage.in_use else 0
                if view.usage.in_use:
                    counted.seats_in_use += minutes
                continue
            totals = counted.kinds.setdefault(view.info.kind, [0.0, 0.0])
            totals[0] += minutes
            totals[1] += minutes if up else 0.0
        counted.seats_usable = usable * minutes
        counted.with_usable_seat = minutes if usable else 0.0
        counted.with_unreserved_seat = minutes if unreserved else 0.0
        counted.all_seats_busy = minutes if seats_full(usable, busy) else 0.0
        return counted

    def _counter_rows(
        self, views: list[DeviceView], figures: list[dict[str, float]], day: str
    ) -> list[_CounterRow]:
        increasing = {f.name for f in self._figures if f.aggregation is Aggregation.INCREASE}
        rows = []
        for view, values in zip(views, figures, strict=True):
            for name, value in values.items():
                if name not in increasing:
                    continue
                site, device = view.info.key
                previous = self._counters.get((site, device, name))
                if previous is None:
                    previous = self._last_recorded(site, device, day, name)
                if previous is None:
                    increase, first = 0.0, value
                else:
                    # A counter that went down was reset (a restart): it grew
                    # from zero since, as Prometheus counts it.
                    increase = value - previous if value >= previous else value
                    first = previous
                rows.append(
                    _CounterRow(site, device, day, name, view.info.kind, first, value, increase)
                )
        return rows

    def _last_recorded(self, site: str, device: str, day: str, figure: str) -> float | None:
        # After a restart, today's row still knows where the counter stood.
        row = self._db.execute(
            "SELECT last_value FROM device_daily "
            "WHERE site = ? AND device = ? AND day = ? AND figure = ?",
            (site, device, day, figure),
        ).fetchone()
        return None if row is None else float(row[0])

    def _write(
        self, sites: dict[tuple[str, str], _SiteMinutes], counters: list[_CounterRow]
    ) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                """
                INSERT INTO site_daily (site, day, sampled_minutes, open_minutes, seat_minutes,
                    seat_minutes_usable, seat_minutes_in_use, minutes_with_usable_seat,
                    minutes_with_unreserved_seat, minutes_all_seats_busy, longest_all_seats_busy,
                    internet_minutes_known, internet_minutes_up, internet_minutes_degraded,
                    internet_minutes_down)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site, day) DO UPDATE SET
                    sampled_minutes = sampled_minutes + excluded.sampled_minutes,
                    open_minutes = open_minutes + excluded.open_minutes,
                    seat_minutes = seat_minutes + excluded.seat_minutes,
                    seat_minutes_usable = seat_minutes_usable + excluded.seat_minutes_usable,
                    seat_minutes_in_use = seat_minutes_in_use + excluded.seat_minutes_in_use,
                    minutes_with_usable_seat =
                        minutes_with_usable_seat + excluded.minutes_with_usable_seat,
                    minutes_with_unreserved_seat =
                        minutes_with_unreserved_seat + excluded.minutes_with_unreserved_seat,
                    minutes_all_seats_busy =
                        minutes_all_seats_busy + excluded.minutes_all_seats_busy,
                    longest_all_seats_busy =
                        max(longest_all_seats_busy, excluded.longest_all_seats_busy),
                    internet_minutes_known =
                        internet_minutes_known + excluded.internet_minutes_known,
                    internet_minutes_up = internet_minutes_up + excluded.internet_minutes_up,
                    internet_minutes_degraded =
                        internet_minutes_degraded + excluded.internet_minutes_degraded,
                    internet_minutes_down = internet_minutes_down + excluded.internet_minutes_down
                """,
                [
                    (
                        site,
                        day,
                        m.sampled,
                        m.open,
                        m.seats,
                        m.seats_usable,
                        m.seats_in_use,
                        m.with_usable_seat,
                        m.with_unreserved_seat,
                        m.all_seats_busy,
                        m.longest_all_seats_busy,
                        m.internet_known,
                        m.internet_up,
                        m.internet_degraded,
                        m.internet_down,
                    )
                    for (site, day), m in sites.items()
                ],
            )
            self._db.executemany(
                """
                INSERT INTO kind_daily (site, day, kind, device_minutes, device_minutes_up)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (site, day, kind) DO UPDATE SET
                    device_minutes = device_minutes + excluded.device_minutes,
                    device_minutes_up = device_minutes_up + excluded.device_minutes_up
                """,
                [
                    (site, day, kind, total, up)
                    for (site, day), m in sites.items()
                    for kind, (total, up) in m.kinds.items()
                ],
            )
            self._db.executemany(
                """
                INSERT INTO site_figure_daily (site, day, figure, peak) VALUES (?, ?, ?, ?)
                ON CONFLICT (site, day, figure) DO UPDATE SET peak = max(peak, excluded.peak)
                """,
                [
                    (site, day, figure, peak)
                    for (site, day), m in sites.items()
                    for figure, peak in m.peaks.items()
                ],
            )
            self._db.executemany(
                """
                INSERT INTO device_daily
                    (site, device, day, figure, kind, first_value, last_value, increase)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site, device, day, figure) DO UPDATE SET
                    kind = excluded.kind,
                    last_value = excluded.last_value,
                    increase = increase + excluded.increase
                """,
                [
                    (r.site, r.device, r.day, r.figure, r.kind, r.first_value, r.value, r.increase)
                    for r in counters
                ],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _count_internet(counted: _SiteMinutes, found: SiteInternet | None) -> None:
    # Only opening minutes count, as for the seats: a line down at night bothers no visitor.
    if not counted.open or found is None or found.reachable is None:
        return
    counted.internet_known = counted.open
    if found.reachable:
        counted.internet_up = counted.open
        if found.state is InternetState.DEGRADED:
            counted.internet_degraded = counted.open
    else:
        counted.internet_down = counted.open


def _schedule_of(views: list[DeviceView]) -> SiteSchedule | None:
    # Every device of a site carries the site's schedule.
    for view in views:
        if view.info.schedule is not None:
            return view.info.schedule
    return None
