"""`ocrfleet run` without a config: the demo fleet end to end on this machine."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from ocrfleet.app import App, BackgroundTask
from ocrfleet.calendars.live import CalendarBook
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.demo.broker import embedded_broker, free_port
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.opening import opening_lines
from ocrfleet.demo.snmp_agents import community_of, free_udp_port, snmp_agents
from ocrfleet.demo.web_user import make_demo_user
from ocrfleet.devices import DeviceKey
from ocrfleet.kinds import SimulationContext
from ocrfleet.pluginhost.catalog import PluginCatalog

log = logging.getLogger(__name__)


def demo_store_path(state_dir: Path) -> Path:
    """The demo's SQLite file; the maintenance and silence commands act on it too."""
    return state_dir / "demo.sqlite"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ocrfleet"


def contexts(
    loaded: LoadedConfig, mqtt_port: int, snmp_port: int, speedup: float, work_dir: Path
) -> dict[DeviceKey, SimulationContext]:
    started = time.time()

    def demo_now() -> float:
        return started + (time.time() - started) * speedup

    found = {}
    for n, device in enumerate(loaded.devices):
        assert device.schedule is not None
        found[device.key] = SimulationContext(
            mqtt_host="127.0.0.1",
            mqtt_port=mqtt_port,
            topic_root=loaded.config.mqtt.topic_root,
            speedup=speedup,
            random_seed=n,
            now=demo_now,
            site_open=device.schedule.is_open,
            snmp_port=snmp_port,
            snmp_community=community_of(device.site, device.id),
            device_number=n + 1,
            work_dir=work_dir,
        )
    return found


def recordings(
    loaded: LoadedConfig, catalog: PluginCatalog, context: dict[DeviceKey, SimulationContext]
) -> dict[str, str]:
    """The demo SNMP agents' recordings, by community."""
    found = {}
    for device in loaded.devices:
        text = catalog.kinds[device.kind].demo_recording(device, context[device.key])
        if text is not None:
            found[community_of(device.site, device.id)] = text
    return found


def simulators(
    loaded: LoadedConfig, catalog: PluginCatalog, context: dict[DeviceKey, SimulationContext]
) -> list[BackgroundTask]:
    tasks = []
    for device in loaded.devices:
        simulate = catalog.kinds[device.kind].simulator(device, context[device.key])
        if simulate is not None:
            tasks.append(BackgroundTask(f"simulator {device.key}", simulate))
    return tasks


def _http_port(preferred: int) -> int:
    if preferred == 0:
        return free_port()
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", preferred))
    except OSError:
        port = free_port()
        log.warning("port %d is taken; serving metrics on %d instead", preferred, port)
        return port
    return preferred


def run_demo(catalog: PluginCatalog, args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir or default_state_dir()
    http_port = _http_port(args.demo_http_port)
    snmp_port = free_udp_port()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # The demo has no file to reload: SIGHUP (a closed terminal) ends it
        # like the others, so its broker, SNMP agents and temp dirs go too.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        async with embedded_broker(kind=args.demo_broker) as mqtt_port:
            user = make_demo_user(state_dir)
            data = demo_config(
                mqtt_port,
                http_port,
                demo_store_path(state_dir),
                snmp_port=snmp_port,
                kinds=catalog.kinds,
                web_config_file=user.web_config_file,
                operators=[user.name],
                calendar_types=catalog.calendar_types,
            )
            loaded = load_config(
                data,
                catalog.kinds,
                catalog.rules,
                catalog.channel_types,
                calendars=CalendarBook(catalog.calendar_types),
            )
            work_dir = state_dir / "simulators"
            shutil.rmtree(work_dir, ignore_errors=True)
            context = contexts(loaded, mqtt_port, snmp_port, args.demo_speedup, work_dir)
            agents = recordings(loaded, catalog, context)
            async with contextlib.AsyncExitStack() as stack:
                if agents:
                    await stack.enter_async_context(snmp_agents(agents, state_dir, snmp_port))
                background = simulators(loaded, catalog, context)
                app = App(loaded, catalog, background=background)
                kinds: dict[str, int] = {}
                for device in loaded.devices:
                    kinds[device.kind] = kinds.get(device.kind, 0) + 1
                print(
                    f"ocrfleet demo: {loaded.config.municipality.name}, "
                    f"{len(loaded.config.sites)} sites, {len(loaded.devices)} devices ("
                    + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                    + ")\n"
                    f"  status:   http://127.0.0.1:{http_port}/ (log in as {user.name!r},"
                    f" password {user.password!r}, to acknowledge or silence)\n"
                    f"  kiosk:    http://127.0.0.1:{http_port}/kiosk/{loaded.config.sites[0].id}\n"
                    f"  metrics:  http://127.0.0.1:{http_port}/metrics\n"
                    f"  health:   http://127.0.0.1:{http_port}/healthz\n"
                    f"  broker:   mqtt://127.0.0.1:{mqtt_port} (topic root "
                    f"{loaded.config.mqtt.topic_root!r})\n"
                    + (f"  SNMP:     udp://127.0.0.1:{snmp_port} (snmpsim)\n" if agents else "")
                    + f"  store:    {demo_store_path(state_dir)}\n"
                    # Closed sites show no sessions; say so before someone wonders why.
                    + "".join(f"  {line}\n" for line in opening_lines(loaded, time.time()))
                    + "Stop with Ctrl-C.",
                    flush=True,
                )
                await app.run(stop)

    asyncio.run(main())
    return 0
