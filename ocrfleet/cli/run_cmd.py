"""`ocrfleet run`: the daemon, on a config file or on the built-in demo fleet."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from ocrfleet.app import App
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
    loaded = load_or_exit(args.config, catalog)
    logging_config = loaded.config.logging
    setup_logging(args.log_level or logging_config.level, args.log_format or logging_config.format)
    try:
        app = App(loaded, catalog)
    except (OSError, StoreError) as exc:
        log.error("cannot start: %s", exc)
        return 1

    def reload() -> None:
        try:
            app.reload(
                load_config_file(args.config, catalog.kinds, catalog.rules, catalog.channel_types)
            )
        except ConfigError as exc:
            log.error("configuration not reloaded; it has errors:\n%s", exc.render())

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
