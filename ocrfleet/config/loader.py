"""Reading a config file, and checking device kinds and options against the plugins."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ocrfleet.config.errors import ConfigError, problems_from_validation
from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind
from ocrfleet.schedule import SiteSchedule


def load_config_file(path: Path, kinds: Mapping[str, DeviceKind]) -> LoadedConfig:
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
    return load_config(data, kinds)


class LoadedConfig:
    """A validated config with each device's options parsed by its kind."""

    def __init__(self, config: Config, devices: list[DeviceInfo]) -> None:
        self.config = config
        self.devices = devices

    def devices_of(self, site: str) -> list[DeviceInfo]:
        return [d for d in self.devices if d.site == site]


def load_config(data: Mapping[str, Any], kinds: Mapping[str, DeviceKind]) -> LoadedConfig:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc)) from exc

    problems: list[tuple[str, str]] = []
    devices: list[DeviceInfo] = []
    known = ", ".join(sorted(kinds)) or "none: no device plugin is installed"
    for s, site in enumerate(config.sites):
        schedule = SiteSchedule(site.opening_hours, site.timezone)
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
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(config, devices)


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
