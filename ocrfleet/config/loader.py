"""Reading a config file, and checking device kinds and options against the plugins."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ocrfleet.config.closures import closed_days
from ocrfleet.config.errors import ConfigError, problems_from_validation
from ocrfleet.config.models import Config, SiteConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind
from ocrfleet.schedule import SiteSchedule

if TYPE_CHECKING:
    # Only types: the alerting modules import config themselves.
    from ocrfleet.alerts.rules import AlertRule, RuleSettings
    from ocrfleet.notify.channels import ChannelType


def load_config_file(
    path: Path,
    kinds: Mapping[str, DeviceKind],
    rules: Mapping[str, AlertRule] | None = None,
    channel_types: Mapping[str, ChannelType] | None = None,
) -> LoadedConfig:
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
    return load_config(data, kinds, rules, channel_types)


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
    ) -> None:
        self.config = config
        self.devices = devices
        self.schedules = {site.id: site_schedule(config, site) for site in config.sites}
        self.rule_settings = rule_settings or {}
        self.channels = channels or {}

    def devices_of(self, site: str) -> list[DeviceInfo]:
        return [d for d in self.devices if d.site == site]


def load_config(
    data: Mapping[str, Any],
    kinds: Mapping[str, DeviceKind],
    rules: Mapping[str, AlertRule] | None = None,
    channel_types: Mapping[str, ChannelType] | None = None,
) -> LoadedConfig:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc)) from exc

    problems: list[tuple[str, str]] = []
    devices: list[DeviceInfo] = []
    known = ", ".join(sorted(kinds)) or "none: no device plugin is installed"
    for s, site in enumerate(config.sites):
        schedule = site_schedule(config, site)
        for d, device in enumerate(site.devices):
            where: list[str | int] = ["sites", s, "devices", d]
            kind = kinds.get(device.kind)
            if kind is None:
                problems.append(
                    (
                        f"sites[{s}].devices[{d}].kind",
                        f"unknown kind {device.kind!r} (known: {known})",
                    )
                )
                continue
            options = _validate_options(kind, device.options, [*where, "options"], problems)
            devices.append(
                DeviceInfo(
                    key=DeviceKey(site.id, device.id),
                    kind=device.kind,
                    model=device.model,
                    purchase_date=device.purchase_date,
                    reservable=device.reservable,
                    options=options,
                    schedule=schedule,
                )
            )
    sites = {site.id for site in config.sites}
    known_devices = {str(device.key) for device in devices}
    for w, window in enumerate(config.alerting.maintenance_windows):
        window_at = f"alerting.maintenance_windows[{w}]"
        for name in window.sites:
            if name not in sites:
                problems.append((f"{window_at}.sites", f"unknown site {name!r}"))
        for name in window.devices:
            if name not in known_devices:
                problems.append(
                    (f"{window_at}.devices", f"unknown device {name!r} (use 'site/device')")
                )
    rule_settings = _rule_settings(config, rules, problems) if rules is not None else {}
    channels = _channels(config, channel_types, problems) if channel_types is not None else {}
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(config, devices, rule_settings, channels)


def site_schedule(config: Config, site: SiteConfig) -> SiteSchedule:
    return SiteSchedule(
        site.opening_hours,
        site.timezone,
        closed_days((*config.municipality.holidays, *site.closures)),
    )


def _rule_settings(
    config: Config, rules: Mapping[str, AlertRule], problems: list[tuple[str, str]]
) -> dict[str, RuleSettings]:
    for name in config.alerting.rules:
        if name not in rules:
            known = ", ".join(sorted(rules)) or "none"
            problems.append((f"alerting.rules.{name}", f"unknown rule (known: {known})"))
    settings: dict[str, RuleSettings] = {}
    for name, rule in rules.items():
        try:
            settings[name] = rule.settings_model.model_validate(config.alerting.rules.get(name, {}))
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, ["alerting", "rules", name]))
    return settings


def _channels(
    config: Config, types: Mapping[str, ChannelType], problems: list[tuple[str, str]]
) -> dict[str, tuple[ChannelType, BaseModel]]:
    channels: dict[str, tuple[ChannelType, BaseModel]] = {}
    for name, channel in config.alerting.channels.items():
        channel_type = types.get(channel.type)
        if channel_type is None:
            known = ", ".join(sorted(types)) or "none installed"
            problems.append(
                (
                    f"alerting.channels.{name}.type",
                    f"unknown channel type {channel.type!r} (known: {known})",
                )
            )
            continue
        try:
            options = channel_type.options_model.model_validate(channel.options())
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, ["alerting", "channels", name]))
            continue
        channels[name] = (channel_type, options)
    return channels


def _validate_options(
    kind: DeviceKind,
    options: dict[str, Any],
    where: list[str | int],
    problems: list[tuple[str, str]],
) -> BaseModel | None:
    try:
        # The kind is passed as context so options can be checked against what
        # plugins registered with it (e.g. a hotspot vendor's name).
        return kind.options_model.model_validate(options, context={"kind": kind})
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, where))
        return None
