"""Hook implementations of the bundled printer plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ocrfleet.kinds import DeviceKind
from ocrfleet.pluginhost import hookimpl

if TYPE_CHECKING:
    from ocrfleet.alerts.rules import AlertRule


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_printer.kind import PrinterKind

    return [PrinterKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.alerts.device_down import DeviceDownRule
    from ocrfleet_printer.forecast import PrinterSupplyForecastRule
    from ocrfleet_printer.rules import PrinterConditionRule, PrinterSupplyLowRule

    return [
        DeviceDownRule(
            kind="printer",
            name="printer_unreachable",
            category="hardware",
            summary="printer {device} does not answer ({reason})",
        ),
        PrinterConditionRule(),
        PrinterSupplyLowRule(),
        PrinterSupplyForecastRule(),
    ]
