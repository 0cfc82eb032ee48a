"""`ocrfleet run`: the daemon, on a config file or on the built-in demo fleet."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from ocrfleet.app import App
from ocrfleet.calendars.live import CalendarBook
from ocrfleet.cli.common import add_state_dir_option, load_catalog, load_or_exit
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config_file
from ocrfleet.demo.runner import run_demo
from ocrfleet.logs import setup_logging
from ocrfleet.store import StoreError

NAME = "run"
HELP = "run the daemon (without -c: the built-in demo fleet, no external services needed)"

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="TOML configuration file")
    parser.add_argument(
        "--demo-http-port",
        type=int,
        default=9330,
        help="demo only: port for /metrics (0 picks a free one; default 9330)",
    )
    parser.add_argument(
        "--demo-speedup",
        type=float,
        default=1.0,
        help="demo only: run simulated visitors this many times faster than real time",
    )
    parser.add_argument(
        "--demo-broker",
        choices=("auto", "mosquitto", "amqtt"),
        default="auto",
        help="demo only: embedded MQTT broker (auto: Mosquitto when installed, else amqtt)",
    )
    add_state_dir_option(
        parser,
        help="demo only: where the demo keeps its SQLite file (default: a per-user state dir)",
    )


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    if args.config is None:
        return run_demo(catalog, args)
    # One book for the start and every reload: a reload keeps what was fetched.
    calendars = CalendarBook(catalog.calendar_types)
    loaded = load_or_exit(args.config, catalog, calendars=calendars)
    logging_config = loaded.config.logging
    setup_logging(args.log_level or logging_config.level, args.log_format or logging_config.format)
    try:
        app = App(loaded, catalog)
    except ConfigError as exc:  # an [integrations.*] table its integration refuses
        log.error("%s: configuration is not valid:\n%s", args.config, exc.render())
        return 1
    except (OSError, StoreError) as exc:
        log.error("cannot start: %s", exc)
        return 1

    one_at_a_time = asyncio.Lock()
    reloads: set[asyncio.Task[None]] = set()

    async def load_and_apply() -> None:
        async with one_at_a_time:
            try:
                # Reading the file and its calendars (an iCal feed is parsed)
                # takes a while: off the event loop, which keeps acking MQTT.
                loaded = await asyncio.to_thread(
                    load_config_file,
                    args.config,
                    catalog.kinds,
                    catalog.rules,
                    catalog.channel_types,
                    calendars=calendars,
                )
            except ConfigError as exc:
                log.error("configuration not reloaded; it has errors:\n%s", exc.render())
                return
            except Exception:
                log.exception("configuration not reloaded")
                return
            app.reload(loaded)

    def reload() -> None:
        task = asyncio.get_running_loop().create_task(load_and_apply(), name="reload")
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    return serve(app, reload)


def serve(app: App, reload: object = None) -> int:
    """Run an App until SIGTERM or SIGINT; SIGHUP calls `reload`."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if callable(reload):
            with contextlib.suppress(NotImplementedError, AttributeError):
                loop.add_signal_handler(signal.SIGHUP, reload)
        await app.run(stop)

    try:
        asyncio.run(main())
    except (OSError, StoreError) as exc:
        log.error("stopped: %s", exc)
        return 1
    return 0
