"""The PC data path end to end: agent payloads through a real Mosquitto into metrics."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from tests.support.daemon import RunningApp, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health

LABELS = {"site": "lib", "device": "pc-01", "kind": "pc"}


def test_availability_and_last_will(broker: Mosquitto, tmp_path: Path) -> None:
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        assert value(daemon.scrape(), "ocrfleet_device_up", **LABELS) == 0.0
        agent = TestPublisher(broker.port, "agent-pc-01", will="ocrfleet/lib/pc-01/availability")
        agent.publish("ocrfleet/lib/pc-01/availability", "online", retain=True)
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_device_up", **LABELS) == 1.0, what="up")
        agent.drop()  # the broker now publishes the Last Will
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_device_up", **LABELS) == 0.0,
            timeout=20,
            what="Last Will marks the PC down",
        )


def test_health_becomes_gauges(broker: Mosquitto, tmp_path: Path) -> None:
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        agent = TestPublisher(broker.port)
        agent.publish("ocrfleet/lib/pc-01/health", health(cpu_ratio=0.42, frozen=False), qos=0)
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **LABELS) == 0.42)
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_pc_frozen", **LABELS) == 0.0
        assert value(samples, "ocrfleet_pc_disk_free_bytes", **LABELS) == 50_000_000_000
        assert value(samples, "ocrfleet_pc_uptime_seconds", **LABELS) == 3600.0
        assert value(samples, "ocrfleet_device_up", **LABELS) == 1.0
        assert value(samples, "ocrfleet_mqtt_messages_total", channel="health") == 1.0
        assert value(samples, "ocrfleet_mqtt_connected") == 1.0


def test_sessions_counted_and_timed(broker: Mosquitto, tmp_path: Path) -> None:
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        agent = TestPublisher(broker.port)
        # An hour ago: a time the daemon finds plausible.
        began = time.time() - 3600
        start = {"v": 1, "event": "start", "session_id": "a1", "started_at": began}
        agent.publish("ocrfleet/lib/pc-01/session", start)
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 1.0)
        assert value(daemon.scrape(), "ocrfleet_site_pcs_in_use", site="lib") == 1.0
        agent.publish(
            "ocrfleet/lib/pc-01/session", {**start, "event": "end", "ended_at": began + 1200}
        )
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **LABELS) == 0.0)
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_sessions_total", **LABELS) == 1.0
        hist = {"site": "lib", "kind": "pc"}
        assert value(samples, "ocrfleet_session_duration_seconds_count", **hist) == 1.0
        assert value(samples, "ocrfleet_session_duration_seconds_sum", **hist) == 1200.0
        assert value(samples, "ocrfleet_session_duration_seconds_bucket", le="900.0", **hist) == 0.0
        assert (
            value(samples, "ocrfleet_session_duration_seconds_bucket", le="1800.0", **hist) == 1.0
        )
        # A redelivered start is not a second session.
        agent.publish("ocrfleet/lib/pc-01/session", start)
        agent.publish("ocrfleet/lib/pc-01/health", health(), qos=1)
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_mqtt_messages_total", channel="health") == 1
        )
        assert value(daemon.scrape(), "ocrfleet_sessions_total", **LABELS) == 1.0
    assert series_of(samples, "ocrfleet_pc_in_use") == [LABELS]


def test_control_characters_from_an_agent_never_reach_metrics(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """An agent's free text (`os`) is cleaned of control characters before /metrics."""
    hostile = "Windows\x1b[2J 11\x00\r\n\x85Pro\x07"
    with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
        agent = TestPublisher(broker.port)
        agent.publish("ocrfleet/lib/pc-01/health", health(os=hostile), qos=1)
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **LABELS) == 0.25)
        with urllib.request.urlopen(daemon.metrics_url, timeout=5) as response:
            body = response.read().decode()
        (info,) = [line for line in body.splitlines() if line.startswith("ocrfleet_pc_agent_info{")]
        assert 'os="Windows\ufffd[2J 11\ufffd\ufffd\ufffd\ufffdPro\ufffd"' in info
        assert not any(ch.isprintable() is False and ch != "\n" for ch in body)
