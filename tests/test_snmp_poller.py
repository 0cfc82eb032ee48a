"""A slow or dead SNMP device never delays the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.devices import DeviceKey
from tests.support.daemon import RunningApp, scrape, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator, free_udp_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"

# Every answer of this agent takes 2.5 s: longer than the polling side's 1 s
# timeout. snmpsim sleeps in its one process, so it gets a process of its own.
SLOW_RECORDING = """\
1.3.6.1.2.1.1.1.0|4:delay|value=Sluggish printer,wait=2500
1.3.6.1.2.1.1.3.0|67:delay|value=100,wait=2500
1.3.6.1.2.1.1.5.0|4:delay|value=slow-01,wait=2500
"""


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[tuple[SnmpSimulator, SnmpSimulator]]:
    slow_data = tmp_path / "slow-data"
    slow_data.mkdir()
    (slow_data / "slow.snmprec").write_text(SLOW_RECORDING)
    fast = SnmpSimulator(FIXTURES, tmp_path / "fast")
    slow = SnmpSimulator(slow_data, tmp_path / "slow")
    with fast, slow:
        yield fast, slow


def _printer(device_id: str, port: int, community: str, **extra: Any) -> dict[str, Any]:
    options = {
        "host": "127.0.0.1",
        "port": port,
        "snmp": {"version": "2c", "community": community},
        "poll_interval": 5,
        "timeout": 1.0,
        "retries": 0,
        **extra,
    }
    return {"id": device_id, "kind": "printer", "options": options}


def test_slow_and_dead_devices_do_not_delay_a_healthy_one(
    agents: tuple[SnmpSimulator, SnmpSimulator], broker: Mosquitto, tmp_path: Path
) -> None:
    fast, slow = agents
    devices = [
        _printer("fast", fast.port, "mono_laser"),
        _printer("slow", slow.port, "slow"),
        _printer("dead", free_udp_port(), "public", retries=2),
    ]
    # One poll at a time overall: the fast printer must still get its turns.
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices)
    config["snmp"] = {"max_concurrent_polls": 1}
    with RunningApp(config) as daemon:
        fast_key = {"site": "lib", "device": "fast", "kind": "printer"}
        seen: list[float] = []

        def fast_polled_again() -> bool:
            last = value(
                scrape(daemon.metrics_url),
                "ocrfleet_device_last_seen_timestamp_seconds",
                **fast_key,
            )
            if last is not None and (not seen or last > seen[-1]):
                seen.append(last)
            return len(seen) >= 3

        wait_for(fast_polled_again, timeout=30, what="three successful polls of the fast printer")
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_device_up", **fast_key) == 1.0
        for device in ("slow", "dead"):
            labels = {"site": "lib", "device": device, "kind": "printer"}
            assert value(samples, "ocrfleet_device_up", **labels) == 0.0
        errors = value(
            samples, "ocrfleet_poll_errors_total", source="snmp", kind="printer", reason="timeout"
        )
        assert errors is not None and errors >= 2


def test_asked_to_poll_during_a_poll_the_device_is_polled_again_right_after(
    broker: Mosquitto, tmp_path: Path
) -> None:
    # A trap may come while its device's poll is under way: that poll may have
    # read the device before the news, and the scheduler runs one at a time.
    dead = _printer("dead", free_udp_port(), "public", poll_interval=600)
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=[dead])
    key = DeviceKey("lib", "dead")
    with RunningApp(config) as daemon:
        app = daemon.app

        def timeouts() -> float:
            found = value(
                daemon.scrape(),
                "ocrfleet_poll_errors_total",
                source="snmp",
                kind="printer",
                reason="timeout",
            )
            return found or 0.0

        job = app.poller.job_id(key)

        def poll_now() -> None:
            daemon._loop.call_soon_threadsafe(app.jobs.run_now, job)

        wait_for(lambda: timeouts() == 1, timeout=20, what="the first scheduled poll")
        poll_now()
        wait_for(lambda: app.jobs.running(job), what="the second poll to start")
        poll_now()
        wait_for(lambda: timeouts() == 3, what="a third poll right after the second")
