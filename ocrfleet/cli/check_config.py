"""`ocrfleet check-config -c FILE`: validate without starting anything."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from ocrfleet.calendars.live import CalendarBook
from ocrfleet.cli.closures_text import calendar_lines, next_closure_lines
from ocrfleet.cli.common import load_catalog, load_or_exit, print_problems
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.config.secrets import unread_secrets
from ocrfleet.i18n.catalogs import LANGUAGES
from ocrfleet.notify.templates import ChannelTemplates, TemplateProblem, check_templates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.report.html_template import check_report_templates
from ocrfleet.services import service_options

NAME = "check-config"
HELP = "validate a configuration file and print a summary"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="the TOML configuration file")
    # The file as a bare argument, the command's first form, so scripts that
    # still call `check-config FILE` keep working.
    parser.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="the same as -c CONFIG (older form)"
    )
    parser.add_argument(
        "--secrets",
        action="store_true",
        help="also read the secrets given as { env = ... } or { file = ... }, as "
        "`ocrfleet run` does (default: check their form only, so the file can be "
        "checked on a machine that does not hold them)",
    )


def config_file(args: argparse.Namespace) -> Path | str:
    """The file to check, or why there is none to check."""
    given: Path | None = args.config
    positional: Path | None = args.file
    if given is None:
        return positional or "no configuration file given; give one with -c FILE"
    if positional is not None and given.resolve() != positional.resolve():
        return (
            f"two configuration files given, {given} (-c) and {positional}; give one, with -c FILE"
        )
    return given


def run(args: argparse.Namespace) -> int:
    path = config_file(args)
    if isinstance(path, str):
        print(f"ocrfleet {NAME}: error: {path}", file=sys.stderr)
        return 2
    catalog = load_catalog()
    # Its calendars are read too: the summary lists the next closures.
    calendars = CalendarBook(catalog.calendar_types)
    loaded = load_or_exit(path, catalog, read_secrets=args.secrets, calendars=calendars)
    config = loaded.config
    try:
        service_options(config.integrations, catalog.service_types)
    except ConfigError as exc:
        print_problems(path, exc)
        return 1
    print(f"{path}: valid")
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
    web = loaded.web
    scheme = "https" if web is not None and web.tls_server_config is not None else "http"
    print(f"metrics: {scheme}://{config.http.listen}:{config.http.port}/metrics")
    print(f"web: {_web_summary(loaded, read=args.secrets)}")
    print(f"store: {config.store.path}")
    print("\n".join(calendar_lines(loaded)))
    print("\n".join(next_closure_lines(loaded, catalog.catalogs(), time.time())))
    unread = unread_secrets(config, [d.options for d in loaded.devices], loaded.channels)
    if unread:
        sources = sorted({secret.source for secret in unread})
        print(
            f"secrets not read (--secrets reads them, as `ocrfleet run` does): {', '.join(sources)}"
        )
    problems = template_problems(loaded, catalog)
    if problems:
        print(f"{path}: templates not valid (the shipped ones would be used):", file=sys.stderr)
        for problem in problems:
            print(str(problem), file=sys.stderr)
        return 1
    return 0


def _web_summary(loaded: LoadedConfig, read: bool) -> str:
    http = loaded.config.http
    kiosk = "kiosk public" if http.public_kiosk else "kiosk needs a login"
    if http.web_config_file is None:
        return f"no users: anyone who reaches it reads, nobody writes; {kiosk}"
    web = loaded.web
    if web is None:
        return f"{http.web_config_file} not read (--secrets reads it, as `ocrfleet run` does)"
    users = len(web.basic_auth_users)
    operators = ", ".join(http.operators) or "none"
    tls = "TLS" if web.tls_server_config is not None else "no TLS"
    return f"{users} users (operators: {operators}), {tls}; {kiosk}"


def template_problems(loaded: LoadedConfig, catalog: PluginCatalog) -> list[TemplateProblem]:
    """Every notification and report template that would be used, compiled and tried in
    each language."""
    templates = ChannelTemplates.from_loaded(loaded)
    catalogs = catalog.catalogs()
    readers = loaded.config.readers(catalogs)
    speakers = [readers.speaker(language=language) for language in LANGUAGES]
    return [
        *check_templates(templates.types, templates.directory, speakers, readers.where),
        *check_report_templates(templates.directory, catalogs),
    ]
