"""Reading a config file, and checking device kinds and options against the plugins."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from ocrfleet.calendars.live import CalendarBook, LiveCalendar
from ocrfleet.calendars.types import CalendarError
from ocrfleet.config.alerting import AlertingConfig
from ocrfleet.config.closures import closed_days
from ocrfleet.config.errors import ConfigError, format_location, problems_from_validation
from ocrfleet.config.models import Config, SiteConfig, StoreConfig
from ocrfleet.config.references import (
    KnownNames,
    alerting_references,
    fleet_ids,
    internet_references,
    listing,
)
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.config.secrets import READ_SECRETS
from ocrfleet.config.webconfig import WebConfig, read_web_config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind

if TYPE_CHECKING:
    # Only types: the alerting modules import config themselves.
    from ocrfleet.alerts.rules import AlertRule, RuleSettings
    from ocrfleet.notify.channels import ChannelType


def load_config_file(
    path: Path,
    kinds: Mapping[str, DeviceKind],
    rules: Mapping[str, AlertRule] | None = None,
    channel_types: Mapping[str, ChannelType] | None = None,
    *,
    read_secrets: bool = True,
    calendars: CalendarBook | None = None,
) -> LoadedConfig:
    """Read, parse and validate a config file; see load_config."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([("", f"{path}: cannot read: {exc.strerror}")]) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([("", f"{path}: not UTF-8 text: {exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"{path}: invalid TOML: {exc}")]) from exc
    return load_config(
        data, kinds, rules, channel_types, read_secrets=read_secrets, calendars=calendars
    )


class LoadedConfig:
    """A validated config with each device's options parsed by its kind.

    `rule_settings` and `channels` are filled when the loader was given the
    plugins' rules and channel types (the daemon always gives them).
    """

    def __init__(
        self,
        config: Config,
        devices: list[DeviceInfo],
        rule_settings: dict[str, RuleSettings] | None = None,
        channels: dict[str, tuple[ChannelType, BaseModel]] | None = None,
        *,
        secrets_read: bool = True,
        schedules: dict[str, SiteSchedule] | None = None,
        web: WebConfig | None = None,
        calendars: tuple[LiveCalendar, ...] = (),
    ) -> None:
        self.config = config
        # Every calendar the schedules ask (municipality's and sites'), to refresh.
        self.calendars = calendars
        # http.web_config_file, read and checked; None without one.
        self.web = web
        # False: secrets from the environment or files are DeferredSecret.
        self.secrets_read = secrets_read
        self.devices = devices
        # One schedule per site: the devices' (DeviceInfo.schedule) are these
        # very objects, so every consumer sees the same hours and closures.
        self.schedules = (
            schedules
            if schedules is not None
            else {site.id: site_schedule(config, site) for site in config.sites}
        )
        self.rule_settings = rule_settings or {}
        self.channels = channels or {}

    def devices_of(self, site: str) -> list[DeviceInfo]:
        return [d for d in self.devices if d.site == site]


def load_config(
    data: Mapping[str, Any],
    kinds: Mapping[str, DeviceKind],
    rules: Mapping[str, AlertRule] | None = None,
    channel_types: Mapping[str, ChannelType] | None = None,
    *,
    read_secrets: bool = True,
    calendars: CalendarBook | None = None,
) -> LoadedConfig:
    """Validate a config against the schema and the plugins, or raise every problem at once.

    With `read_secrets` false, secrets given as `{ env = … }` or
    `{ file = … }` are checked for their form only and left unread
    (DeferredSecret): for the commands that never use them. Without
    `calendars` the `calendars` tables are left unread, and the schedules
    have the typed closures only: for the commands that never look at them.
    """
    context = {READ_SECRETS: read_secrets}
    problems: list[tuple[str, str]] = []
    config: Config | None = None
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc))
    id_problems, fleet = fleet_ids(data)
    problems.extend(id_problems)
    options = _device_options(data, kinds, context, problems)
    alerting = config.alerting if config is not None else _alerting_alone(data, context)
    if alerting is not None:
        known = KnownNames(
            sites=frozenset(fleet),
            device_keys=frozenset(f"{site}/{d}" for site, ids in fleet.items() for d in ids),
            kinds=frozenset(kinds),
            rules=frozenset(rules) if rules is not None else None,
        )
        problems.extend(alerting_references(alerting, known))
    if config is not None:
        problems.extend(internet_references(config.internet, fleet))
    raw_alerting = _table(data.get("alerting"))
    rule_settings = (
        _rule_settings(_table(raw_alerting.get("rules")), rules, context, problems)
        if rules is not None
        else {}
    )
    channels = (
        _channels(_table(raw_alerting.get("channels")), channel_types, context, problems)
        if channel_types is not None
        else {}
    )
    # Like a secret file: its password hashes and TLS keys are read only by
    # the commands that need them (`run`, `check-config --secrets`).
    web = _web_config(config, problems) if config is not None and read_secrets else None
    live = (
        _calendars(data, calendars, _calendar_dir(config), problems)
        if calendars is not None
        else {}
    )
    if problems or config is None:
        raise ConfigError(sorted(problems, key=_natural))
    everywhere = live.get(None, ())
    schedules = {
        site.id: site_schedule(config, site, (*everywhere, *live.get(site.id, ())))
        for site in config.sites
    }
    devices = [
        DeviceInfo(
            key=DeviceKey(site.id, device.id),
            kind=device.kind,
            model=device.model,
            purchase_date=device.purchase_date,
            reservable=device.reservable,
            options=options[s, d],
            schedule=schedules[site.id],
        )
        for s, site in enumerate(config.sites)
        for d, device in enumerate(site.devices)
    ]
    return LoadedConfig(
        config,
        devices,
        rule_settings,
        channels,
        secrets_read=read_secrets,
        schedules=schedules,
        web=web,
        calendars=tuple(c for found in live.values() for c in found),
    )


def _web_config(config: Config, problems: list[tuple[str, str]]) -> WebConfig | None:
    http = config.http
    if http.web_config_file is None:
        for i, user in enumerate(http.operators):
            problems.append((f"http.operators[{i}]", f"{user!r}: no users without web_config_file"))
        return None
    try:
        web = read_web_config(http.web_config_file)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    for i, user in enumerate(http.operators):
        if user not in web.basic_auth_users:
            problems.append(
                (f"http.operators[{i}]", f"{user!r} is not in web_config_file's basic_auth_users")
            )
    return web


def site_schedule(
    config: Config, site: SiteConfig, calendars: tuple[LiveCalendar, ...] = ()
) -> SiteSchedule:
    return SiteSchedule(
        site.opening_hours,
        site.timezone,
        closed_days((*config.municipality.holidays, *site.closures)),
        calendars,
    )


def _calendar_dir(config: Config | None) -> Path:
    """Where calendars keep their files (a feed's last good copy): beside the store."""
    store = config.store if config is not None else StoreConfig()
    return store.path.parent / "calendars"


def _calendars(
    data: Mapping[str, Any],
    book: CalendarBook,
    state_dir: Path,
    problems: list[tuple[str, str]],
) -> dict[str | None, tuple[LiveCalendar, ...]]:
    """Each `calendars` table opened and read, keyed by site id (None: the municipality's).

    Read from the raw data, like devices' options, so every calendar is checked
    even when another part of the file does not validate.
    """
    municipality = _table(data.get("municipality"))
    sites = [_table(site) for site in _list(data.get("sites"))]
    first_zone = sites[0].get("timezone") if sites else None
    scopes: list[tuple[str | None, tuple[str | int, ...], Any, str]] = [
        (
            None,
            ("municipality",),
            municipality.get("calendars"),
            _zone(municipality.get("timezone") or first_zone),
        )
    ]
    for s, site in enumerate(sites):
        site_id = site.get("id")
        if isinstance(site_id, str):
            where: tuple[str | int, ...] = ("sites", s)
            scopes.append((site_id, where, site.get("calendars"), _zone(site.get("timezone"))))
    found: dict[str | None, tuple[LiveCalendar, ...]] = {}
    for scope, where, tables, zone in scopes:
        opened: list[LiveCalendar] = []
        for i, table in enumerate(_list(tables)):
            location = (*where, "calendars", i)
            live = _calendar(table, book, scope, location, state_dir, zone, problems)
            if live is None:
                continue
            if any(other.label == live.label for other in opened):
                twice = f"{live.label!r} twice; give each a name"
                problems.append((format_location((*location, "name")), twice))
                continue
            opened.append(live)
        found[scope] = tuple(opened)
    return found


def _calendar(
    table: Any,
    book: CalendarBook,
    scope: str | None,
    location: tuple[str | int, ...],
    state_dir: Path,
    zone: str,
    problems: list[tuple[str, str]],
) -> LiveCalendar | None:
    path = format_location(location)
    if not isinstance(table, Mapping):
        return None  # The schema says what is wrong with it.
    type_name = table.get("type")
    if not isinstance(type_name, str):
        problems.append((f"{path}.type", "required: the calendar's type, e.g. 'public_holidays'"))
        return None
    calendar_type = book.types.get(type_name)
    if calendar_type is None:
        known = listing(book.types) if book.types else "none: no calendar plugin is installed"
        problems.append((f"{path}.type", f"unknown calendar type {type_name!r} (known: {known})"))
        return None
    name = table.get("name", type_name)
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name):
        problems.append((f"{path}.name", "lower-case letters, digits, - and _"))
        return None
    options = {key: value for key, value in table.items() if key not in ("type", "name")}
    try:
        validated = calendar_type.options_model.model_validate(options)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, location))
        return None
    label = f"{scope or 'municipality'}/{name}"
    try:
        return book.calendar(label, calendar_type, validated, state_dir, zone)
    except CalendarError as exc:
        problems.append((f"{path}.{exc.key}" if exc.key else path, exc.message))
        return None
    except Exception as exc:  # A plugin's bug is its calendar's problem, not a traceback.
        problems.append((path, f"calendar type {type_name!r} failed to read it: {exc!r}"))
        return None


def _zone(name: Any) -> str:
    """A site's time zone as written, or the default where it is not one (the schema
    reports it)."""
    if isinstance(name, str):
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return name
    return SiteConfig.model_fields["timezone"].default  # type: ignore[no-any-return]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _rule_settings(
    tables: Mapping[str, Any],
    rules: Mapping[str, AlertRule],
    context: dict[str, Any],
    problems: list[tuple[str, str]],
) -> dict[str, RuleSettings]:
    for name in tables:
        if name not in rules:
            problems.append((f"alerting.rules.{name}", f"unknown rule (known: {listing(rules)})"))
    settings: dict[str, RuleSettings] = {}
    for name, rule in rules.items():
        table = tables.get(name, {})
        if not isinstance(table, Mapping):
            continue  # The schema says what is wrong with it.
        try:
            settings[name] = rule.settings_model.model_validate(table, context=context)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, ["alerting", "rules", name]))
    return settings


def _channels(
    tables: Mapping[str, Any],
    types: Mapping[str, ChannelType],
    context: dict[str, Any],
    problems: list[tuple[str, str]],
) -> dict[str, tuple[ChannelType, BaseModel]]:
    channels: dict[str, tuple[ChannelType, BaseModel]] = {}
    for name, table in tables.items():
        type_name = table.get("type") if isinstance(table, Mapping) else None
        if not isinstance(type_name, str):
            continue  # The schema says what is wrong with it.
        channel_type = types.get(type_name)
        if channel_type is None:
            problems.append(
                (
                    f"alerting.channels.{name}.type",
                    f"unknown channel type {type_name!r} (known: {listing(types)})",
                )
            )
            continue
        options = {key: value for key, value in table.items() if key != "type"}
        try:
            validated = channel_type.options_model.model_validate(options, context=context)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, ["alerting", "channels", name]))
            continue
        channels[name] = (channel_type, validated)
    return channels


def _device_options(
    data: Mapping[str, Any],
    kinds: Mapping[str, DeviceKind],
    context: dict[str, Any],
    problems: list[tuple[str, str]],
) -> dict[tuple[int, int], BaseModel | None]:
    """Each device's options, validated by its kind, keyed by (site index, device index).

    Read from the raw data, so the options of every device are checked even
    when another part of the file does not validate.
    """
    found: dict[tuple[int, int], BaseModel | None] = {}
    sites = data.get("sites")
    for s, site in enumerate(sites if isinstance(sites, list) else []):
        devices = site.get("devices") if isinstance(site, Mapping) else None
        for d, device in enumerate(devices if isinstance(devices, list) else []):
            found[s, d] = None
            kind_name = device.get("kind") if isinstance(device, Mapping) else None
            if not isinstance(kind_name, str):
                continue  # The schema says what is wrong with it.
            kind = kinds.get(kind_name)
            if kind is None:
                known = listing(kinds) if kinds else "none: no device plugin is installed"
                problems.append(
                    (
                        f"sites[{s}].devices[{d}].kind",
                        f"unknown kind {kind_name!r} (known: {known})",
                    )
                )
                continue
            if device.get("session_limit") is not None and not kind.is_seat:
                seats = listing(n for n, k in kinds.items() if k.is_seat)
                problems.append(
                    (
                        f"sites[{s}].devices[{d}].session_limit",
                        f"kind {kind_name!r} is not a seat: only seats take a session_limit "
                        f"(seat kinds: {seats})",
                    )
                )
            options = device.get("options", {})
            if not isinstance(options, Mapping):
                continue
            try:
                # The kind is in the context so options can be checked against
                # what plugins registered with it (e.g. a hotspot vendor's name).
                found[s, d] = kind.options_model.model_validate(
                    options, context={**context, "kind": kind}
                )
            except ValidationError as exc:
                problems.extend(
                    problems_from_validation(exc, ["sites", s, "devices", d, "options"])
                )
    return found


def _alerting_alone(data: Mapping[str, Any], context: dict[str, Any]) -> AlertingConfig | None:
    """`[alerting]` by itself, to check its references when another table is broken."""
    try:
        return AlertingConfig.model_validate(data.get("alerting", {}), context=context)
    except ValidationError:
        return None  # Already reported by the whole file's validation.


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _natural(problem: tuple[str, str]) -> list[tuple[int, int | str]]:
    """Sort key: by key path, with `sites[10]` after `sites[9]`; file-level problems first."""
    return [
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"[.\[\]]+", problem[0])
        if part
    ]
