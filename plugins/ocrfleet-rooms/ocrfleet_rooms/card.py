"""A room sensor on the status pages: is the room in use, and does the battery last.

Occupancy is shown only while the sensor is up: what a silent sensor last
saw may be hours old. The battery bar stays: a level does not climb back.
"""

from __future__ import annotations

from ocrfleet.plugin import Catalog, DeviceView, Gauge, Percent, StatusCard, Tone, Words
from ocrfleet_rooms.reading import RoomReading

_ = Catalog("ocrfleet_rooms")
_n = _.plural

# The card's own limits; the alert's threshold is room_sensor_battery_low's setting.
BATTERY_LOW = 0.2
BATTERY_EMPTY = 0.05


def room_card(device: DeviceView) -> StatusCard:
    reading = device.reading
    if not isinstance(reading, RoomReading):
        return StatusCard()
    gauges: tuple[Gauge, ...] = ()
    condition: Words = ""
    tone: Tone = "ok"
    if reading.battery_percent is not None:
        ratio = reading.battery_percent / 100
        if ratio <= BATTERY_EMPTY:
            condition, tone = _("Battery almost empty — replace it now"), "critical"
        elif ratio <= BATTERY_LOW:
            condition, tone = _("Battery low — have a new one ready"), "warning"
        note = _("{level} left", level=Percent(ratio))
        gauges = (Gauge(_("Battery"), ratio, tone, note),)
    facts: list[Words] = []
    if device.presence.up and device.failure is None:
        if reading.occupied is not None:
            facts.append(_("Occupied") if reading.occupied else _("Free"))
        if reading.people is not None:
            facts.append(
                _n(
                    "{people} person present",
                    "{people} people present",
                    "people",
                    people=reading.people,
                )
            )
    return StatusCard(condition, tone, gauges, tuple(facts))
