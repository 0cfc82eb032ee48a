"""The room_sensor device kind: presence and motion sensors, people counters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from ocrfleet.plugin import (
    Catalog,
    DemoDevice,
    DeviceInfo,
    DeviceKind,
    DeviceView,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    MqttTopic,
    Sample,
    SimulationContext,
    Simulator,
    StatusCard,
    Text,
)
from ocrfleet_rooms.options import DEFAULT_HEARTBEAT_TIMEOUT, RoomSensorOptions
from ocrfleet_rooms.parse import parse_plain, parse_zigbee2mqtt
from ocrfleet_rooms.reading import RoomReading

_ = Catalog("ocrfleet_rooms")

KIND = "room_sensor"
# zigbee2mqtt's device state: on <base_topic>/<friendly_name>, or on
# <root>/<site>/<device>/zigbee2mqtt for a bridge that forwards it there.
ZIGBEE2MQTT = "zigbee2mqtt"
# Plain JSON: on the sensor's `topic`, else <root>/<site>/<device>/room.
ROOM = "room"
AVAILABILITY = "availability"

OCCUPIED = "ocrfleet_room_sensor_occupied"
PEOPLE = "ocrfleet_room_sensor_people"
ENTRIES = "ocrfleet_room_sensor_entries_total"
EXITS = "ocrfleet_room_sensor_exits_total"
BATTERY = "ocrfleet_room_sensor_battery_ratio"
LINKQUALITY = "ocrfleet_room_sensor_linkquality"

# The demo's rooms, in the main library: a presence sensor in the reading
# room, a motion sensor (its battery nearly spent) in the lesson room and a
# zigbee people counter at the computer room's door, all through
# zigbee2mqtt; and a door counter at the entrance that publishes plain JSON.
_DEMO_SENSORS = (
    DemoDevice(
        "vlaminggem-library",
        "reading-room",
        "Aqara FP1 (RTCZCGQ11LM)",
        options={"zigbee2mqtt": "Bib leeszaal aanwezigheid"},
    ),
    DemoDevice(
        "vlaminggem-library",
        "lesson-room",
        "Aqara RTCGQ11LM",
        options={"zigbee2mqtt": "Bib lesruimte beweging"},
    ),
    DemoDevice(
        "vlaminggem-library",
        "computer-room",
        "SiHAS CSM-300ZB",
        options={"zigbee2mqtt": "Bib OCR teller"},
    ),
    DemoDevice(
        "vlaminggem-library",
        "entrance",
        "Door people counter",
        options={"topic": "counters/vlaminggem-library/entrance"},
    ),
)


class RoomSensorKind(DeviceKind):
    name: ClassVar[str] = KIND
    title: ClassVar[Text] = _("Room sensor")
    description: ClassVar[str] = (
        "room presence or motion sensor, or people counter, over MQTT "
        "(zigbee2mqtt's own topics, or plain JSON)"
    )
    options_model: ClassVar[type[BaseModel]] = RoomSensorOptions
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (
        MqttChannel(ZIGBEE2MQTT, qos=0),
        MqttChannel(ROOM, qos=0),
    )
    # A sensor gets a new battery when it says so, not on a monthly round.
    monthly_maintenance: ClassVar[bool] = False
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec(OCCUPIED, "1 while the sensor sees someone in the room, else 0."),
        MetricSpec(PEOPLE, "People in the room (presence sensors and counters that count)."),
        MetricSpec(ENTRIES, "People who came in, as counted by the sensor.", type="counter"),
        MetricSpec(EXITS, "People who went out, as counted by the sensor.", type="counter"),
        MetricSpec(BATTERY, "Sensor battery, 0-1; absent for mains-powered sensors."),
        MetricSpec(LINKQUALITY, "Zigbee link quality (LQI, 0-255) zigbee2mqtt reports."),
    )

    def heartbeat_timeout(self, options: Any) -> float | None:
        if isinstance(options, RoomSensorOptions):
            return options.heartbeat_timeout
        return DEFAULT_HEARTBEAT_TIMEOUT

    def mqtt_topics(self, options: Any) -> Sequence[MqttTopic]:
        if not isinstance(options, RoomSensorOptions):
            return ()
        if options.zigbee2mqtt is not None:
            state = f"{options.base_topic}/{options.zigbee2mqtt}"
            watch = f"{options.base_topic}/+" if options.watch_unknown else ""
            return (
                MqttTopic(ZIGBEE2MQTT, state, watch),
                MqttTopic(AVAILABILITY, f"{state}/availability"),
            )
        if options.topic is not None:
            return (MqttTopic(ROOM, options.topic),)
        return ()

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        if channel == ZIGBEE2MQTT:
            return parse_zigbee2mqtt(payload)
        if channel == ROOM:
            return parse_plain(payload)
        return super().parse_mqtt(channel, payload)

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        reading = device.reading
        if not isinstance(reading, RoomReading):
            return
        # Counters stay: a total does not go stale. The rest is only
        # current while the sensor is up.
        if reading.entries is not None:
            yield Sample(ENTRIES, float(reading.entries))
        if reading.exits is not None:
            yield Sample(EXITS, float(reading.exits))
        if not device.presence.up:
            return
        if reading.occupied is not None:
            yield Sample(OCCUPIED, 1.0 if reading.occupied else 0.0)
        if reading.people is not None:
            yield Sample(PEOPLE, float(reading.people))
        if reading.battery_percent is not None:
            yield Sample(BATTERY, reading.battery_percent / 100)
        if reading.linkquality is not None:
            yield Sample(LINKQUALITY, float(reading.linkquality))

    def describe(self, reading: object) -> str:
        if not isinstance(reading, RoomReading):
            return repr(reading)
        parts = []
        if reading.occupied is not None:
            parts.append("occupied" if reading.occupied else "free")
        if reading.people is not None:
            parts.append(f"{reading.people} present")
        if reading.entries is not None or reading.exits is not None:
            parts.append(f"{reading.entries} in, {reading.exits} out")
        if reading.battery_percent is not None:
            parts.append(f"battery {reading.battery_percent:.0f}%")
        return ", ".join(parts) or "nothing reported"

    def status_card(self, device: DeviceView) -> StatusCard:
        from ocrfleet_rooms.card import room_card

        return room_card(device)

    def demo_devices(self) -> Sequence[DemoDevice]:
        return _DEMO_SENSORS

    def demo_rule_settings(self) -> dict[str, dict[str, Any]]:
        # A demo sensor's battery runs down within the demo's first hours.
        return {"room_sensor_battery_low": {"for": 60}}

    def simulator(self, device: DeviceInfo, context: SimulationContext) -> Simulator | None:
        from ocrfleet_rooms.simulate import SimulatedSensor

        if not isinstance(device.options, RoomSensorOptions):
            return None
        return SimulatedSensor(device, device.options, context).run
