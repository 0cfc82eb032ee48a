"""Which topics belong to which configured device.

Routes are built from the configuration only, so a message on any other
topic can be rejected with one dict look-up and never creates state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind

AVAILABILITY = "availability"


@dataclass(frozen=True, slots=True)
class Route:
    key: DeviceKey
    kind: DeviceKind
    channel: str


@dataclass(frozen=True, slots=True)
class Subscription:
    pattern: str
    qos: int


class RouteTable:
    def __init__(
        self, root: str, devices: Iterable[DeviceInfo], kinds: Mapping[str, DeviceKind]
    ) -> None:
        self.root = root
        self.routes: dict[str, Route] = {}
        channel_qos: dict[str, int] = {}
        for device in devices:
            kind = kinds[device.kind]
            if not kind.mqtt_channels:
                continue
            channel_qos[AVAILABILITY] = 1
            base = f"{root}/{device.site}/{device.id}/"
            self.routes[base + AVAILABILITY] = Route(device.key, kind, AVAILABILITY)
            for channel in kind.mqtt_channels:
                self.routes[base + channel.name] = Route(device.key, kind, channel.name)
                channel_qos[channel.name] = max(channel_qos.get(channel.name, 0), channel.qos)
        self.channels = frozenset(channel_qos)
        self.subscriptions = tuple(
            Subscription(f"{root}/+/+/{channel}", qos)
            for channel, qos in sorted(channel_qos.items())
        )

    def classify_unrouted(self, topic: str) -> str:
        """Why a topic has no route: a fixed word fit for a metric label."""
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != self.root or not all(parts):
            return "bad_topic"
        if parts[3] not in self.channels:
            return "unknown_channel"
        return "unknown_device"
