"""The PC agent: session tracking, the health probe, and its MQTT path to a real daemon."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrfleet.devices import DeviceKey
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import Health, SessionMessage
from ocrfleet_agent.probes import AGENT_VERSION, HealthProbe
from ocrfleet_agent.runner import AgentRunner
from ocrfleet_agent.sessions import SessionTracker, Usage
from ocrfleet_agent.sources import LoggedInSource
from ocrfleet_pc.kind import PcKind
from tests.support.daemon import RunningApp, Samples, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher
from tests.support.retained import read_retained

LABELS = {"site": "lib", "device": "pc-01", "kind": "pc"}
AVAILABILITY = "ocrfleet/lib/pc-01/availability"
IN_USE = Usage(True)
FREE = Usage(False)


# -- SessionTracker -------------------------------------------------------------


def test_tracker_turns_usage_into_start_and_end(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json")
    tracker = SessionTracker(journal)
    assert tracker.update(FREE, 10.0) is None
    started = tracker.update(IN_USE, 20.0)
    assert started is not None
    assert (started.event, started.started_at, started.ended_at) == ("start", 20.0, None)
    assert (started.stream, started.seq) == (journal.stream, 1)
    assert journal.open_session == started
    assert tracker.update(IN_USE, 30.0) is None, "still in use is not a second session"
    ended = tracker.update(FREE, 40.0)
    assert ended is not None
    assert ended.event == "end"
    assert ended.session_id == started.session_id
    assert (ended.started_at, ended.ended_at, ended.seq) == (20.0, 40.0, 2)
    assert journal.open_session is None
    assert tracker.update(FREE, 50.0) is None
    again = tracker.update(IN_USE, 60.0)
    assert again is not None
    assert again.event == "start"
    assert again.session_id != started.session_id
    assert again.seq == 3
    assert [m.seq for m in journal.pending()] == [1, 2, 3], "all held until acknowledged"


def test_logged_in_source_counts_sessions() -> None:
    counts = [0]
    source = LoggedInSource(count=lambda: counts[0])
    assert source.read(1.0) == FREE
    counts[0] = 2
    assert source.read(2.0) == IN_USE


def test_tracker_dates_a_change_when_the_source_knows_it(tmp_path: Path) -> None:
    tracker = SessionTracker(Journal(tmp_path / "journal.json"))
    started = tracker.update(Usage(True, since=90.0), 100.0)
    assert started is not None and started.started_at == 90.0
    ended = tracker.update(Usage(False, since=150.0), 200.0)
    assert ended is not None and ended.ended_at == 150.0, "ended at the last input"
    # A `since` in the future (a clock step) is not believed.
    later = tracker.update(Usage(True, since=500.0), 300.0)
    assert later is not None and later.started_at == 300.0


def test_tracker_end_never_before_start(tmp_path: Path) -> None:
    tracker = SessionTracker(Journal(tmp_path / "journal.json"))
    started = tracker.update(IN_USE, 100.0)
    assert started is not None
    ended = tracker.update(FREE, 90.0)  # the clock was set back meanwhile
    assert ended is not None
    assert ended.ended_at == 100.0
    # The daemon accepts it.
    event = PcKind().parse_mqtt("session", ended.to_json())
    assert getattr(event, "ended_at", None) == 100.0


def test_open_session_survives_agent_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    first = SessionTracker(Journal(path))
    started = first.update(IN_USE, 100.0)
    assert started is not None
    del first  # the agent restarts mid-session

    journal = Journal(path)
    assert journal.open_session == started
    second = SessionTracker(journal)
    assert second.update(IN_USE, 150.0) is None, "the open session is not started again"
    ended = second.update(FREE, 200.0)
    assert ended is not None
    assert ended.session_id == started.session_id
    assert (ended.started_at, ended.ended_at) == (100.0, 200.0)
    assert (ended.stream, ended.seq) == (started.stream, 2)
    assert Journal(path).open_session is None, "a closed session is closed for good"


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b'{"v": 2, "event": "start"}', b"\xff\xfe\x00", b"[1, 2, 3]"],
    ids=["empty", "text", "wrong-schema", "binary", "list"],
)
def test_tracker_copes_with_an_unreadable_journal(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.json"
    path.write_bytes(content)
    journal = Journal(path)
    assert journal.open_session is None
    started = SessionTracker(journal).update(IN_USE, 100.0)
    assert started is not None
    assert Journal(path).open_session == started, "the broken file was replaced"
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("journal.json.corrupt-")]
    assert len(aside) == 1
    assert aside[0].read_bytes() == content


def test_tracker_journal_path_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.mkdir()
    journal = Journal(path)
    tracker = SessionTracker(journal)
    assert journal.open_session is None
    # Saving fails, but tracking goes on.
    started = tracker.update(IN_USE, 100.0)
    assert started is not None
    ended = tracker.update(FREE, 110.0)
    assert ended is not None
    assert ended.session_id == started.session_id
    assert not journal.durable
    assert journal.pending() == [started, ended]


def test_tracker_journal_in_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "journal.json"
    tracker = SessionTracker(Journal(path))
    started = tracker.update(IN_USE, 100.0)
    assert started is not None
    assert tracker.update(FREE, 110.0) is not None
    assert [m.seq for m in Journal(path).pending()] == [1, 2]


# -- HealthProbe ----------------------------------------------------------------


def test_health_probe_reads_this_machine() -> None:
    probe = HealthProbe()
    for _ in range(2):
        health = probe.read()
        assert isinstance(health, Health)
        assert health.v == 1
        assert 0.0 <= health.cpu_ratio <= 1.0
        assert 0.0 < health.memory_used_ratio <= 1.0
        assert health.disk_free_bytes > 0
        assert health.uptime_seconds > 0
        assert 0 < len(health.os) <= 200
        assert health.agent_version == AGENT_VERSION
        assert health.frozen is None or isinstance(health.frozen, bool)
        assert health.eid_reader_present is None or isinstance(health.eid_reader_present, bool)
        assert health.ts > 1_600_000_000
        # What the agent sends is what the daemon accepts (strict types).
        assert PcKind().parse_mqtt("health", health.to_json()) == health


def test_health_probe_missing_disk_reports_zero(tmp_path: Path) -> None:
    health = HealthProbe(disk=str(tmp_path / "no-such-disk")).read()
    assert health.disk_free_bytes == 0


# -- the agent against a real broker and daemon ---------------------------------


def agent_settings(port: int, client_id: str = "ocrfleet-agent-lib-pc-01") -> BrokerSettings:
    return BrokerSettings(
        host="127.0.0.1",
        port=port,
        client_id=client_id,
        reconnect_min_delay=1,
        reconnect_max_delay=2,
        queue_size=1000,
    )


def connection(port: int) -> AgentConnection:
    return AgentConnection(agent_settings(port), AgentIdentity("ocrfleet", "lib", "pc-01"))


@pytest.fixture
def agent(broker: Mosquitto) -> Iterator[AgentConnection]:
    conn = connection(broker.port)
    try:
        yield conn
    finally:
        conn.stop(announce_offline=False, timeout=1.0)


def up(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_device_up", **LABELS)


def session(
    event: str, session_id: str, started: float, ended: float | None = None
) -> SessionMessage:
    return SessionMessage(
        v=1,
        event="start" if event == "start" else "end",
        session_id=session_id,
        started_at=started,
        ended_at=ended,
    )


def make_health(cpu: float) -> Health:
    return Health(
        ts=1_800_000_000.0,
        cpu_ratio=cpu,
        memory_used_ratio=0.5,
        disk_free_bytes=123_456_789,
        uptime_seconds=42.0,
        os="Test OS 1.0",
        agent_version=AGENT_VERSION,
        frozen=None,
        eid_reader_present=False,
    )


def test_agent_online_health_and_offline(
    broker: Mosquitto, agent: AgentConnection, tmp_path: Path
) -> None:
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        assert up(daemon.scrape()) == 0.0
        agent.start()
        assert agent.wait_connected(10)
        wait_for(lambda: up(daemon.scrape()) == 1.0, what="agent's 'online' marks the PC up")
        assert read_retained(broker.port, AVAILABILITY) == b"online"

        assert agent.publish_health(make_health(0.31))
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **LABELS) == 0.31,
            what="health reaches the gauges",
        )
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_pc_disk_free_bytes", **LABELS) == 123_456_789
        assert value(samples, "ocrfleet_pc_uptime_seconds", **LABELS) == 42.0
        assert value(samples, "ocrfleet_pc_eid_reader_present", **LABELS) == 0.0
        assert value(samples, "ocrfleet_pc_frozen", **LABELS) is None, "unknown stays absent"
        info = {**LABELS, "os": "Test OS 1.0", "agent_version": AGENT_VERSION}
        assert value(samples, "ocrfleet_pc_agent_info", **info) == 1.0

        agent.stop()
        assert not agent.connected
        wait_for(lambda: up(daemon.scrape()) == 0.0, what="'offline' marks the PC down")
        assert read_retained(broker.port, AVAILABILITY) == b"offline"
        # The deliberate 'offline' was a clean leave: the cpu reading is kept, no crash.
        assert value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **LABELS) == 0.31


def test_agent_sessions_counted(broker: Mosquitto, agent: AgentConnection, tmp_path: Path) -> None:
    t0 = time.time() - 3600  # recent: the daemon refuses sessions implausibly old
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        agent.start()
        assert agent.wait_connected(10)
        assert agent.publish_session(session("start", "abc", t0))
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 1.0)
        assert agent.publish_session(session("end", "abc", t0, t0 + 300))
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0)
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_sessions_total", **LABELS) == 1.0
        hist = {"site": "lib", "kind": "pc"}
        assert value(samples, "ocrfleet_session_duration_seconds_sum", **hist) == 300.0
        wait_for(lambda: agent.unacknowledged() == 0, what="broker acknowledged both")


def test_numbered_events_are_not_queued_while_disconnected(
    broker: Mosquitto, agent: AgentConnection, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.json")
    message = journal.record("start", "abc", time.time())
    assert not agent.connected
    assert not agent.publish_session(message), "the journal sends it after connecting"
    assert agent.unacknowledged() == 0


def test_agent_survives_broker_outage(
    broker: Mosquitto, agent: AgentConnection, tmp_path: Path
) -> None:
    """Version 1 events sent while the broker is away are queued by paho."""
    t0 = time.time() - 3600
    store = tmp_path / "s.sqlite"
    config = site_config(broker.port, store, reconnect_min_delay=1, reconnect_max_delay=2)
    with RunningApp(config) as daemon:
        agent.start()
        assert agent.wait_connected(10)
        wait_for(lambda: up(daemon.scrape()) == 1.0, what="PC up")
        connects_before = value(daemon.scrape(), "ocrfleet_mqtt_connects_total")

        # Someone marks the PC offline (as a Last Will would): only a fresh
        # 'online' from the agent can bring it back up.
        intruder = TestPublisher(broker.port, "intruder")
        intruder.publish(AVAILABILITY, "offline", qos=1, retain=True)
        intruder.close()
        wait_for(lambda: up(daemon.scrape()) == 0.0, what="PC marked down")
        wait_for(lambda: agent.unacknowledged() == 0, what="'online' acknowledged")

        broker.stop()
        wait_for(lambda: not agent.connected, what="agent notices the outage")
        wait_for(lambda: not daemon.app.subscriber.connected, what="daemon notices the outage")
        # QoS 1 session events while the broker is away: paho keeps them.
        assert agent.publish_session(session("start", "s1", t0))
        assert agent.publish_session(session("end", "s1", t0, t0 + 600))
        assert agent.publish_session(session("start", "s2", t0 + 1000))
        assert agent.unacknowledged() == 3

        broker.start()  # same port, same persistence file
        assert agent.wait_connected(20), "agent did not reconnect"
        assert daemon.app.subscriber.wait_connected(20), "daemon did not reconnect"
        wait_for(lambda: up(daemon.scrape()) == 1.0, timeout=15, what="re-announced 'online' seen")
        assert read_retained(broker.port, AVAILABILITY) == b"online"
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_sessions_total", **LABELS) == 2.0,
            timeout=15,
            what="both sessions counted",
        )
        assert value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 1.0
        connects_after = value(daemon.scrape(), "ocrfleet_mqtt_connects_total")
        assert connects_before is not None
        assert connects_after is not None
        assert connects_after > connects_before

        # A last event after the queued ones: once it is in, every queued
        # (or redelivered) one has been processed too.
        assert agent.publish_session(session("end", "s2", t0 + 1000, t0 + 1100))
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0)
        wait_for(lambda: agent.unacknowledged() == 0, what="all acknowledged")
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_sessions_total", **LABELS) == 2.0, "each counted once"
        hist = {"site": "lib", "kind": "pc"}
        assert value(samples, "ocrfleet_session_duration_seconds_count", **hist) == 2.0
        assert value(samples, "ocrfleet_session_duration_seconds_sum", **hist) == 700.0
    db = Store(StoreConnections(store))
    try:
        assert db.session_count() == 2
        assert db.usage_summary()[DeviceKey("lib", "pc-01")].open_session is None
    finally:
        db.close()


def test_agent_runner_publishes_health_and_sessions(broker: Mosquitto, tmp_path: Path) -> None:
    counts = [0]
    journal_path = tmp_path / "journal.json"
    journal = Journal(journal_path)
    runner = AgentRunner(
        connection(broker.port),
        journal,
        LoggedInSource(count=lambda: counts[0]),
        HealthProbe().read,
        interval=0.2,
        session_check_interval=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    store = tmp_path / "s.sqlite"
    with RunningApp(site_config(broker.port, store)) as daemon:
        thread.start()
        try:
            wait_for(lambda: up(daemon.scrape()) == 1.0, what="runner's agent online")
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_pc_memory_used_ratio", **LABELS) is not None
                ),
                what="a health report",
            )
            assert value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0

            counts[0] = 1
            wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 1.0)
            counts[0] = 2
            counts[0] = 1
            counts[0] = 0
            wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0)
            assert value(daemon.scrape(), "ocrfleet_sessions_total", **LABELS) == 1.0

            counts[0] = 3
            wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 1.0)
            counts[0] = 0
            wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0)
            assert value(daemon.scrape(), "ocrfleet_sessions_total", **LABELS) == 2.0
            wait_for(lambda: journal.pending() == [], what="the daemon acknowledged all four")
        finally:
            stop.set()
            runner.wake()
            thread.join(10)
        assert not thread.is_alive(), "runner did not stop"
        wait_for(lambda: up(daemon.scrape()) == 0.0, what="runner's stop says offline")
    reloaded = Journal(journal_path)
    assert reloaded.open_session is None, "no session left open"
    assert reloaded.pending() == []
    db = Store(StoreConnections(store))
    try:
        assert db.session_count() == 2
        assert db.stream_position(DeviceKey("lib", "pc-01"), journal.stream) == 4
    finally:
        db.close()
