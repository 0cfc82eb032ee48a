"""The history: daily figures sampled from FleetState, and the retention purge.

Sites count in their own time zone: the day boundary below is midnight in
Brussels, two hours before the UTC date changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.cli.common import load_catalog
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.history.days import Month, local_day
from ocrfleet.history.figures import declared_figures, device_figures
from ocrfleet.history.purge import purge_history
from ocrfleet.history.recorder import HistoryRecorder
from ocrfleet.kinds import Aggregation, DeviceKind, FigureSpec, Sample
from ocrfleet.pluginhost import hookimpl
from ocrfleet.pluginhost.catalog import PluginConflictError
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import Availability, DeviceView, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store, StoreError
from tests.support.daemon import catalog

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = 86400.0
PC1 = DeviceKey("lib", "pc-01")
PC2 = DeviceKey("lib", "pc-02")
METER = DeviceKey("lib", "meter-01")
FIGURES = (
    FigureSpec("pages", "Pages", "test_pages_total", Aggregation.INCREASE),
    FigureSpec("clients_peak", "Peak clients", "test_clients", Aggregation.PEAK),
)


def brussels(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    """A moment in October 2026; the 5th is a Monday."""
    return datetime(2026, 10, day, hour, minute, second, tzinfo=BRUSSELS).timestamp()


class SeatKind(DeviceKind):
    name: ClassVar[str] = "seat"
    is_seat: ClassVar[bool] = True

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()


class MeterKind(DeviceKind):
    """A polled device whose reading is (pages, clients): a counter and a gauge."""

    name: ClassVar[str] = "meter"
    figure_specs: ClassVar[tuple[FigureSpec, ...]] = FIGURES

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        if isinstance(device.reading, tuple):
            pages, clients = device.reading
            yield Sample("test_pages_total", pages)
            yield Sample("test_clients", clients, ("radio-a",))
            yield Sample("test_clients", 1.0, ("radio-b",))
            yield Sample("test_other", 42.0)


class HookKind(DeviceKind):
    """A kind that names its daily figures itself instead of by metric."""

    name: ClassVar[str] = "hooked"
    figure_specs: ClassVar[tuple[FigureSpec, ...]] = FIGURES[:1]

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        raise AssertionError("not read when daily_figures exists")

    def daily_figures(self, device: DeviceView) -> Mapping[str, float]:
        return {"pages": 7.0, "unknown_figure": 1.0}


class BrokenKind(MeterKind):
    name: ClassVar[str] = "broken"

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        raise RuntimeError("plugin bug")


KINDS: dict[str, DeviceKind] = {
    "seat": SeatKind(),
    "meter": MeterKind(),
    "hooked": HookKind(),
    "broken": BrokenKind(),
}


def fleet(extra: list[dict[str, Any]] | None = None) -> LoadedConfig:
    devices = [
        {"id": "pc-01", "kind": "seat", "reservable": True},
        {"id": "pc-02", "kind": "seat"},
        {"id": "meter-01", "kind": "meter"},
        *(extra or []),
    ]
    data = {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": "lib",
                "name": "Library",
                "village_core": "Testdorp",
                "timezone": "Europe/Brussels",
                "opening_hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]},
                "devices": devices,
            }
        ],
    }
    return load_config(data, KINDS)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


@pytest.fixture
def recorder(store_path: Path) -> Iterator[HistoryRecorder]:
    opened = HistoryRecorder(StoreConnections(store_path), KINDS)
    try:
        yield opened
    finally:
        opened.close()


def rows(path: Path, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, parameters).fetchall()
    finally:
        db.close()


SITE_COLUMNS = (
    "day, sampled_minutes, open_minutes, seat_minutes, seat_minutes_usable, "
    "seat_minutes_in_use, minutes_with_usable_seat, minutes_with_unreserved_seat"
)


def site_days(path: Path) -> list[tuple[Any, ...]]:
    return rows(path, f"SELECT {SITE_COLUMNS} FROM site_daily WHERE site = 'lib' ORDER BY day")


# -- days ---------------------------------------------------------------------


def test_month_parse_and_bounds() -> None:
    october = Month.parse("2026-10")
    assert (october.year, october.month, str(october)) == (2026, 10, "2026-10")
    assert len(october.days) == 31 and str(Month.parse("2026-12").next()) == "2027-01"
    start, end = october.bounds(BRUSSELS)
    assert start == brussels(1, 0)
    # October 2026 ends on winter time: 31 days and the hour the clocks go back.
    assert end - start == 31 * DAY + 3600
    for bad in ("2026-13", "2026-00", "26-10", "2026/10", "October", "1969-12"):
        with pytest.raises(ValueError, match=r"YYYY-MM|01 to 12|1970"):
            Month.parse(bad)


def test_local_day_is_the_sites_date() -> None:
    loaded = fleet()
    schedule = loaded.schedules["lib"]
    late = brussels(5, 23, 30)
    assert local_day(late, schedule) == "2026-10-05"
    after_midnight = brussels(6, 0, 30)
    assert local_day(after_midnight, schedule) == "2026-10-06"
    assert local_day(after_midnight, None) == "2026-10-05"  # UTC


# -- figures from kinds -------------------------------------------------------


def test_figures_come_from_samples_by_metric_name_or_from_the_hook() -> None:
    loaded = fleet([{"id": "h-01", "kind": "hooked"}, {"id": "b-01", "kind": "broken"}])
    state = FleetState(loaded.devices, {})
    state.record_reading(METER, (120.0, 5.0), brussels(5, 10))
    views = {v.info.id: v for v in state.snapshot(brussels(5, 10)).devices}
    assert device_figures(KINDS["meter"], views["meter-01"]) == {
        "pages": 120.0,
        "clients_peak": 6.0,  # both radios
    }
    # Only the figures a kind declares: "unknown_figure" and "clients_peak" are not hooked's.
    assert device_figures(KINDS["hooked"], views["h-01"]) == {"pages": 7.0}
    assert device_figures(KINDS["seat"], views["pc-01"]) == {}
    assert device_figures(KINDS["broken"], views["b-01"]) == {}


def test_the_history_keeps_every_figure_its_kinds_declare_once() -> None:
    assert declared_figures(KINDS) == (FIGURES[1], FIGURES[0])  # in name order


def test_one_figure_name_with_two_aggregations_is_a_plugin_conflict() -> None:
    class OtherMeter(MeterKind):
        name: ClassVar[str] = "other"
        figure_specs: ClassVar[tuple[FigureSpec, ...]] = (
            FigureSpec("pages", "Pages", "test_pages", Aggregation.PEAK),
        )

    with pytest.raises(
        ValueError, match="'pages' is the increase in kind 'broken' but the peak in kind 'other'"
    ):
        declared_figures({**KINDS, "other": OtherMeter()})

    class OtherPlugin:
        @hookimpl
        def ocrfleet_device_kinds(self) -> list[DeviceKind]:
            return [MeterKind(), OtherMeter()]

    with pytest.raises(PluginConflictError, match="figure 'pages'"):
        catalog(OtherPlugin())


# -- the recorder -------------------------------------------------------------


def test_minutes_count_only_while_the_site_is_open(
    recorder: HistoryRecorder, store_path: Path
) -> None:
    loaded = fleet()
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 16, 55, 30))  # Monday; the site closes at 17:00
    session = SessionEvent(SessionEventType.START, "s1", clock.now())
    state.record_session(PC1, session, new_session=True)
    for minute in range(10):
        now = clock.now()
        state.record_heartbeat(PC1, now)  # up all along; reservable
        if minute < 2:
            state.record_heartbeat(PC2, now)  # the only seat without reservation
        elif minute == 2:
            state.record_availability(PC2, Availability.OFFLINE, now)
        if minute < 4:
            state.record_reading(METER, (100.0, 2.0), now)
        elif minute == 4:
            state.record_availability(METER, Availability.OFFLINE, now)
        if minute == 3:
            end = SessionEvent(SessionEventType.END, "s1", session.started_at, now)
            state.record_session(PC1, end, new_session=False)
        recorder.sample(state.snapshot(now))
        clock.advance(60)
    # 10 minutes sampled, 5 of them before closing time.
    assert site_days(store_path) == [("2026-10-05", 10.0, 5.0, 10.0, 7.0, 3.0, 5.0, 2.0)]
    assert rows(
        store_path, "SELECT site, day, kind, device_minutes, device_minutes_up FROM kind_daily"
    ) == [("lib", "2026-10-05", "meter", 5.0, 4.0)]
    # Seats are not in kind_daily: their figures are the seat columns.


def test_a_day_boundary_in_brussels_and_a_counter_reset(
    recorder: HistoryRecorder, store_path: Path
) -> None:
    loaded = fleet()
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 23, 58, 30))
    readings = [(200.0, 3.0), (205.0, 7.0), (207.0, 2.0), (3.0, 4.0), (4.0, 0.0)]
    for pages, clients in readings:
        state.record_reading(METER, (pages, clients), clock.now())
        recorder.sample(state.snapshot(clock.now()))
        clock.advance(60)
    counters = rows(
        store_path,
        "SELECT day, figure, kind, first_value, last_value, increase FROM device_daily "
        "WHERE device = 'meter-01' ORDER BY day",
    )
    # Monday: 200 is the baseline, +5. Tuesday: +2, then the counter restarted
    # at 3 (counted as 3 pages) and went to 4.
    assert counters == [
        ("2026-10-05", "pages", "meter", 200.0, 205.0, 5.0),
        ("2026-10-06", "pages", "meter", 205.0, 4.0, 6.0),
    ]
    peaks = rows(store_path, "SELECT day, figure, peak FROM site_figure_daily ORDER BY day")
    # The peak is the site's sum (radio b adds one client), per day.
    assert peaks == [("2026-10-05", "clients_peak", 8.0), ("2026-10-06", "clients_peak", 5.0)]
    # Closed at night: minutes are sampled but none open.
    assert [(r[0], r[1], r[2]) for r in site_days(store_path)] == [
        ("2026-10-05", 2.0, 0.0),
        ("2026-10-06", 3.0, 0.0),
    ]


def test_a_restarted_recorder_continues_todays_counter(store_path: Path) -> None:
    loaded = fleet()
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 10))
    first = HistoryRecorder(StoreConnections(store_path), KINDS)
    for pages in (100.0, 110.0):
        state.record_reading(METER, (pages, 0.0), clock.now())
        first.sample(state.snapshot(clock.now()))
        clock.advance(60)
    first.close()
    second = HistoryRecorder(StoreConnections(store_path), KINDS)
    state.record_reading(METER, (115.0, 0.0), clock.now())
    second.sample(state.snapshot(clock.now()))
    second.close()
    assert rows(store_path, "SELECT increase FROM device_daily") == [(15.0,)]


def test_gaps_and_a_clock_going_back_are_not_counted_as_open_time(
    recorder: HistoryRecorder, store_path: Path
) -> None:
    loaded = fleet()
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 10))
    recorder.sample(state.snapshot(clock.now()))  # first: one interval
    clock.advance(90)
    recorder.sample(state.snapshot(clock.now()))  # a late run: 1.5 minutes
    clock.advance(3600)
    recorder.sample(state.snapshot(clock.now()))  # the daemon stalled: one interval
    clock.advance(-30)
    recorder.sample(state.snapshot(clock.now()))  # the clock went back: nothing
    assert site_days(store_path)[0][:3] == ("2026-10-05", 3.5, 3.5)


def test_a_failing_kind_does_not_stop_the_sample(store_path: Path) -> None:
    loaded = fleet([{"id": "b-01", "kind": "broken"}])
    state = FleetState(loaded.devices, {})
    recorder = HistoryRecorder(StoreConnections(store_path), KINDS)
    try:
        recorder.sample(state.snapshot(brussels(5, 10)))
    finally:
        recorder.close()
    assert site_days(store_path)[0][:4] == ("2026-10-05", 1.0, 1.0, 2.0)


def test_a_store_that_cannot_be_written_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    recorder = HistoryRecorder(StoreConnections(path), KINDS)
    state = FleetState(fleet().devices, {})
    locker = sqlite3.connect(path, isolation_level=None, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        recorder._db.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(StoreError):
            recorder.sample(state.snapshot(brussels(5, 10)))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    # Nothing of the failed sample was kept; the next one counts normally.
    recorder.sample(state.snapshot(brussels(5, 10, 1)))
    recorder.close()
    assert site_days(path)[0][:3] == ("2026-10-05", 1.0, 1.0)


# -- purge --------------------------------------------------------------------


def test_purge_deletes_only_what_is_older_than_the_retention(store_path: Path) -> None:
    Store(StoreConnections(store_path)).close()
    now = brussels(20, 12)
    old, recent = now - 500 * DAY, now - 10 * DAY
    db = sqlite3.connect(store_path, isolation_level=None)
    db.executemany(
        "INSERT INTO sessions (site, device, session_id, started_at, ended_at, closed_by) "
        "VALUES ('lib', 'pc-01', ?, ?, ?, ?)",
        [
            ("ended-old", old, old + 600, "agent"),
            ("ended-recent", recent, recent + 600, "agent"),
            ("open-old", old, None, None),
        ],
    )
    db.executemany(
        "INSERT INTO alert_events (key, rule, site, device, severity, status, at) "
        "VALUES ('k', 'r', 'lib', NULL, 'warning', 'firing', ?)",
        [(old,), (recent,)],
    )
    db.executemany(
        "INSERT INTO outbox (id, channel, created_at, payload, state, next_attempt_at, "
        "finished_at) VALUES (?, 'log', ?, '{}', ?, ?, ?)",
        [
            ("delivered-old", old, "delivered", old, old),
            ("failed-old", old, "failed", old, old),
            ("pending-old", old, "pending", old, None),
            ("delivered-recent", recent, "delivered", recent, recent),
        ],
    )
    db.execute(
        "INSERT INTO maintenance_log (site, device, task, done_at, minutes, source) "
        "VALUES ('lib', 'pc-01', 'monthly', ?, 60, 'cli')",
        (old,),
    )
    for day in ("2025-01-01", "2026-10-10"):
        db.execute("INSERT INTO site_daily (site, day) VALUES ('lib', ?)", (day,))
        db.execute("INSERT INTO kind_daily (site, day, kind) VALUES ('lib', ?, 'meter')", (day,))
        db.execute(
            "INSERT INTO device_daily (site, device, day, figure, kind, first_value, "
            "last_value) VALUES ('lib', 'm', ?, 'pages', 'meter', 0, 0)",
            (day,),
        )
        db.execute(
            "INSERT INTO site_figure_daily (site, day, figure, peak) VALUES ('lib', ?, 'p', 1)",
            (day,),
        )
    db.close()

    result = purge_history(StoreConnections(store_path), now, retention=400 * DAY)

    assert (result.sessions, result.alert_events, result.notifications, result.daily_rows) == (
        1,
        1,
        2,
        4,
    )
    assert rows(store_path, "SELECT session_id FROM sessions ORDER BY session_id") == [
        ("ended-recent",),
        ("open-old",),
    ]
    assert rows(store_path, "SELECT at FROM alert_events") == [(recent,)]
    assert rows(store_path, "SELECT id FROM outbox ORDER BY id") == [
        ("delivered-recent",),
        ("pending-old",),
    ]
    assert rows(store_path, "SELECT count(*) FROM maintenance_log") == [(1,)]
    for table in ("site_daily", "kind_daily", "device_daily", "site_figure_daily"):
        assert rows(store_path, f"SELECT day FROM {table}") == [("2026-10-10",)]
    # Purging again finds nothing more.
    assert purge_history(StoreConnections(store_path), now, 400 * DAY).daily_rows == 0


def test_the_bundled_kinds_figures_name_metrics_of_their_own() -> None:
    # A renamed metric would silently empty a report column.
    kinds = load_catalog().kinds
    assert [f.name for f in declared_figures(kinds)] == ["printer_pages", "wifi_clients_peak"]
    for kind in kinds.values():
        types = {spec.name: spec.type for spec in kind.metric_specs}
        for figure in kind.figure_specs:
            expected = "counter" if figure.aggregation is Aggregation.INCREASE else "gauge"
            assert types.get(figure.metric) == expected, (kind.name, figure)
