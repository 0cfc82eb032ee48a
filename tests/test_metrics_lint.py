"""A live daemon's /metrics passes `promtool check metrics`, Prometheus' own naming lint.

promtool judges names on the families it sees, so the daemon runs a device of
every bundled kind with a reading: a kind's families only appear with one.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.devices import DeviceKey
from tests.support.daemon import RunningApp, catalog, site_config, snmp_device, value, wait_for
from tests.support.libki import LibkiServer, libki_device, poll_once
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health
from tests.support.snmpsim import SnmpSimulator

SNMP_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp"
BUNDLED_KINDS = {"pc", "laptop", "printer", "hotspot", "room_sensor", "libki"}


@pytest.fixture
def snmp_agents(tmp_path: Path) -> Iterator[SnmpSimulator]:
    """A colour MFP and a UniFi access point; the community is the file's stem."""
    data = tmp_path / "snmp-data"
    data.mkdir()
    shutil.copy(SNMP_FIXTURES / "printers" / "colour_mfp.snmprec", data)
    shutil.copy(SNMP_FIXTURES / "hotspots" / "unifi-ap.snmprec", data)
    with SnmpSimulator(data, tmp_path / "snmpsim") as simulator:
        yield simulator


def test_bundled_kinds_cover_this_test() -> None:
    # A new bundled kind needs a device below, or its names go unchecked.
    assert set(catalog().kinds) == BUNDLED_KINDS


def test_live_metrics_pass_promtool(
    broker: Mosquitto,
    snmp_agents: SnmpSimulator,
    libki_server: LibkiServer,
    tmp_path: Path,
    promtool: str,
) -> None:
    devices: list[dict[str, Any]] = [
        {"id": "pc-01", "kind": "pc"},
        {"id": "pc-02", "kind": "pc"},
        {"id": "lap-01", "kind": "laptop"},
        snmp_device("mfp", "printer", snmp_agents.port, "colour_mfp"),
        snmp_device("wifi", "hotspot", snmp_agents.port, "unifi-ap"),
        {"id": "room", "kind": "room_sensor", "options": {"zigbee2mqtt": "Leeszaal PIR"}},
        {"id": "door", "kind": "room_sensor", "options": {"topic": "counters/door"}},
        libki_device(libki_server.url),
    ]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices)
    config["sites"][0]["session_limit"] = "1h"  # the fair-turns series too
    with RunningApp(config) as daemon:
        agent = TestPublisher(broker.port)
        try:
            poll_once(daemon, DeviceKey("lib", "libki"))
            agent.publish("zigbee2mqtt/Leeszaal PIR", {"occupancy": True, "battery": 87}, qos=1)
            agent.publish("counters/door", {"v": 1, "in": 12, "out": 9, "present": 3}, qos=1)
            agent.publish("ocrfleet/lib/pc-01/health", health(), qos=1)
            agent.publish("ocrfleet/lib/lap-01/health", health(), qos=1)
            # A finished session, so the duration histogram has its buckets.
            began = time.time() - 600
            start = {"v": 1, "event": "start", "session_id": "s1", "started_at": began}
            agent.publish("ocrfleet/lib/pc-01/session", start)
            agent.publish(
                "ocrfleet/lib/pc-01/session", {**start, "event": "end", "ended_at": began + 300}
            )

            def every_kind_read() -> bool:
                samples = daemon.scrape()

                def has(name: str, device: str, kind: str) -> bool:
                    found = value(samples, name, site="lib", device=device, kind=kind)
                    return found is not None

                return (
                    has("ocrfleet_pc_cpu_ratio", "pc-01", "pc")
                    and has("ocrfleet_pc_cpu_ratio", "lap-01", "laptop")
                    and has("ocrfleet_printer_pages_total", "mfp", "printer")
                    and has("ocrfleet_hotspot_clients", "wifi", "hotspot")
                    and has("ocrfleet_room_sensor_battery_ratio", "room", "room_sensor")
                    and has("ocrfleet_room_sensor_entries_total", "door", "room_sensor")
                    and has("ocrfleet_libki_unmatched_clients", "libki", "libki")
                    and value(
                        samples, "ocrfleet_session_duration_seconds_count", site="lib", kind="pc"
                    )
                    == 1.0
                )

            wait_for(every_kind_read, timeout=30, what="a reading from a device of every kind")
        finally:
            agent.close()
        with urllib.request.urlopen(daemon.metrics_url, timeout=5) as response:
            text = response.read()

    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
    )
    output = (checked.stdout + checked.stderr).decode()
    assert checked.returncode == 0, output
    assert output.splitlines() == []
