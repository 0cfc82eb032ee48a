"""Sessions whose end was lost do not keep a PC 'in use' for ever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ocrfleet.clock import ManualClock
from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import SessionOutcome, Store
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher

KEY = DeviceKey("lib", "pc-01")
PC = {"site": "lib", "device": "pc-01", "kind": "pc"}


def _start(session_id: str, at: float) -> SessionEvent:
    return SessionEvent(SessionEventType.START, session_id, at)


def _closed_by(path: Path) -> dict[str, tuple[float | None, str | None]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT session_id, ended_at, closed_by FROM sessions").fetchall()
    return {sid: (ended, closed_by) for sid, ended, closed_by in rows}


def test_new_start_supersedes_a_session_that_never_ended(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = Store(StoreConnections(path))
    try:
        outcomes = store.record_session_events(
            [(KEY, _start("a", 100.0)), (KEY, _start("b", 500.0))]
        )
        assert outcomes == [SessionOutcome.STARTED, SessionOutcome.STARTED]
        summary = store.usage_summary()[KEY]
        assert summary.sessions_total == 2
        assert summary.open_session is not None and summary.open_session.session_id == "b"
    finally:
        store.close()
    assert _closed_by(path) == {"a": (500.0, "superseded"), "b": (None, None)}


def test_stale_sessions_close_at_start_up_and_while_running(
    broker: Mosquitto, tmp_path: Path
) -> None:
    path = tmp_path / "s.sqlite"
    clock = ManualClock(1_800_000_000.0)
    store = Store(StoreConnections(path))
    store.record_session_events([(KEY, _start("old", clock.now() - 13 * 3600))])
    store.close()
    config = site_config(broker.port, path)
    with RunningApp(config, clock=clock) as daemon:
        # Open for 13 h: closed at start-up, not shown in use.
        assert value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 0.0
        agent = TestPublisher(broker.port)
        start = {"v": 1, "event": "start", "session_id": "new", "started_at": clock.now()}
        agent.publish("ocrfleet/lib/pc-01/session", start)
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 1.0)
        clock.advance(11 * 3600)
        daemon.app.expire_sessions()
        assert value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 1.0
        clock.advance(2 * 3600)
        daemon.app.expire_sessions()
        assert value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 0.0
        assert value(daemon.scrape(), "ocrfleet_sessions_total", **PC) == 2.0
        agent.close()
    closed = _closed_by(path)
    assert closed["old"] == (clock.now() - 26 * 3600 + 12 * 3600, "stale")
    assert closed["new"][1] == "stale"
