"""A device kind that reports one internet check over MQTT: "netcheck", for the internet tests.

Its payload on `<root>/<site>/<device>/check` is the check itself:
{"ok": true, "checked_at": 1800000000.0, "latency": 0.2, "error": ""}; the
tests give it to the daemon as an extra plugin (NETCHECK_PLUGIN), so the
core's side is tested apart from the PC agent's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import ClassVar

from ocrfleet.plugin import (
    CheckSource,
    DeviceKind,
    DeviceView,
    InternetCheck,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    PayloadError,
    Sample,
    StatusCard,
    hookimpl,
)


class NetcheckKind(DeviceKind):
    name: ClassVar[str] = "netcheck"
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (MqttChannel("check"),)
    metric_specs: ClassVar[Sequence[MetricSpec]] = ()
    is_seat: ClassVar[bool] = True

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        try:
            data = json.loads(payload)
            return InternetCheck(
                ok=bool(data["ok"]),
                checked_at=float(data["checked_at"]),
                latency=None if data.get("latency") is None else float(data["latency"]),
                error=str(data.get("error") or ""),
                source=CheckSource(data.get("source", "probe")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError("unparsable", str(exc)) from None

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()

    def status_card(self, device: DeviceView) -> StatusCard:
        return StatusCard()

    def internet_check(self, device: DeviceView) -> InternetCheck | None:
        reading = device.reading
        return reading if isinstance(reading, InternetCheck) else None


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    return [NetcheckKind()]


NETCHECK_PLUGIN = SimpleNamespace(
    ocrfleet_device_kinds=ocrfleet_device_kinds, OCRFLEET_PLUGIN_API="1.4"
)
