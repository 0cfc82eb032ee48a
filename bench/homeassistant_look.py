"""What the Home Assistant integration costs the event loop each second.

Every second the integration looks at the fleet for what changed. This
starts a daemon (in process, with a real Mosquitto) with N devices, half of
them with a status-card bar, and times, in the same run:

- a full render: every device's card, entities and JSON built anew (what
  each look cost before devices were remembered);
- a look with nothing changed (the common case);
- a look after 10 % of the devices got a new reading.

The ratios to the full render are what to compare between machines.

Run: .venv/bin/python bench/homeassistant_look.py [--devices 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import harness  # noqa: F401 - makes devpeers importable

from devpeers.daemon import RunningApp, catalog, site_config
from devpeers.mosquitto import Mosquitto
from devpeers.tank import TANK_PLUGIN
from ocrfleet.plugin import DeviceKey
from ocrfleet.services import service_options
from ocrfleet_homeassistant.service import HomeAssistantService, HomeAssistantType


def _median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    tanks = [f"tank-{i}" for i in range(args.devices // 2)]
    pcs = [f"pc-{i}" for i in range(args.devices - len(tanks))]
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "broker") as broker:
        devices = [{"id": d, "kind": "tank"} for d in tanks]
        devices += [{"id": d, "kind": "pc"} for d in pcs]
        config = site_config(broker.port, Path(tmp) / "s.sqlite", devices)
        with RunningApp(config, catalog(TANK_PLUGIN)) as daemon:
            app = daemon.app
            for name in tanks:
                app.state.record_reading(DeviceKey("lib", name), 0.5, time.time())
            kind = HomeAssistantType()
            options = service_options({"homeassistant": {"enabled": True}}, {"homeassistant": kind})
            service = kind.create(app._service_context("homeassistant"), options["homeassistant"])
            assert isinstance(service, HomeAssistantService)

            def full() -> None:
                service._published.clear()
                service._wanted()

            rounds = iter(range(1, 1_000_000))

            def some_changed() -> None:
                level = 0.5 - next(rounds) / 1_000_000  # a new reading every round
                for name in tanks[: args.devices // 10]:
                    app.state.record_reading(DeviceKey("lib", name), level, time.time())
                service._wanted()

            full_ms = _median_ms(full, args.rounds)
            service._wanted()
            idle_ms = _median_ms(service._wanted, args.rounds)
            changed_ms = _median_ms(some_changed, args.rounds)
    print(f"devices: {args.devices}, rounds: {args.rounds}")
    print(f"full render:          {full_ms:6.1f} ms")
    print(f"look, none changed:   {idle_ms:6.1f} ms ({idle_ms / full_ms:.2f}x full)")
    print(f"look, 10 % changed:   {changed_ms:6.1f} ms ({changed_ms / full_ms:.2f}x full)")


if __name__ == "__main__":
    main()
