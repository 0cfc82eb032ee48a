"""Hook implementations of the bundled hotspot plugin.

The bundled vendors are registered through `ocrfleet_kind_extensions`, the
same hook a third-party vendor plugin uses, so they get no special path.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import (
    AlertRule,
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
OCRFLEET_PLUGIN_API = "1.4"

_ = Catalog("ocrfleet_hotspot")


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
    from ocrfleet.plugin import DeviceDownRule
    from ocrfleet_hotspot.rules import (
        HotspotNoClientsRule,
        HotspotRestartedRule,
        HotspotUplinkDownRule,
        HotspotUplinkMissingRule,
    )

    return [
        DeviceDownRule(
            kind="hotspot",
            name="hotspot_down",
            category="network",
            summary=_("Wifi hotspot {device} is down"),
            title=_("Wifi hotspot down"),
        ),
        HotspotRestartedRule(),
        HotspotNoClientsRule(),
        HotspotUplinkDownRule(),
        HotspotUplinkMissingRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    # The files of monitoring/: dashboards, Prometheus rules and their promtool tests.
    return packaged_assets("ocrfleet_hotspot")


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # locale/<lang>/LC_MESSAGES/ocrfleet_hotspot.po: the words of this plugin's findings.
    return [packaged_catalog("ocrfleet_hotspot")]
