"""Hook implementations of the bundled printer plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.kinds import DeviceKind
from ocrfleet.pluginhost import hookimpl


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_printer.kind import PrinterKind

    return [PrinterKind()]
