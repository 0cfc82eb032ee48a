"""Hook implementations of the bundled pc plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceKind,
    MessageCatalog,
    MonitoringAsset,
    hookimpl,
    packaged_assets,
    packaged_catalog,
)

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.4"

_ = Catalog("ocrfleet_pc")


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_pc.kind import LaptopKind, PcKind

    return [PcKind(), LaptopKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.plugin import DeviceDownRule
    from ocrfleet_pc.rules import PcNotFrozenRule

    return [
        DeviceDownRule(
            kind="pc",
            name="pc_offline",
            category="hardware",
            summary=_("PC {device} is switched off or offline"),
            title=_("PC switched off or offline"),
        ),
        DeviceDownRule(
            kind="laptop",
            name="laptop_offline",
            category="hardware",
            summary=_("Laptop {device} is switched off or offline"),
            title=_("Laptop switched off or offline"),
        ),
        PcNotFrozenRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    # The files of monitoring/: Prometheus rules, their promtool tests, and
    # the PC health panel of the site dashboard.
    return packaged_assets("ocrfleet_pc")


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # locale/<lang>/LC_MESSAGES/ocrfleet_pc.po: the words of this plugin's findings.
    return [packaged_catalog("ocrfleet_pc")]
