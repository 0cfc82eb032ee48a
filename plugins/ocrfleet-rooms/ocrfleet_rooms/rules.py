"""Room sensor alert rules beyond the core's down rule: a battery running low.

A sensor silent while its site is open is room_sensor_down, the core's
DeviceDownRule for this kind (plugin.py): silence, availability "offline"
and the heartbeat timeout all make the sensor down, and the site's opening
hours decide whether that counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceState,
    Duration,
    Finding,
    MaintenanceEvidence,
    Percent,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet_rooms.kind import KIND
from ocrfleet_rooms.reading import RoomReading

_ = Catalog("ocrfleet_rooms")


class BatteryLowSettings(RuleSettings):
    # A battery level wobbles with the temperature: wait an hour below the limit.
    for_: Duration = Field(default=3600.0, alias="for")
    # At or below this share of a full battery (0-1); most sensors still run
    # for weeks at 20 %.
    threshold: float = Field(default=0.2, gt=0, lt=1)


class RoomSensorBatteryLowRule(AlertRule):
    name = "room_sensor_battery_low"
    title = _("Room sensor battery low")
    description = "a room sensor's battery is at or below the threshold"
    default_severity = Severity.WARNING
    settings_model = BatteryLowSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        assert isinstance(settings, BatteryLowSettings)
        for view in context.views(KIND):
            reading = view.reading
            status = context.statuses.get(view.info.key)
            if not isinstance(reading, RoomReading) or reading.battery_percent is None:
                continue
            # A sensor that is not up is the down rule's business.
            if status is None or status.state is not DeviceState.UP:
                continue
            ratio = reading.battery_percent / 100
            if ratio > settings.threshold:
                continue
            info = view.info
            yield Finding(
                rule=self.name,
                subject=str(info.key),
                labels={
                    "site": info.site,
                    "device": info.id,
                    "kind": info.kind,
                    "category": "hardware",
                },
                summary=_(
                    "Room sensor {device}: battery at {level} — replace it",
                    device=info.id,
                    level=Percent(ratio),
                ),
                description=_(
                    "Replace the battery before the sensor goes silent; "
                    "until then the room's occupancy is not known."
                ),
                detail=f"battery {reading.battery_percent:g}%, low at {settings.threshold:.0%}",
            )
