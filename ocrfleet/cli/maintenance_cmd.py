"""`ocrfleet maintenance`: log maintenance done on a device, and list what is due.

Without -c it works on the demo fleet and the demo's store, so it can be
tried next to `ocrfleet run`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ocrfleet.alerts.maintenance import (
    Due,
    device_zone,
    monthly_due,
    renewal_due,
    unmaintained_kinds,
)
from ocrfleet.cli.common import add_fleet_options, load_catalog, load_or_exit
from ocrfleet.clock import Clock, SystemClock
from ocrfleet.config.alerting import MaintenanceConfig
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.runner import default_state_dir, demo_store_path
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.maintenance.ledger import (
    MONTHLY_TASK,
    LedgerView,
    MaintenanceLedger,
)
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError

NAME = "maintenance"
HELP = "log maintenance done on a device, and list what is due (without -c: the demo fleet)"

# Task names become metric label values: keep them to identifier characters.
_TASK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# A clock a little ahead on the machine that logs is no reason to refuse an entry.
_FUTURE_TOLERANCE = 300.0
# The demo's own ports do not matter here; the config only has to be valid.
_DEMO_PORT = 1883
_DEMO_SNMP_PORT = 161


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_fleet_options(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    done = actions.add_parser(
        "done",
        help="log that a task was done on a device (default: the monthly maintenance)",
        description="Log that a task was done on a device; this clears its reminder.",
    )
    done.add_argument("device", metavar="SITE/DEVICE", help="the device, e.g. library/pc-01")
    done.add_argument(
        "--minutes", type=int, help="time spent (default: maintenance.monthly_minutes)"
    )
    done.add_argument("--note", default="", help="what was done, in a few words")
    done.add_argument(
        "--task", default=MONTHLY_TASK, help=f"the task (default: {MONTHLY_TASK}; renewal, ...)"
    )
    done.add_argument(
        "--at",
        metavar="ISO-8601",
        help="when it was done, e.g. 2026-10-02T14:30 (site time unless an offset is given; "
        "default: now)",
    )
    add_fleet_options(done, top_level=False)
    listing = actions.add_parser(
        "list",
        help="the last time each task was done per device, and when it is next due",
        description="The last time each task was done per device, and when it is next due.",
    )
    listing.add_argument(
        "--due", action="store_true", help="only devices whose maintenance or renewal is due"
    )
    listing.add_argument("--site", help="only this site")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_fleet_options(listing, top_level=False)


def run(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog()
        loaded, store_path = _load(args, catalog)
        # Kinds that opted out of monthly maintenance: as for the reminders.
        unmaintained = unmaintained_kinds(catalog.kinds)
        if args.action == "done":
            return _done(args, loaded, store_path, SystemClock(), unmaintained)
        return _list(args, loaded, store_path, SystemClock(), unmaintained)
    except UsageError as exc:
        print(f"ocrfleet maintenance: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"ocrfleet maintenance: cannot use the store: {exc}", file=sys.stderr)
        return 1


def _load(args: argparse.Namespace, catalog: PluginCatalog) -> tuple[LoadedConfig, Path]:
    if args.config is not None:
        if args.state_dir is not None:
            raise UsageError(
                "--state-dir is for the demo fleet; with -c the config's store is used"
            )
        loaded = load_or_exit(args.config, catalog, read_secrets=False)
        return loaded, loaded.config.store.path
    store_path: Path = demo_store_path(args.state_dir or default_state_dir())
    data = demo_config(
        _DEMO_PORT,
        0,
        store_path,
        snmp_port=_DEMO_SNMP_PORT,
        kinds=catalog.kinds,
    )
    return load_config(data, catalog.kinds), store_path


# -- done ---------------------------------------------------------------------


def _done(
    args: argparse.Namespace,
    loaded: LoadedConfig,
    store_path: Path,
    clock: Clock,
    unmaintained: frozenset[str],
) -> int:
    info = _device(loaded, args.device)
    if not _TASK.match(args.task):
        raise UsageError(
            f"--task {args.task!r}: use lower-case letters, digits, - and _ (e.g. monthly)"
        )
    norms = loaded.config.maintenance
    minutes: int = norms.monthly_minutes if args.minutes is None else args.minutes
    if minutes < 0:
        raise UsageError(f"--minutes {minutes}: cannot be negative")
    now = clock.now()
    done_at = now if args.at is None else _parse_time(args.at, info)
    if done_at > now + _FUTURE_TOLERANCE:
        raise UsageError(f"--at {args.at}: is in the future")
    ledger = MaintenanceLedger(StoreConnections(store_path))
    try:
        ledger.record(info.key, args.task, done_at, minutes, args.note, source="cli")
        view = ledger.view()
    finally:
        ledger.close()
    line = (
        f"logged {args.task} for {info.key} at {_local(info, done_at, 'minutes')} ({minutes} min)"
    )
    following = _scheduled(info, view, norms, unmaintained).get(args.task)
    if following is not None and following.due_at is not None:
        line += f"; next due {_local(info, following.due_at, 'date')}"
    print(line)
    return 0


def _device(loaded: LoadedConfig, text: str) -> DeviceInfo:
    site, sep, device = text.partition("/")
    if not sep or not site or not device or "/" in device:
        raise UsageError(f"{text!r}: expected SITE/DEVICE, e.g. library/pc-01")
    by_key = {info.key: info for info in loaded.devices}
    info = by_key.get(DeviceKey(site, device))
    if info is not None:
        return info
    sites = sorted(configured.id for configured in loaded.config.sites)
    if site not in sites:
        raise UsageError(f"unknown site {site!r} (sites: {', '.join(sites)})")
    devices = sorted(key.device for key in by_key if key.site == site)
    raise UsageError(f"unknown device {text!r} (devices of {site}: {', '.join(devices)})")


def _parse_time(text: str, info: DeviceInfo) -> float:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at {text!r}: not an ISO-8601 date or time (e.g. 2026-10-02 or 2026-10-02T14:30)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=device_zone(info))
    return when.timestamp()


def _local(info: DeviceInfo, when: float, precision: str) -> str:
    moment = datetime.fromtimestamp(when, device_zone(info))
    if precision == "date":
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


# -- list ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    info: DeviceInfo
    task: str
    last_done: float | None
    due: Due | None  # None: a task without a schedule (e.g. supply_replaced)
    now: float

    @property
    def is_due(self) -> bool:
        return self.due is not None and self.due.is_due(self.now)

    @property
    def status(self) -> str:
        if self.due is None or not self.is_due:
            return ""
        if self.due.due_at is not None and self.now < self.due.due_at:
            return "due soon"
        return "due"

    def cells(self) -> tuple[str, ...]:
        last = "never" if self.last_done is None else _local(self.info, self.last_done, "date")
        if self.due is None or self.due.due_at is None:
            next_due = "-"
        else:
            next_due = _local(self.info, self.due.due_at, "date")
        return (str(self.info.key), self.info.kind, self.task, last, next_due, self.status)

    def as_json(self) -> dict[str, Any]:
        # next_due is null for a task without a schedule and for a device
        # with no date to count from (no purchase date, never seen).
        due_at = self.due.due_at if self.due is not None else None
        return {
            "site": self.info.site,
            "device": self.info.id,
            "kind": self.info.kind,
            "task": self.task,
            "last_done": _iso(self.info, self.last_done),
            "next_due": _iso(self.info, due_at),
            "due": self.is_due,
        }


def _iso(info: DeviceInfo, when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, device_zone(info)).isoformat(timespec="seconds")


def _list(
    args: argparse.Namespace,
    loaded: LoadedConfig,
    store_path: Path,
    clock: Clock,
    unmaintained: frozenset[str],
) -> int:
    devices = loaded.devices
    if args.site is not None:
        sites = sorted(site.id for site in loaded.config.sites)
        if args.site not in sites:
            raise UsageError(f"unknown site {args.site!r} (sites: {', '.join(sites)})")
        devices = loaded.devices_of(args.site)
    view = _read_view(store_path)
    rows = _rows(devices, view, loaded.config.maintenance, unmaintained, clock.now())
    if args.due:
        rows = [row for row in rows if row.is_due]
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
        return 0
    if not rows:
        print("nothing is due" if args.due else "no devices")
        return 0
    table: list[tuple[str, ...]] = [("DEVICE", "KIND", "TASK", "LAST DONE", "NEXT DUE", "STATUS")]
    table += [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def _read_view(store_path: Path) -> LedgerView:
    # Listing must not create a store where none is yet (e.g. before the
    # demo's first run): no store, nothing logged.
    if not store_path.exists():
        return LedgerView()
    ledger = MaintenanceLedger(StoreConnections(store_path))
    try:
        return ledger.view()
    finally:
        ledger.close()


def _scheduled(
    info: DeviceInfo, view: LedgerView, norms: MaintenanceConfig, unmaintained: frozenset[str]
) -> dict[str, Due]:
    """The tasks the reminders keep a due date for on this device."""
    scheduled: dict[str, Due] = {}
    if info.kind not in unmaintained:
        scheduled[MONTHLY_TASK] = monthly_due(info, view, norms)
    renewal = renewal_due(info, view, norms)
    if renewal is not None:
        scheduled[renewal.task] = renewal
    return scheduled


def _rows(
    devices: list[DeviceInfo],
    view: LedgerView,
    norms: MaintenanceConfig,
    unmaintained: frozenset[str],
    now: float,
) -> list[_Row]:
    rows = []
    for info in sorted(devices, key=lambda d: d.key):
        scheduled: dict[str, Due | None] = dict(_scheduled(info, view, norms, unmaintained))
        for task in view.tasks_of(info.key):
            scheduled.setdefault(task, None)
        for task, due in scheduled.items():
            rows.append(_Row(info, task, view.last_done(info.key, task), due, now))
    return rows
