"""Which topics belong to which configured device.

Routes are built from the configuration only, so a message on any other
topic can be rejected with one dict look-up and never creates state.
A device has the routes `<root>/<site>/<device>/<channel>` of its kind's
channels, plus any exact topics its kind names for it (`mqtt_topics`),
e.g. a zigbee2mqtt sensor's `zigbee2mqtt/<friendly_name>`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind, MqttTopic

log = logging.getLogger(__name__)

AVAILABILITY = "availability"
_AVAILABILITY_QOS = 1


@dataclass(frozen=True, slots=True)
class Route:
    key: DeviceKey
    kind: DeviceKind
    channel: str


@dataclass(frozen=True, slots=True)
class Subscription:
    pattern: str
    qos: int


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether an MQTT topic filter (with `+` and `#`) matches a topic."""
    levels = topic.split("/")
    filters = pattern.split("/")
    for index, level in enumerate(filters):
        if level == "#":
            return True
        if index >= len(levels) or (level != "+" and level != levels[index]):
            return False
    return len(filters) == len(levels)


class RouteTable:
    def __init__(
        self, root: str, devices: Iterable[DeviceInfo], kinds: Mapping[str, DeviceKind]
    ) -> None:
        self.root = root
        self.routes: dict[str, Route] = {}
        channel_qos: dict[str, int] = {}
        # Exact topics and watched filters, with the QoS their channel asks for.
        exact_qos: dict[str, int] = {}
        watch_qos: dict[str, int] = {}
        listening = [(d, kinds[d.kind]) for d in devices if kinds[d.kind].mqtt_channels]
        for device, kind in listening:
            channel_qos[AVAILABILITY] = _AVAILABILITY_QOS
            base = f"{root}/{device.site}/{device.id}/"
            self.routes[base + AVAILABILITY] = Route(device.key, kind, AVAILABILITY)
            for channel in kind.mqtt_channels:
                self.routes[base + channel.name] = Route(device.key, kind, channel.name)
                channel_qos[channel.name] = max(channel_qos.get(channel.name, 0), channel.qos)
        # Exact topics after every device's own: a topic under the root that
        # names another device stays that device's, whatever the order.
        for device, kind in listening:
            qos_of: dict[str, int] = {c.name: c.qos for c in kind.mqtt_channels}
            qos_of[AVAILABILITY] = _AVAILABILITY_QOS
            for extra in _topics_of(kind, device):
                qos = qos_of.get(extra.channel)
                if qos is None:
                    # A mistake of the kind's plugin: the device keeps its other topics.
                    log.error(
                        "kind %s names topic %r for channel %r, which is not one of its "
                        "channels; topic ignored",
                        kind.name,
                        extra.topic,
                        extra.channel,
                    )
                    continue
                if not self._add_exact(device, kind, extra):
                    continue
                target = watch_qos if extra.watch else exact_qos
                name = extra.watch or extra.topic
                target[name] = max(target.get(name, 0), qos)
        self.channels = frozenset(channel_qos)
        self.watches = frozenset(watch_qos)
        patterns = {f"{root}/+/+/{channel}": qos for channel, qos in channel_qos.items()}
        for pattern, qos in watch_qos.items():
            patterns[pattern] = max(patterns.get(pattern, 0), qos)
        for topic, qos in exact_qos.items():
            # A topic a filter already covers would be delivered twice.
            covering = [pattern for pattern in patterns if topic_matches(pattern, topic)]
            if not covering:
                patterns[topic] = qos
            for pattern in covering:
                patterns[pattern] = max(patterns[pattern], qos)
        self.subscriptions = tuple(
            Subscription(pattern, qos) for pattern, qos in sorted(patterns.items())
        )

    def _add_exact(self, device: DeviceInfo, kind: DeviceKind, extra: MqttTopic) -> bool:
        taken = self.routes.get(extra.topic)
        if taken is not None and taken.key != device.key:
            log.warning(
                "device %s listens on topic %r, which is already device %s's; "
                "messages there go to %s",
                device.key,
                extra.topic,
                taken.key,
                taken.key,
            )
            return False
        self.routes[extra.topic] = Route(device.key, kind, extra.channel)
        return True

    def classify_unrouted(self, topic: str) -> str:
        """Why a topic has no route: a fixed word fit for a metric label."""
        parts = topic.split("/")
        if len(parts) == 4 and parts[0] == self.root and all(parts):
            if parts[3] not in self.channels:
                return "unknown_channel"
            return "unknown_device"
        if any(topic_matches(pattern, topic) for pattern in self.watches):
            return "unknown_device"
        return "bad_topic"


def _topics_of(kind: DeviceKind, device: DeviceInfo) -> Sequence[MqttTopic]:
    try:
        return tuple(kind.mqtt_topics(device.options))
    except Exception:
        # A plugin's bug costs that device its own topics, not the daemon its routes.
        log.exception("kind %s failed naming the MQTT topics of %s", kind.name, device.key)
        return ()
