"""`ocrfleet plugins`: what each loaded plugin provides."""

from __future__ import annotations

import argparse
import json

from ocrfleet.cli.common import load_catalog
from ocrfleet.kinds import DeviceKind

NAME = "plugins"
HELP = (
    "list loaded plugins, the plugin API each was written for, and the kinds, sources, "
    "channels, rules, integrations and calendars each provides"
)
# What a plugin provides, in the order shown.
_LISTS = (
    "kinds",
    "source_types",
    "commands",
    "extensions",
    "rules",
    "channel_types",
    "service_types",
    "calendar_types",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rows = [
        {
            "plugin": c.plugin,
            "version": c.version,
            "api_version": c.api_version,
            "kinds": c.kinds,
            "kind_sources": {kind: catalog.kinds[kind].source for kind in c.kinds},
            "source_types": c.source_types,
            "commands": c.commands,
            "extensions": c.extensions,
            "rules": c.rules,
            "channel_types": c.channel_types,
            "service_types": c.service_types,
            "calendar_types": c.calendar_types,
        }
        for c in catalog.contributions
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no plugins loaded")
        return 0
    for row, contribution in zip(rows, catalog.contributions, strict=True):
        api = f" (plugin API {contribution.api_version})" if contribution.api_version else ""
        print(f"{contribution.plugin} {contribution.version}".rstrip() + api)
        for label in _LISTS:
            values = row[label]
            if values:
                print(f"  {label}: {', '.join(values)}")
        for name in contribution.kinds:
            kind = catalog.kinds[name]
            print(f"    {name}: {kind.description}")
            print(f"      source: {_source(kind)}")
    return 0


def _source(kind: DeviceKind) -> str:
    if kind.source is not None:
        return kind.source
    # MQTT is pushed, not polled: not a source (ocrfleet/sources.py).
    return "none (reports over MQTT)" if kind.mqtt_channels else "none"
