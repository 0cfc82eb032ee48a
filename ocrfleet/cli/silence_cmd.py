"""`ocrfleet silence`: hold back alert notifications for a site or a device for a while.

The silences go into the store; a running daemon picks them up within
seconds. Without -c the commands act on the demo fleet's store, next to
`ocrfleet run` without -c.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ocrfleet.alerts.silences import Silence, SilenceError, SilenceStore, SilenceTarget
from ocrfleet.cli.common import add_fleet_options, load_catalog
from ocrfleet.clock import SystemClock
from ocrfleet.config.durations import parse_duration
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig, load_config, load_config_file
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.runner import default_state_dir, demo_store_path
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError

NAME = "silence"
HELP = "hold back alert notifications for a site or device for a while (add, list, remove)"

_EXAMPLE_START = "2026-03-02T14:00 or 2026-03-02T14:00+01:00"


def configure(parser: argparse.ArgumentParser) -> None:
    add_fleet_options(parser, top_level=True)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="silence a site or one device",
        description="Silence every alert of a site (TARGET = SITE) or of one device "
        "(TARGET = SITE/DEVICE): they still fire, but do not notify until the silence ends.",
    )
    add_fleet_options(add, top_level=False)
    add.add_argument("target", metavar="TARGET", help="SITE or SITE/DEVICE, as configured")
    add.add_argument(
        "--for", dest="duration", required=True, metavar="DURATION", help='e.g. "45m", "2h", "3d"'
    )
    add.add_argument("--reason", required=True, help="why, for whoever sees the alert")
    add.add_argument(
        "--start",
        metavar="TIME",
        help=f"ISO-8601, e.g. {_EXAMPLE_START}; without an offset, in the site's "
        "time zone (default: now)",
    )
    add.add_argument("--by", help="who sets it (default: the user running the command)")

    listing = actions.add_parser(
        "list", help="show silences", description="Show the silences in force or to come."
    )
    add_fleet_options(listing, top_level=False)
    listing.add_argument("--all", action="store_true", help="also the expired and removed ones")
    listing.add_argument("--json", action="store_true", help="print JSON")

    remove = actions.add_parser(
        "remove", help="end a silence now", description="End a silence now."
    )
    add_fleet_options(remove, top_level=False)
    remove.add_argument("id", metavar="ID", help="the silence's number, as `list` shows it")


def run(args: argparse.Namespace) -> int:
    try:
        loaded = _load(args)
        connections = StoreConnections(loaded.config.store.path)
        store = SilenceStore(connections)
        try:
            if args.action == "add":
                _add(args, loaded, store)
            elif args.action == "list":
                _list(args, loaded, store)
            else:
                _remove(args, store)
        finally:
            connections.close()
    except (SilenceError, ConfigError) as exc:
        print(f"ocrfleet silence: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"ocrfleet silence: cannot use the store: {exc}", file=sys.stderr)
        return 2
    return 0


def _load(args: argparse.Namespace) -> LoadedConfig:
    catalog = load_catalog()
    path: Path | None = args.config
    if path is None:
        state_dir: Path = args.state_dir or default_state_dir()
        # Ports are not used here; the store path and the fleet are what matter.
        data = demo_config(
            mqtt_port=1883,
            http_port=9330,
            store_path=demo_store_path(state_dir),
            snmp_port=161,
            kinds=catalog.kinds,
        )
        return load_config(data, catalog.kinds)
    try:
        # Only the fleet and the store are used: no secret is read.
        return load_config_file(
            path, catalog.kinds, catalog.rules, catalog.channel_types, read_secrets=False
        )
    except ConfigError as exc:
        where, message = exc.problems[0] if exc.problems else ("", "not valid")
        first = f"{where}: {message}" if where else message
        more = len(exc.problems) - 1
        if more:
            first += f" (and {more} more; `ocrfleet check-config -c {path}` lists them)"
        raise SilenceError(first if not where else f"{path}: {first}") from None


def _add(args: argparse.Namespace, loaded: LoadedConfig, store: SilenceStore) -> None:
    target = _configured_target(args.target, loaded)
    zone = _zone_of(target.site, loaded)
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        raise SilenceError(f"--for: {exc}") from None
    if duration <= 0:
        raise SilenceError("--for: a silence must last longer than 0")
    now = SystemClock().now()
    starts_at = now if args.start is None else _parse_start(args.start, zone)
    ends_at = starts_at + duration
    if ends_at <= now:
        raise SilenceError(f"the silence would end in the past ({_format(ends_at, zone)})")
    if not args.reason.strip():
        raise SilenceError("--reason: say why, for whoever sees the alert")
    silence_id = store.add(str(target), starts_at, ends_at, args.reason, _who(args.by))
    print(
        f"silence #{silence_id}: {target} from {_format(starts_at, zone)} "
        f"until {_format(ends_at, zone)}"
    )


def _list(args: argparse.Namespace, loaded: LoadedConfig, store: SilenceStore) -> None:
    now = SystemClock().now()
    silences = store.list(now, include_expired=args.all)
    if args.json:
        print(json.dumps([_jsonable(s, now) for s in silences], indent=2))
        return
    if not silences:
        print("no silences" if args.all else "no silences in force or to come")
        return
    rows = [("ID", "TARGET", "STATE", "FROM", "UNTIL", "BY", "REASON")]
    for silence in silences:
        zone = _zone_of(silence.target.partition("/")[0], loaded)
        rows.append(
            (
                f"#{silence.id}",
                silence.target,
                silence.state(now),
                _format(silence.starts_at, zone),
                _format(silence.ends_at, zone),
                silence.created_by or "-",
                silence.reason,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        *aligned, reason = row
        cells = [cell.ljust(width) for cell, width in zip(aligned, widths, strict=True)]
        print("  ".join([*cells, reason]))


def _remove(args: argparse.Namespace, store: SilenceStore) -> None:
    text = args.id.strip().removeprefix("#")
    if not text.isdigit():
        raise SilenceError(f"{args.id!r} is not a silence number (see `ocrfleet silence list`)")
    silence = store.remove(int(text), SystemClock().now())
    print(f"removed silence #{silence.id} ({silence.target}: {silence.reason})")


def _configured_target(text: str, loaded: LoadedConfig) -> SilenceTarget:
    target = SilenceTarget.parse(text)
    sites = {site.id: site for site in loaded.config.sites}
    site = sites.get(target.site)
    if site is None:
        raise SilenceError(f"unknown site {target.site!r} (sites: {', '.join(sorted(sites))})")
    devices = sorted(device.id for device in site.devices)
    if target.device is not None and target.device not in devices:
        raise SilenceError(
            f"site {site.id!r} has no device {target.device!r} "
            f"(devices: {', '.join(devices) or 'none'})"
        )
    return target


def _zone_of(site_id: str, loaded: LoadedConfig) -> ZoneInfo:
    for site in loaded.config.sites:
        if site.id == site_id:
            return ZoneInfo(site.timezone)
    # A silence of a site since removed from the configuration.
    return ZoneInfo("UTC")


def _parse_start(text: str, zone: ZoneInfo) -> float:
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SilenceError(
            f"--start {text!r} is not an ISO-8601 time such as {_EXAMPLE_START}"
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    return start.timestamp()


def _who(given: str | None) -> str:
    if given is not None:
        return given.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _format(t: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %H:%M %Z")


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def _jsonable(silence: Silence, now: float) -> dict[str, Any]:
    return {
        "id": silence.id,
        "target": silence.target,
        "state": silence.state(now),
        "starts_at": _iso(silence.starts_at),
        "ends_at": _iso(silence.ends_at),
        "reason": silence.reason,
        "created_by": silence.created_by,
        "created_at": _iso(silence.created_at),
        "removed_at": _iso(silence.removed_at),
    }
