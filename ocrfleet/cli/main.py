"""Entry point: global options, then one subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ocrfleet import __version__
from ocrfleet.cli import (
    check_config,
    export_monitoring_cmd,
    maintenance_cmd,
    norms_cmd,
    plugins_cmd,
    probe_cmd,
    report_cmd,
    run_cmd,
    silence_cmd,
    store_cmd,
)
from ocrfleet.cli.common import load_catalog
from ocrfleet.logs import setup_logging


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        help="log verbosity (default: from the config, else INFO)",
    )
    common.add_argument(
        "--log-format", choices=("text", "json"), help="log line format (default: text)"
    )
    parser = argparse.ArgumentParser(
        prog="ocrfleet",
        description="Watch the public computer rooms of a municipality.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"ocrfleet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers: dict[str, object] = {}
    for module in (
        run_cmd,
        check_config,
        plugins_cmd,
        probe_cmd,
        maintenance_cmd,
        silence_cmd,
        norms_cmd,
        report_cmd,
        store_cmd,
        export_monitoring_cmd,
    ):
        sp = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, parents=[common]
        )
        sp.add_argument("--version", action="version", version=f"ocrfleet {__version__}")
        module.configure(sp)
        handlers[module.NAME] = module.run
    catalog = load_catalog()
    for name, command in sorted(catalog.commands.items()):
        sp = sub.add_parser(name, help=command.help, description=command.help, parents=[common])
        sp.add_argument("--version", action="version", version=f"ocrfleet {__version__}")
        command.configure(sp)
        handlers[name] = command.run
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    setup_logging(args.log_level or "INFO", args.log_format or "text")
    handler = handlers[args.command]
    try:
        return int(handler(args))  # type: ignore[operator]
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
