"""A device kind whose status card has bars: "tank", one level 0-1 over MQTT.

The Home Assistant tests and bench/homeassistant_look.py give it to the
daemon as an extra plugin (TANK_PLUGIN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import ClassVar

from ocrfleet.plugin import (
    DeviceKind,
    DeviceView,
    Gauge,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    PayloadError,
    Sample,
    StatusCard,
    hookimpl,
)


class TankKind(DeviceKind):
    """A device reporting one level over MQTT (`level`: a number 0-1)."""

    name: ClassVar[str] = "tank"
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (MqttChannel("level"),)
    metric_specs: ClassVar[Sequence[MetricSpec]] = ()

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        try:
            return float(payload)
        except ValueError:
            raise PayloadError("unparsable", "not a number") from None

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()

    def status_card(self, device: DeviceView) -> StatusCard:
        level = device.reading
        if not isinstance(level, float):
            return StatusCard()
        condition = "Almost empty" if level < 0.1 else ""
        return StatusCard(
            condition,
            "warning" if condition else "ok",
            # One bar with a key, one without: its key comes from its label.
            (Gauge("Black toner", level, key="toner_black"), Gauge("Waste box", 1 - level)),
            ("Ready",),
        )


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    return [TankKind()]


TANK_PLUGIN = SimpleNamespace(
    ocrfleet_device_kinds=ocrfleet_device_kinds, OCRFLEET_PLUGIN_API="1.3"
)
