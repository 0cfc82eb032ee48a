"""Hook implementations of the bundled pc plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import AlertRule, DeviceKind, MonitoringAsset, hookimpl, packaged_assets

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.0"


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
            summary="PC {device} is offline ({reason})",
        ),
        DeviceDownRule(
            kind="laptop",
            name="laptop_offline",
            category="hardware",
            summary="laptop {device} is offline ({reason})",
        ),
        PcNotFrozenRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    # The files of monitoring/: Prometheus rules, their promtool tests, and
    # the PC health panel of the site dashboard.
    return packaged_assets("ocrfleet_pc")
