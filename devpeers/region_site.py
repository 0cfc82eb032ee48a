"""One site's daemon as a process of its own, its devices played like the demo's.

`python -m devpeers.region_site CONFIG.json STATE_DIR` runs the daemon
on the configuration in the JSON file (one site, written by
`site_config`), with the kinds' demo simulators publishing over MQTT and,
for SNMP devices, a snmpsim agent of its own. It writes its metrics port
to STATE_DIR/http-port once it is listening, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any

from ocrfleet.app import App
from ocrfleet.calendars.live import CalendarBook
from ocrfleet.config.loader import load_config
from ocrfleet.demo.runner import contexts, recordings, simulators
from ocrfleet.demo.snmp_agents import community_of, free_udp_port, snmp_agents
from ocrfleet.logs import setup_logging
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager

ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# What a site has besides its seats, as the demo models them.
PRINTER_MODEL = "Mono laser printer"
HOTSPOT_MODEL = "MikroTik cAP ac"
SNMP_POLL_SECONDS = 15
PURCHASE_DATES = {
    "printer": "2019-10-01",
    "hotspot": "2021-02-01",
    "pc": "2022-03-15",
    "laptop": "2023-09-01",
}


def site_config(
    *,
    municipality: str,
    site: str,
    devices: int,
    mqtt_port: int,
    store: Path,
) -> dict[str, Any]:
    """A daemon with one site of `devices` devices: a printer, a hotspot, then PCs and laptops.

    Open around the clock, so every device reports a state that counts
    (nothing `scheduled_off`) whenever it runs. The MQTT topic root is the
    daemon's own, so daemons can share one broker without seeing each
    other's devices.
    """
    snmp = [("printer-01", "printer", PRINTER_MODEL), ("wifi-01", "hotspot", HOTSPOT_MODEL)]
    chosen: list[tuple[str, str, str]] = snmp[: min(devices, 2)]
    seats = devices - len(chosen)
    laptops = seats // 4
    chosen += [(f"pc-{n:02d}", "pc", "Dell OptiPlex 7010") for n in range(1, seats - laptops + 1)]
    chosen += [(f"laptop-{n:02d}", "laptop", "Lenovo ThinkPad E14") for n in range(1, laptops + 1)]
    device_tables = []
    for device_id, kind, model in chosen:
        # Dates as in the demo, so ages, renewals and their panels have data.
        device: dict[str, Any] = {
            "id": device_id,
            "kind": kind,
            "model": model,
            "purchase_date": PURCHASE_DATES[kind],
        }
        if kind in ("printer", "hotspot"):
            device["options"] = {
                "host": "127.0.0.1",
                "port": 0,  # chosen when the daemon starts
                "snmp": {"version": "2c", "community": community_of(site, device_id)},
                "poll_interval": SNMP_POLL_SECONDS,
            }
        device_tables.append(device)
    return {
        "municipality": {"name": municipality.capitalize(), "adult_population": 10_000},
        "sites": [
            {
                "id": site,
                "name": site.replace("-", " ").capitalize(),
                "village_core": municipality.capitalize(),
                "opening_hours": ALWAYS_OPEN,
                "min_usable_seats": 1,
                # So the fair-turns series exist (at 0) and their panels have data.
                "session_limit": "60m",
                "devices": device_tables,
            }
        ],
        "mqtt": {
            "host": "127.0.0.1",
            "port": mqtt_port,
            "client_id": f"ocrfleet-{municipality}-{site}",
            "topic_root": f"{municipality}-{site}",
        },
        "http": {"listen": "127.0.0.1", "port": 0},
        "store": {"path": str(store)},
        "logging": {"level": "WARNING"},
    }


def _use_snmp_port(data: dict[str, Any], port: int) -> None:
    for device in data["sites"][0]["devices"]:
        if "snmp" in device.get("options", {}):
            device["options"]["port"] = port


async def run(config_path: Path, state_dir: Path, speedup: float) -> None:
    catalog = PluginCatalog.from_manager(build_plugin_manager(()))
    data = json.loads(config_path.read_text())
    # Ports are chosen here, just before binding, and the HTTP one by the
    # kernel: chosen by the parent, another process could take them first.
    snmp_port = free_udp_port()
    _use_snmp_port(data, snmp_port)
    loaded = load_config(
        data,
        catalog.kinds,
        catalog.rules,
        catalog.channel_types,
        calendars=CalendarBook(catalog.calendar_types),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    mqtt_port = loaded.config.mqtt.port
    context = contexts(loaded, mqtt_port, snmp_port, speedup, state_dir / "simulators")
    agents = recordings(loaded, catalog, context)
    async with contextlib.AsyncExitStack() as stack:
        if agents:
            await stack.enter_async_context(snmp_agents(agents, state_dir, snmp_port))
        app = App(loaded, catalog, background=simulators(loaded, catalog, context))
        port_file = state_dir / "http-port"
        port_file.with_suffix(".tmp").write_text(str(app.http.address[1]))
        port_file.with_suffix(".tmp").replace(port_file)
        await app.run(stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--speedup", type=float, default=60.0)
    args = parser.parse_args()
    setup_logging("WARNING", "text")
    asyncio.run(run(args.config, args.state_dir, args.speedup))


if __name__ == "__main__":
    main()
