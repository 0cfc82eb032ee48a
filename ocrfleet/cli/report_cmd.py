"""`ocrfleet report`: the month's figures per site from the store's history.

Without -c it reports on the demo fleet and the demo's store, so it can be
tried next to `ocrfleet run`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

from ocrfleet.cli.common import add_fleet_options, load_catalog, load_or_exit
from ocrfleet.clock import Clock, SystemClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.runner import default_state_dir, demo_store_path
from ocrfleet.history.days import Month
from ocrfleet.history.figures import declared_figures
from ocrfleet.history.reader import HistoryReader
from ocrfleet.i18n.catalogs import Language
from ocrfleet.maintenance.ledger import MaintenanceLedger
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.report.build import Fleet, build_report
from ocrfleet.report.formats import FORMATS, render
from ocrfleet.report.pdf import PdfFailed, print_pdf
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError

NAME = "report"
HELP = (
    "a month's sessions, utilisation, availability, pages, alerts and maintenance per site, "
    "against the month before and the guide's norms (without -c: the demo fleet)"
)

# The demo's own ports do not matter here; the config only has to be valid.
_DEMO_PORT = 1883
_DEMO_SNMP_PORT = 161


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


class ReportFailed(Exception):
    """No history to report from, or the report cannot be written: one line, exit status 1."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--month", metavar="YYYY-MM", help="the month, e.g. 2026-10 (default: this month so far)"
    )
    parser.add_argument("--site", help="only this site (default: every site, and a total)")
    parser.add_argument(
        "--format", choices=FORMATS, default="md", help="md (default), csv, html or pdf (needs -o)"
    )
    parser.add_argument(
        "--language",
        choices=get_args(Language),
        help="nl (Flemish) or en (default: the site's language with --site, else the "
        "municipality's)",
    )
    parser.add_argument(
        "--csv-keys",
        action="store_true",
        help="csv: a header of stable column keys (sessions, usage_hours, ...) for scripts, "
        "instead of the column titles in the report's language",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write the report to this file (default: stdout)"
    )
    add_fleet_options(parser)


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    try:
        if args.format == "pdf" and args.output is None:
            raise UsageError("--format pdf needs -o FILE")
        text = _report(args, clock or SystemClock())
        if args.format == "pdf":
            print_pdf(text, args.output)
            print(f"report written to {args.output}")
        elif args.output is None:
            sys.stdout.write(text)
        else:
            _write(args.output, text)
            print(f"report written to {args.output}")
        return 0
    except UsageError as exc:
        print(f"ocrfleet report: {exc}", file=sys.stderr)
        return 2
    except (ReportFailed, PdfFailed) as exc:
        print(f"ocrfleet report: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"ocrfleet report: cannot read the store: {exc}", file=sys.stderr)
        return 1


def _report(args: argparse.Namespace, clock: Clock) -> str:
    """The report as text; for pdf, the html to print."""
    catalog = load_catalog()
    loaded, store_path, demo = _load(args, catalog)
    sites = sorted(site.id for site in loaded.config.sites)
    if args.site is not None and args.site not in sites:
        raise UsageError(f"unknown site {args.site!r} (sites: {', '.join(sites)})")
    now = clock.now()
    zone = ZoneInfo(loaded.config.zone_of_all())
    month = _month(args.month, now, zone)
    if not store_path.exists():
        # Reporting must not create a store, and a report of zeros would
        # hide a wrong store.path: say what is missing instead.
        hint = (
            "run the demo first (`ocrfleet run`)"
            if demo
            else "has the daemon run with this configuration? (store.path)"
        )
        raise ReportFailed(f"no history at {store_path}: {hint}")
    kinds = sorted(
        {
            d.kind
            for d in loaded.devices
            if d.kind in catalog.kinds and not catalog.kinds[d.kind].is_seat
        }
    )
    connections = StoreConnections(store_path)
    reader = HistoryReader(connections)
    ledger = MaintenanceLedger(connections)
    try:
        fleet = Fleet.of(loaded.devices, catalog.kinds, catalog.rules, ledger.view())
        report = build_report(
            reader,
            loaded.config,
            month,
            now,
            availability_kinds=kinds,
            site=args.site,
            figures=declared_figures(catalog.kinds),
            fleet=fleet,
        )
    finally:
        connections.close()
    speaker = loaded.config.readers(catalog.catalogs()).speaker(
        site=args.site, language=args.language
    )
    return render(
        report,
        "html" if args.format == "pdf" else args.format,
        speaker,
        templates=loaded.config.templates.directory,
        csv_keys=args.csv_keys,
    )


def _load(args: argparse.Namespace, catalog: PluginCatalog) -> tuple[LoadedConfig, Path, bool]:
    if args.config is not None:
        if args.state_dir is not None:
            raise UsageError(
                "--state-dir is for the demo fleet; with -c the config's store is used"
            )
        loaded = load_or_exit(args.config, catalog, read_secrets=False)
        return loaded, loaded.config.store.path, False
    store_path: Path = demo_store_path(args.state_dir or default_state_dir())
    data = demo_config(_DEMO_PORT, 0, store_path, snmp_port=_DEMO_SNMP_PORT, kinds=catalog.kinds)
    return load_config(data, catalog.kinds), store_path, True


def _month(text: str | None, now: float, zone: ZoneInfo) -> Month:
    current = Month.of(now, zone)
    if text is None:
        return current
    try:
        month = Month.parse(text)
    except ValueError as exc:
        raise UsageError(f"--month {exc}") from None
    if month > current:
        raise UsageError(f"--month {text}: is in the future")
    return month


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportFailed(f"cannot write {path}: {exc.strerror or exc}") from None
