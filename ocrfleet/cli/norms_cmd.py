"""`ocrfleet norms`: what the guide asks of the municipality, and where it stands today.

The figures come from ocrfleet/norms/figures.py (the same as the
`ocrfleet_norm_*` metrics); "now" is read from the running daemon's
/metrics. Without -c it describes the demo fleet and asks the demo daemon.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from ocrfleet.calendars.live import CalendarBook
from ocrfleet.cli.closures_text import next_closure_lines
from ocrfleet.cli.common import load_catalog
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig, load_config, load_config_file
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.runner import default_state_dir, demo_store_path
from ocrfleet.devices import DeviceKey
from ocrfleet.norms.document import norms_document
from ocrfleet.norms.figures import (
    ADULTS_PER_DEVICE,
    ADULTS_PER_GUIDANCE_HALF_DAY,
    ADULTS_PER_LESSON_HALF_DAY,
    GUIDANCE_COORDINATION_HOURS,
    HOURS_PER_HALF_DAY,
    SOURCE_DEVICES,
    SOURCE_GUIDANCE,
    SOURCE_LESSONS,
    SOURCE_RESERVATION,
    TASK_MAINTENANCE,
    TASK_OPENING_CLOSING,
    TASK_SUPPORT,
    UNRESERVED_SEATS_PER_SITE,
    NormFigures,
    Usable,
    norm_figures,
)
from ocrfleet.norms.live import LiveStates, live_states, metrics_url
from ocrfleet.pluginhost.catalog import PluginCatalog

NAME = "norms"
HELP = (
    "what the guide asks of the municipality (devices, staff time, a seat without "
    "reservation per site) and where it stands now (without -c: the demo fleet)"
)

# `ocrfleet run` without -c serves the demo's metrics here unless the port is taken.
_DEMO_HTTP_PORT = 9330
_NO_SEATS = "reports none of the configured seats"
_TASK_NAMES = {
    TASK_MAINTENANCE: "technical maintenance",
    TASK_SUPPORT: "visitor support",
    TASK_OPENING_CLOSING: "opening and closing",
}


class UsageError(Exception):
    """A bad argument or configuration: printed as one line, exit status 2."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        help="TOML configuration file (default: the demo fleet, as `ocrfleet run` without -c)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (keys in docs/norms.md)")
    parser.add_argument(
        "--metrics-url",
        metavar="URL",
        help="the running daemon's metrics, for the seats usable now (default: "
        "http://<http.listen>:<http.port>/metrics of the configuration; the demo's "
        f"port {_DEMO_HTTP_PORT} without -c)",
    )


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    try:
        loaded = _load(args.config, catalog)
        url = _url(args.metrics_url, loaded)
    except UsageError as exc:
        print(f"ocrfleet norms: {exc}", file=sys.stderr)
        return 2
    seat_kinds = frozenset(name for name, kind in catalog.kinds.items() if kind.is_seat)
    seats = [info.key for info in loaded.devices if info.kind in seat_kinds]
    live = _checked(live_states(url), seats)
    figures = norm_figures(
        loaded.config, loaded.devices, seat_kinds, live.states, live.offline_sites
    )
    if args.json:
        print(json.dumps(norms_document(figures, live, len(loaded.config.sites)), indent=2))
    else:
        print("\n".join(as_text(figures, live, len(loaded.config.sites))))
        # Norms count open rooms: when each next closes is part of the picture.
        print("\n".join(next_closure_lines(loaded, catalog.catalogs(), time.time())))
    return 0


def _load(path: Path | None, catalog: PluginCatalog) -> LoadedConfig:
    if path is None:
        # Only the fleet and the HTTP port matter here; the other ports are unused.
        data = demo_config(
            mqtt_port=1883,
            http_port=_DEMO_HTTP_PORT,
            store_path=demo_store_path(default_state_dir()),
            snmp_port=161,
            kinds=catalog.kinds,
            calendar_types=catalog.calendar_types,
        )
        return load_config(data, catalog.kinds, calendars=CalendarBook(catalog.calendar_types))
    try:
        # Only the fleet and the HTTP address are used: no secret is read.
        return load_config_file(
            path,
            catalog.kinds,
            catalog.rules,
            catalog.channel_types,
            read_secrets=False,
            calendars=CalendarBook(catalog.calendar_types),
        )
    except ConfigError as exc:
        where, message = exc.problems[0] if exc.problems else ("", "not valid")
        first = f"{path}: {where}: {message}" if where else message
        more = len(exc.problems) - 1
        if more:
            first += f" (and {more} more; `ocrfleet check-config -c {path}` lists them)"
        raise UsageError(first) from None


def _url(given: str | None, loaded: LoadedConfig) -> str | None:
    if given is None:
        http = loaded.config.http
        return metrics_url(http.listen, http.port)
    example = "e.g. http://127.0.0.1:9330/metrics"
    try:
        parts = urllib.parse.urlsplit(given)
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError as exc:
        raise UsageError(f"--metrics-url {given!r}: {exc} ({example})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--metrics-url {given!r}: expected an http:// or https:// URL, {example}")
    return given


def _checked(live: LiveStates, seats: Sequence[DeviceKey]) -> LiveStates:
    # A daemon of another fleet on the same port would make every seat look
    # down; better to say the state is unknown.
    if live.states is not None and seats and not any(key in live.states for key in seats):
        return LiveStates(live.url, None, _NO_SEATS)
    return live


# -- text ---------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def _hours(value: float) -> str:
    return f"{value:,.1f}"


def _now(usable: Usable | None) -> str:
    if usable is None:
        return "unknown"
    words = f"{usable.up} up, {usable.scheduled_off} closed"
    # Seats at a site without internet do not count (docs/internet.md): shown apart.
    return f"{words}, {usable.no_internet} no internet" if usable.no_internet else words


def _status(ok: bool, ok_now: bool | None) -> str:
    if not ok:
        return "short"
    return "short now" if ok_now is False else "OK"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def as_text(figures: NormFigures, live: LiveStates, sites: int) -> list[str]:
    devices = figures.devices
    guidance = figures.guidance
    lessons = figures.lessons
    lines = [
        f"{figures.municipality}: {figures.adults:,} adults, "
        f"{len(figures.village_cores)} village cores, {sites} sites",
    ]
    if live.states is not None:
        lines.append(f"now: as the daemon at {live.url} reports it")
    elif live.url is None:
        lines.append(f"now: unknown ({live.error})")
    elif live.error == _NO_SEATS:
        lines.append(f"now: unknown (the daemon at {live.url} {_NO_SEATS})")
    else:
        lines.append(f"now: unknown (daemon not reachable at {live.url}: {live.error})")
    rows: list[tuple[str, ...]] = [
        ("RULE", "SOURCE", "REQUIRED", "CONFIGURED", "NOW", "STATUS"),
        (
            "public devices",
            SOURCE_DEVICES,
            str(devices.required),
            str(devices.configured),
            _now(devices.now),
            _status(devices.ok, devices.ok_now),
        ),
    ]
    for core in figures.village_cores:
        rows.append(
            (
                f"device in village core {core.name}",
                SOURCE_DEVICES,
                "1",
                str(core.configured),
                _now(core.now),
                _status(core.ok, core.ok_now),
            )
        )
    for site in figures.unreserved:
        rows.append(
            (
                f"unreserved seat at {site.site}",
                SOURCE_RESERVATION,
                str(UNRESERVED_SEATS_PER_SITE),
                f"{site.unreserved} of {site.seats}",
                _now(site.now),
                _status(site.ok, site.ok_now),
            )
        )
    staff: list[tuple[str, ...]] = [
        ("STAFF TIME", "SOURCE", "REQUIRED", "HOURS/WEEK"),
        (
            "one-to-one guidance",
            SOURCE_GUIDANCE,
            f"{guidance.half_days_per_week} half-days/week",
            _hours(guidance.hours_per_week),
        ),
        (
            "group lessons",
            SOURCE_LESSONS,
            f"{lessons.half_days_per_month} half-days/month",
            _hours(lessons.hours_per_week),
        ),
    ]
    for task in figures.device_tasks:
        staff.append(
            (
                _TASK_NAMES.get(task.task, task.task),
                task.source,
                f"{_number(task.hours_per_device)} h/device/{task.period} x {task.devices}",
                _hours(task.hours_per_week),
            )
        )
    staff.append(("total", "", "", _hours(sum(figures.staff_hours_per_week.values()))))
    kinds = ", ".join(f"{count} {kind}" for kind, count in devices.configured_by_kind.items())
    maintenance = next((t for t in figures.device_tasks if t.period == "month"), None)
    notes = [
        f"- public devices: {figures.adults:,} adults / {ADULTS_PER_DEVICE:,} = "
        f"{_number(devices.exact)}, rounded up: {devices.by_population}; "
        f"{devices.by_village_cores} village cores; the more of the two: {devices.required}. "
        f"Configured seats: {kinds or 'none'} (reservable ones count).",
        f"- one-to-one guidance: {figures.adults:,} / {ADULTS_PER_GUIDANCE_HALF_DAY:,} = "
        f"{_number(guidance.exact)}, rounded up: {guidance.half_days_per_week} half-days a "
        f"week of {_number(HOURS_PER_HALF_DAY)} h + {_number(GUIDANCE_COORDINATION_HOURS)} h "
        f"coordination = {_hours(guidance.hours_per_week)} h.",
        f"- group lessons: {figures.adults:,} / {ADULTS_PER_LESSON_HALF_DAY:,} = "
        f"{_number(lessons.exact)}, rounded up: {lessons.half_days_per_month} half-days a month "
        f"of teaching, each with a half-day of preparation and one of coordination "
        f"({_number(HOURS_PER_HALF_DAY)} h each): {_hours(lessons.hours_per_month)} h a month "
        "x 12 / 52.",
    ]
    if maintenance is not None:
        notes.append(
            f"- technical maintenance: "
            f"{_hours(maintenance.devices * maintenance.hours_per_device)} h a month x 12 / 52."
        )
    notes.append('- now: "closed" seats are off only because their site is closed.')
    return [*lines, "", *_table(rows), "", *_table(staff), "", *notes]


# -- JSON ---------------------------------------------------------------------
