"""Hook implementations of the bundled printer plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ocrfleet.plugin import (
    Catalog,
    DeviceKind,
    KindExtension,
    MessageCatalog,
    MonitoringAsset,
    hookimpl,
    packaged_assets,
    packaged_catalog,
)

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.3"

_ = Catalog("ocrfleet_printer")

if TYPE_CHECKING:
    from ocrfleet.plugin import AlertRule


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_printer.kind import PrinterKind

    return [PrinterKind()]


@hookimpl
def ocrfleet_kind_extensions() -> Sequence[KindExtension]:
    # The bundled vendors take the same path as a third-party vendor plugin.
    from ocrfleet_printer.vendors import bundled_vendors

    return [KindExtension("printer", vendor.name, vendor) for vendor in bundled_vendors()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.plugin import DeviceDownRule
    from ocrfleet_printer.forecast import PrinterSupplyForecastRule
    from ocrfleet_printer.rules import PrinterConditionRule, PrinterSupplyLowRule

    return [
        DeviceDownRule(
            kind="printer",
            name="printer_unreachable",
            category="hardware",
            summary=_("Printer {device} does not answer"),
            title=_("Printer not answering"),
        ),
        PrinterConditionRule(),
        PrinterSupplyLowRule(),
        PrinterSupplyForecastRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    # The files of monitoring/: dashboards, Prometheus rules and their promtool tests.
    return packaged_assets("ocrfleet_printer")


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # locale/<lang>/LC_MESSAGES/ocrfleet_printer.po: the words of this plugin's findings.
    return [packaged_catalog("ocrfleet_printer")]
