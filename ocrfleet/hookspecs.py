"""The hooks a plugin may implement.

Hooks are synchronous and cheap: they return objects whose methods do the
work, so loading plugins never performs I/O.
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ocrfleet.alerts.rules import AlertRule
    from ocrfleet.calendars.types import CalendarType
    from ocrfleet.i18n.catalogs import MessageCatalog
    from ocrfleet.kinds import DeviceKind, KindExtension
    from ocrfleet.monitoring.assets import MonitoringAsset
    from ocrfleet.notify.channels import ChannelType
    from ocrfleet.services import ServiceType
    from ocrfleet.sources import SourceType

hookspec = pluggy.HookspecMarker("ocrfleet")
hookimpl = pluggy.HookimplMarker("ocrfleet")


class CliCommand(ABC):
    """A subcommand of `ocrfleet` contributed by a plugin."""

    name: str
    help: str

    @abstractmethod
    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments."""

    @abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Run the command; returns the exit status."""


@hookspec
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:  # type: ignore[empty-body]
    """Device kinds this plugin provides (e.g. pc, printer)."""


@hookspec
def ocrfleet_source_types() -> Sequence[SourceType]:  # type: ignore[empty-body]
    """Sources polled kinds read their devices through (e.g. snmp, http; ocrfleet.sources)."""


@hookspec
def ocrfleet_cli_commands() -> Sequence[CliCommand]:  # type: ignore[empty-body]
    """Extra `ocrfleet` subcommands this plugin provides."""


@hookspec
def ocrfleet_kind_extensions() -> Sequence[KindExtension]:  # type: ignore[empty-body]
    """Extensions to device kinds of other plugins (e.g. a hotspot vendor's client count)."""


@hookspec
def ocrfleet_alert_rules() -> Sequence[AlertRule]:  # type: ignore[empty-body]
    """Alert and reminder rules this plugin provides (ocrfleet.alerts.rules)."""


@hookspec
def ocrfleet_channel_types() -> Sequence[ChannelType]:  # type: ignore[empty-body]
    """Notification channel types this plugin provides (ocrfleet.notify.channels)."""


@hookspec
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:  # type: ignore[empty-body]
    """Grafana dashboards, Prometheus rule files and promtool tests this plugin ships.

    Called by `ocrfleet export-monitoring` (and grafana/generate.py), never by
    the daemon. Usually `packaged_assets("<your_package>")`
    (ocrfleet.monitoring), which reads the files of the package's
    monitoring/ folder.
    """


@hookspec
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:  # type: ignore[empty-body]
    """The gettext catalogs of this plugin's words, one domain each.

    Usually `[packaged_catalog("<your_package>")]` (ocrfleet.plugin), which
    reads `<your_package>/locale/<lang>/LC_MESSAGES/<your_package>.po`; the
    domain is the one given to the plugin's `Catalog("<your_package>")`.
    """


@hookspec
def ocrfleet_services() -> Sequence[ServiceType]:  # type: ignore[empty-body]
    """Integrations that run beside the daemon (ocrfleet.services), e.g. Home Assistant.

    Each runs only when `[integrations.<name>]` in the configuration has
    `enabled = true`. (API 1.3)
    """


@hookspec
def ocrfleet_calendar_types() -> Sequence[CalendarType]:  # type: ignore[empty-body]
    """Calendar types this plugin provides: where closing days come from as data
    (public holidays, iCal feeds; ocrfleet.calendars.types)."""
