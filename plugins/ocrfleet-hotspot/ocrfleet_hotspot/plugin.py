"""Hook implementations of the bundled hotspot plugin.

The bundled vendors are registered through `ocrfleet_kind_extensions`, the
same hook a third-party vendor plugin uses, so they get no special path.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.alerts.rules import AlertRule
from ocrfleet.kinds import DeviceKind, KindExtension
from ocrfleet.pluginhost import hookimpl


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_hotspot.kind import HotspotKind

    return [HotspotKind()]


@hookimpl
def ocrfleet_kind_extensions() -> Sequence[KindExtension]:
    from ocrfleet_hotspot.vendors import bundled_vendors

    return [KindExtension("hotspot", vendor.name, vendor) for vendor in bundled_vendors()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.alerts.device_down import DeviceDownRule
    from ocrfleet_hotspot.rules import HotspotNoClientsRule, HotspotRestartedRule

    return [
        DeviceDownRule(
            kind="hotspot",
            name="hotspot_down",
            category="network",
            summary="hotspot {device} is down ({reason})",
        ),
        HotspotRestartedRule(),
        HotspotNoClientsRule(),
    ]
