"""`ocrfleet plugins`: what each loaded plugin provides."""

from __future__ import annotations

import argparse
import json

from ocrfleet.cli.common import load_catalog

NAME = "plugins"
HELP = "list loaded plugins and the kinds, channels and rules each provides"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rows = [
        {
            "plugin": c.plugin,
            "version": c.version,
            "kinds": c.kinds,
            "commands": c.commands,
            "extensions": c.extensions,
            "rules": c.rules,
            "channel_types": c.channel_types,
        }
        for c in catalog.contributions
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no plugins loaded")
        return 0
    for row in rows:
        print(f"{row['plugin']} {row['version']}".rstrip())
        for label in ("kinds", "commands", "extensions", "rules", "channel_types"):
            values = row[label]
            if values:
                print(f"  {label}: {', '.join(values)}")
        for kind in row["kinds"]:
            print(f"    {kind}: {catalog.kinds[kind].description}")
    return 0
