"""Hook implementations of the bundled room sensor plugin."""

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
OCRFLEET_PLUGIN_API = "1.3"

_ = Catalog("ocrfleet_rooms")


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    from ocrfleet_rooms.kind import RoomSensorKind

    return [RoomSensorKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    from ocrfleet.plugin import DeviceDownRule
    from ocrfleet_rooms.kind import KIND
    from ocrfleet_rooms.rules import RoomSensorBatteryLowRule

    return [
        # Schedule-aware like every down rule: silence while the site is
        # closed is no alert.
        DeviceDownRule(
            kind=KIND,
            name="room_sensor_down",
            category="hardware",
            summary=_("Room sensor {device} is silent"),
            title=_("Room sensor silent"),
        ),
        RoomSensorBatteryLowRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    # The files of monitoring/: panels for the core's dashboards, Prometheus
    # rules and their promtool tests.
    return packaged_assets("ocrfleet_rooms")


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # locale/<lang>/LC_MESSAGES/ocrfleet_rooms.po: the words of this plugin.
    return [packaged_catalog("ocrfleet_rooms")]
