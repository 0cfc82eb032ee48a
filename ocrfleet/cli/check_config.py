"""`ocrfleet check-config FILE`: validate without starting anything."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from ocrfleet.cli.common import load_catalog, load_or_exit
from ocrfleet.config.secrets import unread_secrets

NAME = "check-config"
HELP = "validate a configuration file and print a summary"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the TOML configuration file")
    parser.add_argument(
        "--secrets",
        action="store_true",
        help="also read the secrets given as { env = ... } or { file = ... }, as "
        "`ocrfleet run` does (default: check their form only, so the file can be "
        "checked on a machine that does not hold them)",
    )


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    loaded = load_or_exit(args.file, catalog, read_secrets=args.secrets)
    config = loaded.config
    print(f"{args.file}: valid")
    print(
        f"municipality: {config.municipality.name} "
        f"({config.municipality.adult_population:,} adults)"
    )
    print(f"sites: {len(config.sites)}")
    for site in config.sites:
        kinds = Counter(device.kind for device in site.devices)
        summary = (
            ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "no devices"
        )
        print(f"  {site.id:<20} {site.name} ({site.village_core}): {summary}")
    totals = Counter(device.kind for device in loaded.devices)
    print("devices: " + (", ".join(f"{n} {k}" for k, n in sorted(totals.items())) or "none"))
    used = sorted({catalog.kind_owner[kind] for kind in totals})
    print("plugins used: " + (", ".join(used) or "none"))
    print(
        f"mqtt: {config.mqtt.host}:{config.mqtt.port} (topic root {config.mqtt.topic_root!r}"
        f"{', TLS' if config.mqtt.tls else ''})"
    )
    print(f"metrics: http://{config.http.listen}:{config.http.port}/metrics")
    print(f"store: {config.store.path}")
    unread = unread_secrets(config, [d.options for d in loaded.devices], loaded.channels)
    if unread:
        sources = sorted({secret.source for secret in unread})
        print(
            f"secrets not read (--secrets reads them, as `ocrfleet run` does): {', '.join(sources)}"
        )
    return 0
