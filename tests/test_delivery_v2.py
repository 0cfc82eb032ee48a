"""End-to-end session delivery (interface version 2) against a real daemon and Mosquitto.

Agents number their session events and keep them in a journal until the
daemon's acknowledgement says they are committed; the daemon applies them
once each, in order, whatever order and however often they arrive.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ocrfleet.devices import DeviceKey
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import Health, SessionMessage
from ocrfleet_agent.runner import AgentRunner
from ocrfleet_agent.sessions import Usage
from tests.support.daemon import RunningApp, Samples, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher
from tests.support.retained import read_retained

KEY = DeviceKey("lib", "pc-01")
PC = {"site": "lib", "device": "pc-01", "kind": "pc"}
HIST = {"site": "lib", "kind": "pc"}
SESSION = "ocrfleet/lib/pc-01/session"
ACK = "ocrfleet/lib/pc-01/ack"
YEAR_2999 = 32_503_000_000.0


# -- helpers ------------------------------------------------------------------------


def outcome(samples: Samples, name: str) -> float | None:
    return value(samples, "ocrfleet_session_events_total", outcome=name)


def outcomes(samples: Samples) -> dict[str, float | None]:
    names = ("started", "ended", "whole", "duplicate", "implausible_time", "skipped")
    return {name: outcome(samples, name) for name in names}


def held(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_session_events_held")


def in_use(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_pc_in_use", **PC)


def sessions_total(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_sessions_total", **PC)


def durations(samples: Samples) -> tuple[float | None, float | None]:
    return (
        value(samples, "ocrfleet_session_duration_seconds_count", **HIST),
        value(samples, "ocrfleet_session_duration_seconds_sum", **HIST),
    )


def rejected(samples: Samples) -> float:
    return sum(
        v for (name, _), v in samples.items() if name == "ocrfleet_mqtt_messages_rejected_total"
    )


def retained_ack(port: int, topic: str = ACK) -> dict[str, Any] | None:
    payload = read_retained(port, topic)
    return None if payload is None else dict(json.loads(payload))


def wait_ack(port: int, stream: str, seq: int) -> None:
    """The broker holds the daemon's ack (published just after the commit, so
    possibly after the metrics that show the commit)."""
    want = {"v": 2, "stream": stream, "seq": seq}
    wait_for(lambda: retained_ack(port) == want, what=f"ack of event {seq} of {stream}")


def stored(path: Path) -> dict[str, tuple[float, float | None, str | None]]:
    """session id: (started_at, ended_at, closed_by), read beside the daemon's writer."""
    db = sqlite3.connect(path, timeout=10)
    try:
        rows = db.execute("SELECT session_id, started_at, ended_at, closed_by FROM sessions")
        return {sid: (started, ended, closed_by) for sid, started, ended, closed_by in rows}
    finally:
        db.close()


def position(path: Path, stream: str) -> int:
    store = Store(StoreConnections(path))
    try:
        return store.stream_position(KEY, stream)
    finally:
        store.close()


def v2(
    seq: int,
    event: str,
    session_id: str,
    started: float,
    ended: float | None = None,
    stream: str = "s1",
    oldest: int | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "v": 2,
        "event": event,
        "session_id": session_id,
        "started_at": started,
        "stream": stream,
        "seq": seq,
    }
    if ended is not None:
        payload["ended_at"] = ended
    if oldest is not None:
        payload["oldest"] = oldest
    return payload


def v1(event: str, session_id: str, started: float, ended: float | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"v": 1, "event": event, "session_id": session_id}
    payload["started_at"] = started
    if ended is not None:
        payload["ended_at"] = ended
    return payload


class Script:
    """A session source the test drives."""

    name = "script"

    def __init__(self) -> None:
        self.usage = Usage(False)

    def read(self, now: float) -> Usage | None:
        return self.usage


def health() -> Health:
    return Health(
        ts=time.time(),
        cpu_ratio=0.1,
        memory_used_ratio=0.5,
        disk_free_bytes=1_000_000,
        uptime_seconds=100.0,
        os="Test OS",
        agent_version="test",
    )


def connection(port: int) -> AgentConnection:
    settings = BrokerSettings(
        host="127.0.0.1",
        port=port,
        client_id="ocrfleet-agent-lib-pc-01",
        reconnect_min_delay=1,
        reconnect_max_delay=2,
    )
    return AgentConnection(settings, AgentIdentity("ocrfleet", "lib", "pc-01"))


@contextmanager
def running_agent(
    port: int,
    journal: Journal,
    source: Script,
    resend_interval: float = 60.0,
    conn: AgentConnection | None = None,
) -> Iterator[AgentRunner]:
    runner = AgentRunner(
        conn or connection(port),
        journal,
        source,
        health,
        interval=60.0,
        session_check_interval=0.05,
        resend_interval=resend_interval,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        runner.wake()
        thread.join(10)
        assert not thread.is_alive(), "the agent did not stop"


def send(conn: AgentConnection, journal: Journal, message: SessionMessage) -> None:
    """What the runner does with a new event."""
    assert conn.publish_session(replace(message, oldest=journal.oldest))


def config(broker: Mosquitto, store: Path) -> dict[str, Any]:
    return site_config(broker.port, store, reconnect_min_delay=1, reconnect_max_delay=2)


# -- (a) the agent's journal empties once the daemon commits ----------------------------


def test_journal_empties_once_the_daemon_commits(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    journal_path = tmp_path / "journal.json"
    journal = Journal(journal_path)
    source = Script()
    with RunningApp(config(broker, store)) as daemon, running_agent(broker.port, journal, source):
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_device_up", **PC) == 1.0, what="up")
        source.usage = Usage(True)
        wait_for(lambda: in_use(daemon.scrape()) == 1.0, what="session started")
        source.usage = Usage(False)
        wait_for(lambda: in_use(daemon.scrape()) == 0.0, what="session ended")
        wait_for(lambda: journal.pending() == [], what="the journal emptied by the ack")
        assert retained_ack(broker.port) == {"v": 2, "stream": journal.stream, "seq": 2}
        samples = daemon.scrape()
        assert sessions_total(samples) == 1.0
        assert durations(samples)[0] == 1.0
        assert outcomes(samples) == {
            "started": 1.0,
            "ended": 1.0,
            "whole": 0.0,
            "duplicate": 0.0,
            "implausible_time": 0.0,
            "skipped": 0.0,
        }
        assert held(samples) == 0.0
    assert Journal(journal_path).pending() == [], "the emptied journal is on disk"
    assert position(store, journal.stream) == 2
    assert len(stored(store)) == 1


def test_events_recorded_during_an_outage_are_sent_after_it(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    journal = Journal(tmp_path / "journal.json")
    source = Script()
    conn = connection(broker.port)
    with (
        RunningApp(config(broker, store)) as daemon,
        running_agent(broker.port, journal, source, resend_interval=0.5, conn=conn) as runner,
    ):
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_device_up", **PC) == 1.0, what="up")
        broker.stop()
        wait_for(lambda: not daemon.app.subscriber.connected, what="daemon notices the outage")
        wait_for(lambda: not conn.connected, what="agent notices the outage")
        source.usage = Usage(True)
        wait_for(lambda: len(journal.pending()) == 1, what="start journaled")
        source.usage = Usage(False)
        wait_for(lambda: len(journal.pending()) == 2, what="end journaled")
        assert runner.resend() == 0, "nothing is sent without a broker"

        broker.start()
        assert daemon.app.subscriber.wait_connected(20)
        wait_for(lambda: journal.pending() == [], timeout=20, what="re-sent and acknowledged")
        samples = daemon.scrape()
        assert sessions_total(samples) == 1.0
        assert durations(samples)[0] == 1.0
        assert outcome(samples, "started") == 1.0
        assert outcome(samples, "ended") == 1.0
        assert in_use(samples) == 0.0
    assert len(stored(store)) == 1
    assert position(store, journal.stream) == 2


# -- (b) reordered delivery -----------------------------------------------------------------


def test_reordered_events_are_applied_in_order(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 3600
    events = [
        v2(1, "start", "a", t0),
        v2(2, "end", "a", t0, t0 + 300),
        v2(3, "start", "b", t0 + 1000),
        v2(4, "end", "b", t0 + 1000, t0 + 1500),
    ]
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        # The end of session a arrives after the start of b, and b's end
        # before a's start: all wait for event 1.
        for n in (3, 2, 4):
            raw.publish(SESSION, events[n - 1])
        wait_for(lambda: held(daemon.scrape()) == 3.0, what="three events held")
        samples = daemon.scrape()
        assert sessions_total(samples) == 0.0
        assert in_use(samples) == 0.0
        assert stored(store) == {}
        wait_ack(broker.port, "s1", 0)

        raw.publish(SESSION, events[0])
        wait_for(lambda: durations(daemon.scrape())[0] == 2.0, what="both sessions ended")
        samples = daemon.scrape()
        assert durations(samples) == (2.0, 800.0), "each with its real duration"
        assert sessions_total(samples) == 2.0
        assert in_use(samples) == 0.0
        assert held(samples) == 0.0
        assert outcome(samples, "started") == 2.0
        assert outcome(samples, "ended") == 2.0
        assert outcome(samples, "duplicate") == 0.0
        wait_ack(broker.port, "s1", 4)
        raw.close()
    assert stored(store) == {
        "a": (t0, t0 + 300, "agent"),
        "b": (t0 + 1000, t0 + 1500, "agent"),
    }


def test_numbers_the_agent_no_longer_holds_are_not_waited_for(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 3600
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        raw.publish(SESSION, v2(2, "start", "a", t0))
        wait_for(lambda: held(daemon.scrape()) == 1.0, what="event 2 held")
        # The journal overflowed: 1 and 3 are gone for good.
        raw.publish(SESSION, v2(4, "end", "a", t0, t0 + 60, oldest=4))
        wait_for(lambda: durations(daemon.scrape())[0] == 1.0, what="session ended")
        samples = daemon.scrape()
        assert outcome(samples, "skipped") == 2.0
        assert held(samples) == 0.0
        assert in_use(samples) == 0.0
        wait_ack(broker.port, "s1", 4)
        raw.close()
    assert stored(store) == {"a": (t0, t0 + 60, "agent")}


# -- (c) a flood of re-sent duplicates --------------------------------------------------


def test_flood_of_duplicates_is_counted_and_harmless(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 3600
    events = [
        v2(1, "start", "a", t0),
        v2(2, "end", "a", t0, t0 + 100),
        v2(3, "start", "b", t0 + 200),
        v2(4, "end", "b", t0 + 200, t0 + 500),
    ]
    flood = 2000
    acks: list[bytes] = []
    watcher = paho.Client(CallbackAPIVersion.VERSION2, client_id="ack-watcher")
    watcher.on_message = lambda client, userdata, message: acks.append(bytes(message.payload))
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        for event in events:
            raw.publish(SESSION, event)
        wait_for(lambda: durations(daemon.scrape())[0] == 2.0, what="both sessions stored")
        watcher.connect("127.0.0.1", broker.port)
        watcher.subscribe(ACK, qos=1)
        watcher.loop_start()
        try:
            wait_for(
                lambda: bool(acks) and json.loads(acks[-1]) == {"v": 2, "stream": "s1", "seq": 4},
                what="the ack of event 4",
            )
            before = len(acks)
            payloads = [json.dumps(events[n % 4]) for n in range(flood)]
            infos = [raw.client.publish(SESSION, payload, qos=1) for payload in payloads]
            for info in infos:
                info.wait_for_publish(10)
            wait_for(
                lambda: outcome(daemon.scrape(), "duplicate") == float(flood),
                timeout=30,
                what="every duplicate counted",
            )
            samples = daemon.scrape()
            assert sessions_total(samples) == 2.0
            assert durations(samples) == (2.0, 400.0)
            assert outcome(samples, "started") == 2.0
            assert outcome(samples, "ended") == 2.0
            assert held(samples) == 0.0
            assert rejected(samples) == 0.0
            assert daemon.app.writer.alive
            assert daemon.app.subscriber.connected
            # Duplicates re-announce an unchanged position now and then, not each time.
            repeated = len(acks) - before
            assert repeated < 50, f"{repeated} acks for {flood} duplicates"

            # The daemon still takes new events at once.
            raw.publish(SESSION, v2(5, "start", "c", t0 + 1000))
            wait_for(lambda: in_use(daemon.scrape()) == 1.0, what="a new session after the flood")
            wait_for(
                lambda: bool(acks) and json.loads(acks[-1])["seq"] == 5,
                what="its ack at once",
            )
        finally:
            watcher.disconnect()
            watcher.loop_stop()
            raw.close()
    assert set(stored(store)) == {"a", "b", "c"}
    assert position(store, "s1") == 5


# -- (d) garbage on the ack topics ---------------------------------------------------------


GARBAGE: list[bytes] = [
    b"",
    b"garbage",
    b"\xff\xfe\x00",
    b"[]",
    b"null",
    b'{"v": 2}',
    b'{"v": 1, "stream": "x", "seq": 1}',
    b'{"v": 2, "stream": "bad stream!", "seq": 1}',
    b'{"v": 2, "stream": "x", "seq": -1}',
    b'{"v": 2, "stream": "x", "seq": 1.5}',
    b'{"v": 2, "stream": "x", "seq": "1"}',
    b'{"v": 2, "stream": "x", "seq": 1e400}',
    b"[" * 50_000,
    b"x" * 200_000,
]


def test_garbage_acks_disturb_neither_daemon_nor_agent(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocrfleet_agent.mqtt")
    store = tmp_path / "s.sqlite"
    journal = Journal(tmp_path / "journal.json")
    stream = journal.stream
    source = Script()

    def bad_acks() -> int:
        return sum("bad acknowledgement" in r.getMessage() for r in caplog.records)

    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        # Waiting for the agent when it connects.
        raw.publish(ACK, b"retained garbage", retain=True)
        raw.publish("ocrfleet/lib/pc-99/ack", b'{"v": 2, "stream": "x", "seq": 1}', retain=True)
        with running_agent(broker.port, journal, source):
            wait_for(lambda: bad_acks() == 1, what="the retained garbage ignored")
            for payload in GARBAGE:
                raw.publish(ACK, payload)
            # Valid acknowledgements, but not of this agent's stream.
            raw.publish(ACK, {"v": 2, "stream": "someone-else", "seq": 10**6})
            raw.publish(ACK, {"v": 2, "stream": "someone-else", "seq": 0}, retain=True)
            for topic in ("ocrfleet/lib/pc-99/ack", "ocrfleet/other/pc-01/ack", "ocrfleet/ack"):
                raw.publish(topic, b"garbage")
                raw.publish(topic, {"v": 2, "stream": stream, "seq": 10**6})
            wait_for(lambda: bad_acks() == 1 + len(GARBAGE), what="all garbage ignored")
            assert journal.stream == stream

            source.usage = Usage(True)
            wait_for(lambda: in_use(daemon.scrape()) == 1.0, what="session started")
            source.usage = Usage(False)
            wait_for(lambda: journal.pending() == [], what="acknowledged as usual")
            assert journal.stream == stream, "no garbage made the agent start a new stream"
            samples = daemon.scrape()
            assert sessions_total(samples) == 1.0
            assert in_use(samples) == 0.0
            assert rejected(samples) == 0.0, "the daemon does not even listen there"
            assert outcome(samples, "duplicate") == 0.0
            assert daemon.app.subscriber.connected
        raw.close()
    assert retained_ack(broker.port) == {"v": 2, "stream": stream, "seq": 2}
    assert position(store, stream) == 2


# -- (e) a sequence that starts again from 1 --------------------------------------------


def test_reinstalled_agent_starts_a_new_stream(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 3600
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        raw.publish(SESSION, v2(1, "start", "a", t0, stream="old"))
        raw.publish(SESSION, v2(2, "end", "a", t0, t0 + 100, stream="old"))
        wait_for(lambda: durations(daemon.scrape())[0] == 1.0, what="first session")
        # Reinstalled: a fresh journal numbers from 1 again.
        raw.publish(SESSION, v2(1, "start", "b", t0 + 200, stream="new"))
        raw.publish(SESSION, v2(2, "end", "b", t0 + 200, t0 + 500, stream="new"))
        wait_for(lambda: durations(daemon.scrape())[0] == 2.0, what="second session")
        samples = daemon.scrape()
        assert sessions_total(samples) == 2.0
        assert durations(samples) == (2.0, 400.0)
        assert outcome(samples, "duplicate") == 0.0
        wait_ack(broker.port, "new", 2)
        raw.close()
    assert position(store, "old") == 2
    assert position(store, "new") == 2
    assert set(stored(store)) == {"a", "b"}


def test_journal_restored_from_an_old_copy_moves_to_a_new_stream(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    path = tmp_path / "journal.json"
    t0 = time.time() - 3600
    with RunningApp(config(broker, store)) as daemon:
        journal = Journal(path)
        first = connection(broker.port)
        first.on_ack = journal.acknowledge
        first.start()
        try:
            assert first.wait_connected(10)
            send(first, journal, journal.record("start", "a", t0))
            wait_for(lambda: journal.pending() == [], what="start acknowledged")
            image = path.read_bytes()  # the PC's disk image is taken mid-session
            send(first, journal, journal.record("end", "a", t0, t0 + 300))
            wait_for(lambda: journal.pending() == [], what="end acknowledged")
        finally:
            first.stop()

        path.write_bytes(image)  # ... and restored
        restored = Journal(path)
        assert restored.stream == journal.stream
        assert restored.open_session is not None
        second = connection(broker.port)
        second.on_ack = restored.acknowledge
        second.start()
        try:
            assert second.wait_connected(10)
            # The daemon's retained ack (event 2) is past this journal's end.
            wait_for(lambda: restored.stream != journal.stream, what="a new stream")
            send(second, restored, restored.record("end", "a", t0, t0 + 400))
            send(second, restored, restored.record("start", "b", t0 + 1000))
            wait_for(lambda: restored.pending() == [], what="new stream acknowledged")
        finally:
            second.stop(announce_offline=False)
        samples = daemon.scrape()
        assert sessions_total(samples) == 2.0
        assert in_use(samples) == 1.0
        # Session a's end again is no second session: the store knows it by id.
        assert outcome(samples, "duplicate") == 1.0
        assert outcome(samples, "started") == 2.0
        assert durations(samples) == (1.0, 300.0)
        assert retained_ack(broker.port) == {"v": 2, "stream": restored.stream, "seq": 2}
    assert position(store, journal.stream) == 2
    assert position(store, restored.stream) == 2
    assert stored(store) == {"a": (t0, t0 + 300, "agent"), "b": (t0 + 1000, None, None)}


# -- (f) version 1 -------------------------------------------------------------------------


def test_version_1_still_works(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 3600
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        raw.publish(SESSION, v1("start", "a", t0))
        wait_for(lambda: in_use(daemon.scrape()) == 1.0, what="v1 start")
        raw.publish(SESSION, v1("end", "a", t0, t0 + 300))
        wait_for(lambda: in_use(daemon.scrape()) == 0.0, what="v1 end")
        raw.publish(SESSION, v1("end", "a", t0, t0 + 300))  # redelivered
        wait_for(lambda: outcome(daemon.scrape(), "duplicate") == 1.0, what="duplicate seen")
        samples = daemon.scrape()
        assert sessions_total(samples) == 1.0
        assert durations(samples) == (1.0, 300.0)
        assert outcome(samples, "started") == 1.0
        assert outcome(samples, "ended") == 1.0
        raw.close()
    assert read_retained(broker.port, ACK) is None, "version 1 is not acknowledged"
    assert stored(store) == {"a": (t0, t0 + 300, "agent")}


# -- (g) implausible times ----------------------------------------------------------------


def test_implausible_times_are_refused_and_the_stream_goes_on(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    now = time.time()
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)

        def refused() -> float | None:
            return outcome(daemon.scrape(), "implausible_time")

        raw.publish(SESSION, v2(1, "start", "future", YEAR_2999))
        wait_for(lambda: refused() == 1.0, what="a start in 2999 refused")
        assert in_use(daemon.scrape()) == 0.0, "no seat left in use for good"
        wait_ack(broker.port, "s1", 1)

        raw.publish(SESSION, v2(2, "end", "ancient", 1.0, now - 60))
        wait_for(lambda: refused() == 2.0, what="an end of a session begun in 1970 refused")
        wait_ack(broker.port, "s1", 2)

        raw.publish(SESSION, v2(3, "start", "real", now - 600))
        wait_for(lambda: in_use(daemon.scrape()) == 1.0, what="the next event stored")
        raw.publish(SESSION, v2(4, "end", "real", now - 600, now - 60))
        wait_for(lambda: in_use(daemon.scrape()) == 0.0, what="its end stored")

        # Version 1 is checked the same way.
        raw.publish(SESSION, v1("start", "v1-future", YEAR_2999))
        raw.publish(SESSION, v1("end", "v1-late", now - 60, now + 3600))
        wait_for(lambda: refused() == 4.0, what="version 1 refused too")
        samples = daemon.scrape()
        assert in_use(samples) == 0.0
        assert sessions_total(samples) == 1.0
        assert durations(samples) == (1.0, 540.0)
        assert outcome(samples, "started") == 1.0
        assert outcome(samples, "ended") == 1.0
        wait_ack(broker.port, "s1", 4)
        raw.close()
    assert stored(store) == {"real": (now - 600, now - 60, "agent")}


# -- (h) version 1 out of order -------------------------------------------------------------


def test_version_1_late_events_keep_real_durations(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    t0 = time.time() - 7200
    with RunningApp(config(broker, store)) as daemon:
        raw = TestPublisher(broker.port)
        raw.publish(SESSION, v1("start", "a", t0))
        raw.publish(SESSION, v1("start", "b", t0 + 1000))
        wait_for(lambda: sessions_total(daemon.scrape()) == 2.0, what="two starts")
        assert stored(store)["a"] == (t0, t0 + 1000, "superseded")
        # a's real end arrives after b's start.
        raw.publish(SESSION, v1("end", "a", t0, t0 + 300))
        wait_for(lambda: durations(daemon.scrape())[0] == 1.0, what="a's end")
        assert durations(daemon.scrape()) == (1.0, 300.0), "a lasted 300 s, not 1000 s"
        assert in_use(daemon.scrape()) == 1.0, "b is still in use"
        assert stored(store)["a"] == (t0, t0 + 300, "agent")
        raw.publish(SESSION, v1("end", "b", t0 + 1000, t0 + 1100))
        wait_for(lambda: in_use(daemon.scrape()) == 0.0, what="b's end")

        # A start delivered late does not close the newer session.
        raw.publish(SESSION, v1("start", "d", t0 + 3000))
        raw.publish(SESSION, v1("start", "c", t0 + 2000))
        wait_for(lambda: sessions_total(daemon.scrape()) == 4.0, what="two more starts")
        assert stored(store)["d"] == (t0 + 3000, None, None), "d stays open"
        assert in_use(daemon.scrape()) == 1.0
        raw.publish(SESSION, v1("end", "c", t0 + 2000, t0 + 2100))
        wait_for(lambda: durations(daemon.scrape())[0] == 3.0, what="c's end")
        assert in_use(daemon.scrape()) == 1.0, "d is still in use"
        raw.publish(SESSION, v1("end", "d", t0 + 3000, t0 + 3500))
        wait_for(lambda: in_use(daemon.scrape()) == 0.0, what="d's end")
        samples = daemon.scrape()
        assert durations(samples) == (4.0, 300.0 + 100.0 + 100.0 + 500.0)
        assert sessions_total(samples) == 4.0
        assert outcome(samples, "duplicate") == 0.0
        raw.close()
    assert stored(store) == {
        "a": (t0, t0 + 300, "agent"),
        "b": (t0 + 1000, t0 + 1100, "agent"),
        "c": (t0 + 2000, t0 + 2100, "agent"),
        "d": (t0 + 3000, t0 + 3500, "agent"),
    }
