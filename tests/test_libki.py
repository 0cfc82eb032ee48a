"""The Libki kind in a running daemon, against a Libki-like HTTP server on 127.0.0.1.

The server replays Libki's answers from tests/fixtures/libki/. Polls are
asked for by the test (the poll interval is an hour), and every check of
what the polls changed waits for the store writer to have applied them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.devices import DeviceKey
from tests.support.daemon import RunningApp, Samples, site_config, value, wait_for
from tests.support.libki import CLIENTS, LibkiServer, libki_device, poll_once
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher

LIBKI = DeviceKey("lib", "libki")


def config(broker: Mosquitto, store: Path, url: str) -> dict[str, Any]:
    seats = [{"id": f"pc-0{n}", "kind": "pc"} for n in (1, 2, 3)]
    return site_config(broker.port, store, devices=[*seats, libki_device(url)])


def poll(daemon: RunningApp) -> None:
    """Poll the Libki server now, and wait until the store applied what the poll changed."""
    poll_once(daemon, LIBKI)
    written = threading.Event()
    # Tasks run in order with the session events queued before them.
    daemon.app.writer.submit_task(lambda store: written.set())
    assert written.wait(10), "the store writer did not get through its queue"


def in_use(samples: Samples, seat: str) -> float | None:
    return value(samples, "ocrfleet_seat_in_use", site="lib", device=seat, kind="pc")


def sessions(samples: Samples, seat: str) -> float | None:
    return value(samples, "ocrfleet_sessions_total", site="lib", device=seat, kind="pc")


def clients(samples: Samples, state: str) -> float | None:
    labels = {"site": "lib", "device": "libki", "kind": "libki", "state": state}
    return value(samples, "ocrfleet_libki_clients", **labels)


def libki_up(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_device_up", site="lib", device="libki", kind="libki")


def stored_sessions(store: Path) -> list[tuple[str, str, float | None]]:
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT device, session_id, ended_at FROM sessions ORDER BY device, started_at"
        ).fetchall()
    return [(str(d), str(s), e) for d, s, e in rows]


def test_libki_sessions_are_the_seats_sessions_across_polls_and_restarts(
    broker: Mosquitto, libki_server: LibkiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "s.sqlite"
    caplog.set_level(logging.WARNING, logger="ocrfleet_libki")
    with RunningApp(config(broker, store, libki_server.url)) as daemon:
        poll(daemon)
        poll(daemon)  # the second knows the site's seats: unmatched clients are counted
        samples = daemon.scrape()
        assert [in_use(samples, seat) for seat in ("pc-01", "pc-02", "pc-03")] == [0, 1, 0]
        assert value(samples, "ocrfleet_site_seats_in_use", site="lib") == 1
        assert sessions(samples, "pc-02") == 1, "one session, however often it is polled"
        assert libki_up(samples) == 1
        # The location's figures: PC-02 and PC-09 in use, PC-03 reserved, PC-01 free,
        # LAPTOP-01 offline; ZD-PC-01 is at another location.
        assert [clients(samples, s) for s in ("in_use", "reserved", "available", "offline")] == [
            2,
            1,
            1,
            1,
        ]
        # PC-09 and LAPTOP-01 are no seats of the site: counted and logged, never created.
        labels = {"site": "lib", "device": "libki", "kind": "libki"}
        assert value(samples, "ocrfleet_libki_unmatched_clients", **labels) == 2
        assert value(samples, "ocrfleet_seat_in_use", site="lib", device="pc-09", kind="pc") is None
        assert any("LAPTOP-01, PC-09" in r.getMessage() for r in caplog.records)

        # PC-02's visitor left; someone sat down at PC-01.
        libki_server.serve(CLIENTS, "clients-later.json")
        poll(daemon)
        samples = daemon.scrape()
        assert [in_use(samples, seat) for seat in ("pc-01", "pc-02", "pc-03")] == [1, 0, 0]
        assert [sessions(samples, seat) for seat in ("pc-01", "pc-02")] == [1, 1]
        ended = value(samples, "ocrfleet_session_duration_seconds_count", site="lib", kind="pc")
        assert ended == 1

    # A restart: the open session is the same one, not a second.
    with RunningApp(config(broker, store, libki_server.url)) as daemon:
        poll(daemon)
        samples = daemon.scrape()
        assert [in_use(samples, seat) for seat in ("pc-01", "pc-02", "pc-03")] == [1, 0, 0]
        assert [sessions(samples, seat) for seat in ("pc-01", "pc-02")] == [1, 1]

    rows = stored_sessions(store)
    assert [(device, ended is None) for device, _id, ended in rows] == [
        ("pc-01", True),
        ("pc-02", False),
    ]
    # Ids derived from Libki's session: neither its own id nor a user's name.
    assert all(session.startswith("libki-") for _device, session, _ended in rows)
    assert not any("d8e8fca2dc0f896fd7cb4cb0031ba249" in session for _d, session, _e in rows)


def test_libki_down_is_the_libki_device_down_and_leaves_the_seats_as_they_were(
    broker: Mosquitto, libki_server: LibkiServer, tmp_path: Path
) -> None:
    with RunningApp(config(broker, tmp_path / "s.sqlite", libki_server.url)) as daemon:
        poll(daemon)
        assert in_use(daemon.scrape(), "pc-02") == 1
        libki_server.stop()
        poll(daemon)
        samples = daemon.scrape()
        assert libki_up(samples) == 0
        errors = {"source": "http", "kind": "libki", "reason": "refused"}
        assert (value(samples, "ocrfleet_poll_errors_total", **errors) or 0) >= 1
        # Not known, so not changed: no session ended, none invented.
        assert [in_use(samples, seat) for seat in ("pc-01", "pc-02", "pc-03")] == [0, 1, 0]
        assert clients(samples, "in_use") is None, "no figures from a server that is down"


def test_malformed_json_is_a_clear_poll_error(
    broker: Mosquitto, libki_server: LibkiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    libki_server.serve(CLIENTS, "clients-malformed.json")
    caplog.set_level(logging.WARNING, logger="ocrfleet.poller")
    with RunningApp(config(broker, tmp_path / "s.sqlite", libki_server.url)) as daemon:
        poll(daemon)
        samples = daemon.scrape()
        assert libki_up(samples) == 0
        errors = {"source": "http", "kind": "libki", "reason": "protocol"}
        assert (value(samples, "ocrfleet_poll_errors_total", **errors) or 0) >= 1
        assert [in_use(samples, seat) for seat in ("pc-01", "pc-02", "pc-03")] == [0, 0, 0]
    messages = [r.getMessage() for r in caplog.records]
    assert any("api/v2/clients: not JSON" in m and "lib/libki" in m for m in messages), messages


def test_a_seat_whose_agent_reports_its_session_is_left_to_the_agent(
    broker: Mosquitto, libki_server: LibkiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # PC-02's agent runs without `--sessions external`: its session is not Libki's to end.
    store = tmp_path / "s.sqlite"
    with RunningApp(config(broker, store, libki_server.url)) as daemon:
        agent = TestPublisher(broker.port)
        try:
            began = time.time() - 60
            start = {"v": 1, "event": "start", "session_id": "agent-7", "started_at": began}
            agent.publish("ocrfleet/lib/pc-02/session", start)
            wait_for(lambda: in_use(daemon.scrape(), "pc-02") == 1, what="the agent's session")
            poll(daemon)
            libki_server.serve(CLIENTS, "clients-later.json")  # PC-02 free in Libki
            poll(daemon)
            samples = daemon.scrape()
            assert in_use(samples, "pc-02") == 1
            assert sessions(samples, "pc-02") == 1
        finally:
            agent.close()
    assert [(d, s) for d, s, _e in stored_sessions(store) if d == "pc-02"] == [("pc-02", "agent-7")]
    assert "lib/pc-02 has a session from another source" in caplog.text
