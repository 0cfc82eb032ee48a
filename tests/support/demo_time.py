"""The demo's devices stepped in demo time, without a broker or SNMP: its scenarios, fast."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ocrfleet.config.loader import load_config
from ocrfleet.demo.fleet import demo_config
from ocrfleet.devices import DeviceInfo
from ocrfleet.kinds import SimulationContext
from tests.support.daemon import catalog

# A Monday morning before any site opens, in the demo's time zone.
MONDAY = datetime(2025, 3, 10, 7, 0, tzinfo=ZoneInfo("Europe/Brussels")).timestamp()


def demo_devices(kind: str) -> list[tuple[int, DeviceInfo]]:
    """The demo's devices of one kind, with the random seed the demo gives each."""
    plugins = catalog()
    data = demo_config(1883, 0, Path("unused.sqlite"), snmp_port=16100, kinds=plugins.kinds)
    loaded = load_config(data, plugins.kinds)
    return [(n, d) for n, d in enumerate(loaded.devices) if d.kind == kind]


def simulation_context(
    device: DeviceInfo, seed: int, clock: list[float], work_dir: Path
) -> SimulationContext:
    """What the demo gives a simulator, with `clock[0]` as its time."""
    assert device.schedule is not None
    return SimulationContext(
        mqtt_host="127.0.0.1",
        mqtt_port=1883,
        topic_root="ocrfleet",
        speedup=1.0,
        random_seed=seed,
        now=lambda: clock[0],
        site_open=device.schedule.is_open,
        snmp_port=16100,
        snmp_community=f"{device.site}--{device.id}",
        device_number=seed + 1,
        work_dir=work_dir,
    )
