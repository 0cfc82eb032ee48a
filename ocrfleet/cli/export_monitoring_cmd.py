"""`ocrfleet export-monitoring`: the dashboards, rules and rule tests of every installed plugin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pluggy

from ocrfleet.monitoring.export import (
    Layout,
    MonitoringAssetError,
    collect,
    differences,
    planned,
    unclaimed,
    write,
)
from ocrfleet.pluginhost.manager import build_plugin_manager

NAME = "export-monitoring"
HELP = (
    "write the Grafana dashboards, Prometheus rules and promtool tests of the core and "
    "every installed plugin"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder to write into: grafana/dashboards/, prometheus/rules/, prometheus/tests/",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a file there differs from what would be written",
    )


def run(args: argparse.Namespace) -> int:
    layout = Layout.under(args.out)
    try:
        files = planned(collect(build_plugin_manager()), layout)
    except MonitoringAssetError as exc:
        print(f"ocrfleet: monitoring asset: {exc}", file=sys.stderr)
        return 1
    except pluggy.PluginValidationError as exc:
        print(f"ocrfleet: plugin {exc.plugin!r} is not valid: {exc}", file=sys.stderr)
        return 1
    if args.check:
        problems = differences(files, layout)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        write(files)
    except OSError as exc:
        print(f"ocrfleet: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    for path in files:
        print(path)
    for path in unclaimed(files, layout):
        print(f"{path}: provided by no installed plugin, left alone", file=sys.stderr)
    return 0
