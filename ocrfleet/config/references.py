"""Checks across tables: ids that must be unique, and names that must exist.

They run apart from the schema so that each problem is reported at its own
key (`sites[3].id`, `alerting.routes[0].channels`), and so that a mistake in
one table does not hide those of the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocrfleet.config.alerting import LOG_CHANNEL, AlertingConfig, LabelValues
from ocrfleet.config.errors import format_location
from ocrfleet.config.internet import InternetConfig

Problem = tuple[str, str]

# More known values than this are cut short in a message: a municipality may
# have hundreds of devices.
_LISTED = 20

RULE_TYPES = ("alert", "reminder")
SEVERITIES = ("critical", "info", "warning")


@dataclass(frozen=True)
class KnownNames:
    """What alert labels can be: the configured fleet and the loaded plugins' names."""

    sites: frozenset[str]
    # "site/device", as maintenance windows name a device.
    device_keys: frozenset[str]
    kinds: frozenset[str]
    # None when the plugins' rules were not given to the loader.
    rules: frozenset[str] | None

    @property
    def device_ids(self) -> frozenset[str]:
        return frozenset(key.partition("/")[2] for key in self.device_keys)

    def label_values(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Per label whose values are all known: what to call them, and the values."""
        known = {
            "site": ("site", self.sites),
            "device": ("device", self.device_ids),
            "kind": ("kind", self.kinds),
            "type": ("type", frozenset(RULE_TYPES)),
            "severity": ("severity", frozenset(SEVERITIES)),
        }
        if self.rules is not None:
            known["alertname"] = ("rule", self.rules)
        return known


def fleet_ids(data: Mapping[str, Any]) -> tuple[list[Problem], dict[str, list[str]]]:
    """Duplicate site and device ids, and the device ids of each site, from the raw file.

    Read from the TOML data itself, so duplicates are found even when
    another part of the file does not validate.
    """
    problems: list[Problem] = []
    fleet: dict[str, list[str]] = {}
    first_site: dict[str, int] = {}
    for s, site in _entries(data.get("sites")):
        site_id = site.get("id")
        if isinstance(site_id, str):
            if site_id in first_site:
                problems.append(
                    (
                        f"sites[{s}].id",
                        f"duplicate site id {site_id!r} (first at sites[{first_site[site_id]}])",
                    )
                )
            else:
                first_site[site_id] = s
        first_device: dict[str, int] = {}
        for d, device in _entries(site.get("devices")):
            device_id = device.get("id")
            if not isinstance(device_id, str):
                continue
            if device_id in first_device:
                problems.append(
                    (
                        f"sites[{s}].devices[{d}].id",
                        f"duplicate device id {device_id!r} in this site "
                        f"(first at sites[{s}].devices[{first_device[device_id]}])",
                    )
                )
            else:
                first_device[device_id] = d
        if isinstance(site_id, str):
            fleet.setdefault(site_id, []).extend(first_device)
    return problems, fleet


def internet_references(internet: InternetConfig, sites: Iterable[str]) -> list[Problem]:
    """`[internet.probe]` sites must be configured sites, its checks fresh until the next."""
    probe = internet.probe
    if probe is None:
        return []
    problems: list[Problem] = []
    for index, site in enumerate(probe.sites):
        problems += _unknown(
            format_location(["internet", "probe", "sites", index]), "site", [site], sites
        )
    # A check older than stale_after says nothing, and a check's time is taken
    # when it ends: two of them may be interval + timeout apart. Any longer and
    # the daemon's own check would lapse between runs and its sites turn unknown.
    if probe.timeout >= probe.interval:
        problems.append(
            (
                "internet.probe.timeout",
                f"{probe.timeout:g} s must be shorter than internet.probe.interval "
                f"({probe.interval:g} s), or a check is still running when the next is due",
            )
        )
    if probe.interval >= internet.stale_after:
        problems.append(
            (
                "internet.probe.interval",
                f"{probe.interval:g} s must be shorter than internet.stale_after "
                f"({internet.stale_after:g} s), or the daemon's check goes stale between runs",
            )
        )
    elif probe.interval + probe.timeout >= internet.stale_after:
        problems.append(
            (
                "internet.probe.interval",
                f"{probe.interval:g} s plus internet.probe.timeout ({probe.timeout:g} s) must "
                f"be shorter than internet.stale_after ({internet.stale_after:g} s): two checks "
                "may be that far apart, and the daemon's check goes stale between runs",
            )
        )
    return problems


def alerting_references(alerting: AlertingConfig, known: KnownNames) -> list[Problem]:
    """Channels, sites, devices, kinds and rules that `[alerting]` names but nothing defines."""
    problems = _channel_references(alerting)
    labels = known.label_values()
    for w, window in enumerate(alerting.maintenance_windows):
        where = f"alerting.maintenance_windows[{w}]"
        problems += _unknown(f"{where}.sites", "site", window.sites, known.sites)
        problems += _unknown(
            f"{where}.devices", "device", window.devices, known.device_keys, "use 'site/device'"
        )
        problems += _match_values(f"{where}.match", window.match, labels)
    for r, route in enumerate(alerting.routes):
        where = f"alerting.routes[{r}]"
        problems += _match_values(f"{where}.match", route.match, labels)
        problems += _match_patterns(f"{where}.match_re", route.match_re, labels)
    return problems


def listing(values: Iterable[str]) -> str:
    """Known values for a message, sorted, cut short when there are many."""
    ordered = sorted(values)
    if not ordered:
        return "none"
    if len(ordered) <= _LISTED:
        return ", ".join(ordered)
    return ", ".join(ordered[:_LISTED]) + f", … ({len(ordered) - _LISTED} more)"


def _channel_references(alerting: AlertingConfig) -> list[Problem]:
    problems: list[Problem] = []
    if LOG_CHANNEL in alerting.channels:
        problems.append(
            (
                f"alerting.channels.{LOG_CHANNEL}",
                f"the channel name {LOG_CHANNEL!r} is built in; pick another name",
            )
        )
    configured = set(alerting.channels) | {LOG_CHANNEL}
    used = [("alerting.default_channels", alerting.default_channels)]
    used += [
        (f"alerting.routes[{r}].channels", route.channels)
        for r, route in enumerate(alerting.routes)
    ]
    for where, names in used:
        problems += _unknown(where, "channel", names, configured, label="configured")
    return problems


def _unknown(
    where: str,
    what: str,
    names: Sequence[str],
    known: Iterable[str],
    hint: str = "",
    label: str = "known",
) -> list[Problem]:
    known = frozenset(known)
    problems = []
    for name in names:
        if name not in known:
            extra = f"; {hint}" if hint else ""
            problems.append((where, f"unknown {what} {name!r} ({label}: {listing(known)}{extra})"))
    return problems


def _match_values(
    where: str, match: Mapping[str, LabelValues], labels: Mapping[str, tuple[str, frozenset[str]]]
) -> list[Problem]:
    problems: list[Problem] = []
    for name, values in match.items():
        if name not in labels:
            continue
        what, known = labels[name]
        wanted = [values] if isinstance(values, str) else values
        # "" stands for an alert without the label (e.g. a site-wide alert has no device).
        problems += _unknown(f"{where}.{name}", what, [v for v in wanted if v], known)
    return problems


def _match_patterns(
    where: str, patterns: Mapping[str, str], labels: Mapping[str, tuple[str, frozenset[str]]]
) -> list[Problem]:
    problems: list[Problem] = []
    for name, pattern in patterns.items():
        if name not in labels:
            continue
        what, known = labels[name]
        compiled = re.compile(pattern)
        if not any(compiled.fullmatch(value) for value in (*known, "")):
            problems.append(
                (f"{where}.{name}", f"{pattern!r} matches no {what} (known: {listing(known)})")
            )
    return problems


def _entries(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The tables of an array of tables, with their index; anything else the schema reports."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]
