"""The PC agent: session tracking, the health probe, and its MQTT path to a real daemon."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrfleet.devices import DeviceKey
from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet.store.database import Store
from ocrfleet_pc.agent.connection import AgentConnection, AgentIdentity
from ocrfleet_pc.agent.probes import AGENT_VERSION, HealthProbe
from ocrfleet_pc.agent.runner import AgentRunner
from ocrfleet_pc.agent.sessions import SessionTracker
from ocrfleet_pc.kind import PcKind
from ocrfleet_pc.payloads import HealthV1, SessionV1
from tests.support.daemon import RunningApp, Samples, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher
from tests.support.retained import read_retained

LABELS = {"site": "lib", "device": "pc-01", "kind": "pc"}
AVAILABILITY = "ocrfleet/lib/pc-01/availability"


# -- SessionTracker -------------------------------------------------------------


def test_tracker_turns_counts_into_start_and_end() -> None:
    tracker = SessionTracker()
    assert tracker.update(0, 10.0) is None
    started = tracker.update(1, 20.0)
    assert started is not None
    assert started.event == "start"
    assert started.started_at == 20.0
    assert started.ended_at is None
    assert tracker.open_session == started
    assert tracker.update(2, 30.0) is None, "a second login is not a second session"
    assert tracker.update(1, 35.0) is None
    ended = tracker.update(0, 40.0)
    assert ended is not None
    assert ended.event == "end"
    assert ended.session_id == started.session_id
    assert ended.started_at == 20.0
    assert ended.ended_at == 40.0
    assert tracker.open_session is None
    assert tracker.update(0, 50.0) is None
    again = tracker.update(3, 60.0)
    assert again is not None
    assert again.event == "start"
    assert again.session_id != started.session_id


def test_tracker_end_never_before_start() -> None:
    tracker = SessionTracker()
    started = tracker.update(1, 100.0)
    assert started is not None
    ended = tracker.update(0, 90.0)  # the clock was set back meanwhile
    assert ended is not None
    assert ended.ended_at == 100.0
    # The daemon accepts it.
    PcKind().parse_mqtt("session", ended.model_dump_json().encode())


def test_tracker_state_file_survives_agent_restart(tmp_path: Path) -> None:
    state = tmp_path / "session.json"
    first = SessionTracker(state)
    started = first.update(1, 100.0)
    assert started is not None
    assert state.exists()
    del first  # the agent restarts mid-session

    second = SessionTracker(state)
    assert second.open_session == started
    assert second.update(1, 150.0) is None, "the open session is not started again"
    ended = second.update(0, 200.0)
    assert ended is not None
    assert ended.session_id == started.session_id
    assert ended.started_at == 100.0
    assert ended.ended_at == 200.0
    assert not state.exists(), "a closed session leaves no state behind"
    assert SessionTracker(state).open_session is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b'{"v": 2, "event": "start"}', b"\xff\xfe\x00", b"[1, 2, 3]"],
    ids=["empty", "text", "wrong-schema", "binary", "list"],
)
def test_tracker_ignores_unreadable_state_file(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "session.json"
    state.write_bytes(content)
    tracker = SessionTracker(state)
    assert tracker.open_session is None
    started = tracker.update(1, 100.0)
    assert started is not None
    assert SessionTracker(state).open_session == started, "the broken file was replaced"


def test_tracker_state_file_is_a_directory(tmp_path: Path) -> None:
    state = tmp_path / "session.json"
    state.mkdir()
    tracker = SessionTracker(state)
    assert tracker.open_session is None
    # Saving fails, but tracking goes on.
    started = tracker.update(1, 100.0)
    assert started is not None
    ended = tracker.update(0, 110.0)
    assert ended is not None
    assert ended.session_id == started.session_id


def test_tracker_state_file_in_missing_directory(tmp_path: Path) -> None:
    tracker = SessionTracker(tmp_path / "absent" / "session.json")
    started = tracker.update(1, 100.0)
    assert started is not None
    assert tracker.update(0, 110.0) is not None


# -- HealthProbe ----------------------------------------------------------------


def test_health_probe_reads_this_machine() -> None:
    probe = HealthProbe()
    for _ in range(2):
        health = probe.read()
        assert isinstance(health, HealthV1)
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
        assert PcKind().parse_mqtt("health", health.model_dump_json().encode()) == health


def test_health_probe_missing_disk_reports_zero(tmp_path: Path) -> None:
    health = HealthProbe(disk=str(tmp_path / "no-such-disk")).read()
    assert health.disk_free_bytes == 0


# -- the agent against a real broker and daemon ---------------------------------


def agent_settings(port: int, client_id: str = "ocrfleet-agent-lib-pc-01") -> MqttSettings:
    return MqttSettings(
        host="127.0.0.1",
        port=port,
        client_id=client_id,
        reconnect_min_delay=1,
        reconnect_max_delay=2,
        queue_size=1000,
    )


@pytest.fixture
def agent(broker: Mosquitto) -> Iterator[AgentConnection]:
    connection = AgentConnection(
        agent_settings(broker.port), AgentIdentity("ocrfleet", "lib", "pc-01")
    )
    try:
        yield connection
    finally:
        connection.stop(announce_offline=False, timeout=1.0)


def up(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_device_up", **LABELS)


def session(event: str, session_id: str, started: float, ended: float | None = None) -> SessionV1:
    return SessionV1(
        v=1,
        event=event,  # type: ignore[arg-type]
        session_id=session_id,
        started_at=started,
        ended_at=ended,
    )


def make_health(cpu: float) -> HealthV1:
    return HealthV1(
        v=1,
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
    t0 = time.time() - 3600  # recent: the daemon closes sessions open implausibly long
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


def test_agent_survives_broker_outage(
    broker: Mosquitto, agent: AgentConnection, tmp_path: Path
) -> None:
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
    db = Store(store)
    try:
        assert db.session_count() == 2
        assert db.usage_summary()[DeviceKey("lib", "pc-01")].open_session is None
    finally:
        db.close()


def test_agent_runner_publishes_health_and_sessions(broker: Mosquitto, tmp_path: Path) -> None:
    counts = [0]
    runner = AgentRunner(
        AgentConnection(agent_settings(broker.port), AgentIdentity("ocrfleet", "lib", "pc-01")),
        SessionTracker(tmp_path / "agent-state.json"),
        HealthProbe(),
        interval=0.2,
        session_check_interval=0.05,
        count_sessions=lambda: counts[0],
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
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
        finally:
            stop.set()
            thread.join(10)
        assert not thread.is_alive(), "runner did not stop"
        wait_for(lambda: up(daemon.scrape()) == 0.0, what="runner's stop says offline")
    assert not (tmp_path / "agent-state.json").exists(), "no session left open"
