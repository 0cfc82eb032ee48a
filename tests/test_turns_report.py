"""Fair turns in the history and the month's report: minutes with every seat busy, the
longest such stretch, and the share of sessions over their limit, from a real store."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.history.days import Month
from ocrfleet.history.reader import HistoryReader
from ocrfleet.history.recorder import HistoryRecorder
from ocrfleet.i18n.catalogs import Catalogs
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.report.build import Fleet, build_report
from ocrfleet.report.csv_format import render_csv
from ocrfleet.report.markdown_format import render_markdown
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import Availability, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from tests.support.daemon import catalog

BRUSSELS = ZoneInfo("Europe/Brussels")
KINDS = catalog().kinds
PC1, PC2, QUICK = DeviceKey("lib", "pc-1"), DeviceKey("lib", "pc-2"), DeviceKey("lib", "quick")
ENGLISH = Speaker(Catalogs(), "en", BRUSSELS)


def brussels(day: int, hour: int, minute: int = 0) -> float:
    """A moment in October 2026; the 5th is a Monday."""
    return datetime(2026, 10, day, hour, minute, tzinfo=BRUSSELS).timestamp()


def _loaded(store: Path) -> LoadedConfig:
    return load_config(
        {
            "municipality": {"name": "Testdorp", "adult_population": 5000},
            "store": {"path": str(store)},
            "sites": [
                {
                    "id": "lib",
                    "name": "Library",
                    "village_core": "Testdorp",
                    "timezone": "Europe/Brussels",
                    "opening_hours": {"mon": ["09:00-12:00"]},
                    "session_limit": "1h",
                    "devices": [
                        {"id": "pc-1", "kind": "pc"},
                        {"id": "pc-2", "kind": "pc"},
                        {"id": "quick", "kind": "pc", "session_limit": "15m"},
                    ],
                }
            ],
        },
        KINDS,
    )


def _session(store: Store, key: DeviceKey, session_id: str, start: float, end: float) -> None:
    store.record_session_events(
        [
            (key, SessionEvent(SessionEventType.START, session_id, start)),
            (key, SessionEvent(SessionEventType.END, session_id, start, end)),
        ]
    )


def test_every_seat_busy_and_sessions_over_the_limit_reach_the_report(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    loaded = _loaded(path)
    connections = StoreConnections(path)
    recorder = HistoryRecorder(connections, KINDS)
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 11, 0))
    # 11:00-12:30 on Monday: every PC up; the quick PC is in use 11:10-11:50,
    # the others all along, so every seat is busy 11:10-11:50 (the site closes at 12:00).
    for key in (PC1, PC2, QUICK):
        state.record_availability(key, Availability.ONLINE, clock.now())
    for key, sid in ((PC1, "a"), (PC2, "b")):
        state.record_session(key, SessionEvent(SessionEventType.START, sid, clock.now()), True)
    for minute in range(90):
        now = clock.now()
        if minute == 10:
            state.record_session(QUICK, SessionEvent(SessionEventType.START, "q", now), True)
        if minute == 50:
            event = SessionEvent(SessionEventType.END, "q", brussels(5, 11, 10), now)
            state.record_session(QUICK, event, False)
        recorder.sample(state.snapshot(now))
        clock.advance(60)
    recorder.close()
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT day, minutes_all_seats_busy, longest_all_seats_busy FROM site_daily"
        ).fetchall() == [("2026-10-05", 40.0, 40.0)]

    store = Store(connections)
    _session(store, PC1, "a", brussels(5, 11, 0), brussels(5, 12, 30))  # 90 min > 1 h
    _session(store, PC2, "b", brussels(5, 11, 0), brussels(5, 11, 45))  # within 1 h
    _session(store, QUICK, "q", brussels(5, 11, 10), brussels(5, 11, 50))  # 40 min > 15 min
    _session(store, QUICK, "r", brussels(6, 10, 0), brussels(6, 10, 5))  # within 15 min
    store.close()

    reader = HistoryReader(connections)
    try:
        fleet = Fleet.of(loaded.devices, KINDS, {})
        report = build_report(reader, loaded.config, Month(2026, 10), brussels(31, 23), fleet=fleet)
    finally:
        reader.close()
    (row,) = report.sites
    assert (row.sessions_limited, row.sessions_over_limit) == (4, 2)
    assert row.over_limit_share == 0.5
    assert row.all_seats_busy_hours == 40 / 60
    assert row.longest_all_seats_busy_hours == 40 / 60
    assert report.total.over_limit_share == 0.5
    line, _total = csv.DictReader(io.StringIO(render_csv(report, ENGLISH, keys=True)))
    assert line["sessions_over_limit_pct"] == "50.0"
    assert line["all_seats_busy_hours"] == "0.67"
    assert line["longest_all_seats_busy_hours"] == "0.67"
    text = render_markdown(report, ENGLISH)
    assert "Fair turns" in text and "Longest stretch with every computer taken" in text


def test_the_longest_stretch_is_of_one_day_and_ends_when_a_seat_frees(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    loaded = _loaded(path)
    recorder = HistoryRecorder(StoreConnections(path), KINDS)
    state = FleetState(loaded.devices, {})
    clock = ManualClock(brussels(5, 9, 0))
    for key in (PC1, PC2):
        state.record_availability(key, Availability.ONLINE, clock.now())
    state.record_availability(QUICK, Availability.OFFLINE, clock.now())  # down: no seat
    state.record_session(PC1, SessionEvent(SessionEventType.START, "a", clock.now()), True)
    for minute in range(60):
        now = clock.now()
        # Both up PCs in use but for a break at minute 20.
        if minute in (0, 21):
            state.record_session(PC2, SessionEvent(SessionEventType.START, f"b{minute}", now), True)
        if minute == 20:
            state.record_session(
                PC2, SessionEvent(SessionEventType.END, "b0", brussels(5, 9, 0), now), False
            )
        recorder.sample(state.snapshot(now))
        clock.advance(60)
    recorder.close()
    with sqlite3.connect(path) as db:
        busy, longest = db.execute(
            "SELECT minutes_all_seats_busy, longest_all_seats_busy FROM site_daily"
        ).fetchone()
    # Busy at every sample but minutes 20 (b0 ended, b21 not yet started) : 59 of 60, and
    # the longest run is minutes 21-59.
    assert (busy, longest) == (59.0, 39.0)


def test_sessions_whose_end_was_lost_are_not_counted_and_the_limit_itself_is_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    loaded = _loaded(path)
    connections = StoreConnections(path)
    store = Store(connections)
    # Exactly the limit: over it, as the live rule judges (used >= limit).
    _session(store, PC1, "exact", brussels(5, 9, 0), brussels(5, 10, 0))
    _session(store, PC2, "short", brussels(5, 9, 0), brussels(5, 9, 30))
    # Never ended: closed as stale at max_duration, which is past any limit.
    store.record_session_events(
        [(QUICK, SessionEvent(SessionEventType.START, "lost", brussels(5, 9, 0)))]
    )
    # Never ended either: closed at the next session's start on the seat, two
    # hours on, which is only a bound (the agent's state was wiped at reboot).
    store.record_session_events(
        [(PC1, SessionEvent(SessionEventType.START, "wiped", brussels(5, 10, 0)))]
    )
    _session(store, PC1, "next", brussels(5, 12, 0), brussels(5, 12, 10))
    assert store.close_stale_sessions(brussels(6, 9, 0), 12 * 3600.0) == 1
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT closed_by FROM sessions WHERE session_id = 'wiped'"
        ).fetchall() == [("superseded",)]

    reader = HistoryReader(connections)
    try:
        fleet = Fleet.of(loaded.devices, KINDS, {})
        report = build_report(reader, loaded.config, Month(2026, 10), brussels(31, 23), fleet=fleet)
    finally:
        reader.close()
    (row,) = report.sites
    assert (row.sessions_limited, row.sessions_over_limit) == (3, 1)
