"""Hook implementations of the bundled pc plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.alerts.rules import AlertRule
from ocrfleet.kinds import DeviceKind
from ocrfleet.pluginhost import hookimpl


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_pc.kind import LaptopKind, PcKind

    return [PcKind(), LaptopKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.alerts.device_down import DeviceDownRule
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
