"""Which entities Home Assistant gets, with their discovery configs and states; no I/O.

A daemon is one Home Assistant device (alerts firing overall), each site one
(seats in use, alerts firing there) and each monitored device one: up or
down as a `connectivity` binary sensor, its condition as a text sensor and
every bar of its status card (a toner, a tray) as a sensor in %. Devices and
sites reach Home Assistant through the daemon's device (`via_device`).

Every entity is available while the daemon is (its availability topic, with
the connection's last will) and, for what a device says of itself (its
condition and bars), while that device is up (`availability_mode: all`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ocrfleet.plugin import DeviceKey, StatusCard, Words

Component = Literal["binary_sensor", "sensor"]
ONLINE = "online"
OFFLINE = "offline"
# A text sensor's state is cut at this length by Home Assistant.
MAX_STATE = 255
# Keys of a device's own entities; a bar with one of these keys gets a suffix.
_RESERVED = frozenset({"connectivity", "condition"})


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and single underscores: "Black toner" -> "black_toner"."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "bar"


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic the integration uses, from its options."""

    prefix: str  # the discovery prefix
    node: str  # the node id
    root: str  # the state root

    @property
    def availability(self) -> str:
        return f"{self.root}/{self.node}/availability"

    @property
    def daemon_state(self) -> str:
        return f"{self.root}/{self.node}/state"

    def site_state(self, site: str) -> str:
        return f"{self.root}/{self.node}/site/{site}/state"

    def device_state(self, key: DeviceKey) -> str:
        return f"{self.root}/{self.node}/device/{key.site}/{key.device}/state"

    def config(self, component: Component, object_id: str) -> str:
        return f"{self.prefix}/{component}/{self.node}/{object_id}/config"

    @property
    def own_configs(self) -> str:
        """A subscription to every discovery config of this node (retained ones included)."""
        return f"{self.prefix}/+/{self.node}/+/config"

    def owner(self, state_topic: str) -> DeviceKey | str | None:
        """Whose entity a state topic is: a device's key, a site's id, "" for the daemon."""
        base = f"{self.root}/{self.node}/"
        if not state_topic.startswith(base):
            return None
        parts = state_topic[len(base) :].split("/")
        if parts == ["state"]:
            return ""
        if len(parts) == 3 and parts[0] == "site" and parts[2] == "state":
            return parts[1]
        if len(parts) == 4 and parts[0] == "device" and parts[3] == "state":
            return DeviceKey(parts[1], parts[2])
        return None


@dataclass(frozen=True, slots=True)
class Names:
    """The entities' names in the readers' language."""

    connectivity: str
    condition: str
    no_problem: str
    seats_in_use: str
    alerts_firing: str


@dataclass(frozen=True, slots=True)
class Entity:
    component: Component
    object_id: str
    config: Mapping[str, Any]

    def topic(self, topics: Topics) -> str:
        return topics.config(self.component, self.object_id)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who publishes the entities, for Home Assistant's logs and its device page."""

    version: str
    support_url: str = ""

    def block(self) -> dict[str, str]:
        block = {"name": "ocrfleet", "sw_version": self.version}
        if self.support_url:
            block["support_url"] = self.support_url
        return block


@dataclass(frozen=True, slots=True)
class Daemon:
    """The daemon's own device, through which every other one reaches Home Assistant."""

    topics: Topics
    origin: Origin
    municipality: str

    @property
    def identifier(self) -> str:
        return f"ocrfleet_{self.topics.node}"

    def device(self) -> dict[str, Any]:
        return {
            "identifiers": [self.identifier],
            "name": f"ocrfleet {self.municipality}",
            "model": "ocrfleet",
            "sw_version": self.origin.version,
        }

    def unique_id(self, *parts: str) -> str:
        # Colons: site and device ids never hold one, so no two entities share an id.
        return ":".join(("ocrfleet", self.topics.node, *parts))

    def availability(self) -> list[dict[str, str]]:
        return [{"topic": self.topics.availability}]

    def entity(
        self,
        component: Component,
        object_id: str,
        unique_id: str,
        name: str,
        device: Mapping[str, Any],
        state_topic: str,
        value_template: str,
        *,
        availability: Sequence[Mapping[str, str]] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> Entity:
        config: dict[str, Any] = {
            "unique_id": unique_id,
            "default_entity_id": f"{component}.{slug(f'{self.topics.node}_{object_id}')}",
            "name": name,
            "device": dict(device),
            "origin": self.origin.block(),
            "availability": [*self.availability(), *availability],
            "availability_mode": "all",
            "state_topic": state_topic,
            "value_template": value_template,
        }
        config.update(extra or {})
        return Entity(component, object_id, config)


_COUNT = MappingProxyType({"state_class": "measurement"})


def daemon_entities(daemon: Daemon, names: Names) -> list[Entity]:
    return [
        daemon.entity(
            "sensor",
            "alerts_firing",
            daemon.unique_id("alerts_firing"),
            names.alerts_firing,
            daemon.device(),
            daemon.topics.daemon_state,
            "{{ value_json.alerts_firing }}",
            extra={**_COUNT, "icon": "mdi:alert"},
        )
    ]


def site_entities(daemon: Daemon, site: str, site_name: str, names: Names) -> list[Entity]:
    device = {
        "identifiers": [f"{daemon.identifier}_site_{site}"],
        "name": site_name,
        "suggested_area": site_name,
        "via_device": daemon.identifier,
    }
    state = daemon.topics.site_state(site)
    return [
        daemon.entity(
            "sensor",
            f"site_{site}_seats_in_use",
            daemon.unique_id("site", site, "seats_in_use"),
            names.seats_in_use,
            device,
            state,
            "{{ value_json.seats_in_use }}",
            extra={**_COUNT, "icon": "mdi:desktop-classic"},
        ),
        daemon.entity(
            "sensor",
            f"site_{site}_alerts_firing",
            daemon.unique_id("site", site, "alerts_firing"),
            names.alerts_firing,
            device,
            state,
            "{{ value_json.alerts_firing }}",
            extra={**_COUNT, "icon": "mdi:alert"},
        ),
    ]


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What Home Assistant's device page shows of a monitored device."""

    key: DeviceKey
    site_name: str
    model: str  # the configured model, else the kind's title


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar of a status card as a sensor: its stable key and its name."""

    key: str
    name: str
    ratio: float | None = None  # 0-1; None: the device does not say


@dataclass
class DeviceEntities:
    """One device's entities; bars are added as its cards show them, never dropped."""

    facts: DeviceFacts
    bars: dict[str, str] = field(default_factory=dict)  # key -> name, first seen first

    def learn(self, bars: Iterable[Bar]) -> bool:
        """Add bars not seen before; True if there were any (their configs must go out)."""
        new = False
        for bar in bars:
            if bar.key not in self.bars:
                self.bars[bar.key] = bar.name
                new = True
        return new

    def entities(self, daemon: Daemon, names: Names, object_base: str) -> list[Entity]:
        key = self.facts.key
        device = {
            "identifiers": [f"{daemon.identifier}_{key.site}_{key.device}"],
            "name": f"{key.device} ({self.facts.site_name})",
            "suggested_area": self.facts.site_name,
            "via_device": daemon.identifier,
        }
        if self.facts.model:
            device["model"] = self.facts.model
        state = daemon.topics.device_state(key)
        # What a device says of itself means nothing while it does not answer.
        while_up = [{"topic": state, "value_template": "{{ value_json.availability }}"}]
        found = [
            daemon.entity(
                "binary_sensor",
                f"{object_base}_connectivity",
                daemon.unique_id(key.site, key.device, "connectivity"),
                names.connectivity,
                device,
                state,
                "{{ 'ON' if value_json.up else 'OFF' }}",
                extra={"device_class": "connectivity"},
            ),
            daemon.entity(
                "sensor",
                f"{object_base}_condition",
                daemon.unique_id(key.site, key.device, "condition"),
                names.condition,
                device,
                state,
                "{{ value_json.condition }}",
                availability=while_up,
                extra={
                    "icon": "mdi:information-outline",
                    "json_attributes_topic": state,
                    "json_attributes_template": (
                        "{{ {'tone': value_json.tone, 'facts': value_json.facts} | tojson }}"
                    ),
                },
            ),
        ]
        for bar, name in self.bars.items():
            found.append(
                daemon.entity(
                    "sensor",
                    f"{object_base}_{bar}",
                    daemon.unique_id(key.site, key.device, "bar", bar),
                    name,
                    device,
                    state,
                    # A bar gone from the card, or of unknown level: "None", which
                    # Home Assistant shows as unknown.
                    f"{{{{ value_json.bars.get('{bar}') }}}}",
                    availability=while_up,
                    extra={
                        "unit_of_measurement": "%",
                        "state_class": "measurement",
                        "suggested_display_precision": 0,
                        "icon": "mdi:gauge",
                    },
                )
            )
        return found


def bars_of(
    card: StatusCard, say_english: Callable[[Words], str], say: Callable[[Words], str]
) -> list[Bar]:
    """The card's bars with their keys: `Gauge.key`, else the English label's slug."""
    bars: list[Bar] = []
    taken: set[str] = set()
    for gauge in card.gauges:
        # A kind's key is slugged too: it becomes part of topics and templates.
        key = slug(gauge.key or say_english(gauge.label))
        key = f"{key}_level" if key in _RESERVED else key
        if key in taken:  # two bars of one label: the card is in error, keep the first
            continue
        taken.add(key)
        bars.append(Bar(key, say(gauge.label), gauge.ratio))
    return bars


def object_bases(keys: Iterable[DeviceKey]) -> dict[DeviceKey, str]:
    """A topic level per device: "<site>_<device>", with a checksum where two would meet.

    "a_b" + "c" and "a" + "b_c" both read "a_b_c"; such rare pairs get the
    CRC of their key, so each keeps its own topics whatever else is configured.
    """
    plain = {key: f"{key.site}_{key.device}" for key in keys}
    seen: dict[str, int] = {}
    for base in plain.values():
        seen[base] = seen.get(base, 0) + 1
    return {
        key: base
        if seen[base] == 1
        else f"{base}_{zlib.crc32(f'{key.site}/{key.device}'.encode()):08x}"
        for key, base in plain.items()
    }


def device_state(
    up: bool, card: StatusCard, bars: Sequence[Bar], say: Callable[[Words], str], no_problem: str
) -> dict[str, Any]:
    """A device's state: the JSON its entities' templates read."""
    condition = say(card.condition) if card.condition else no_problem
    return {
        "up": up,
        "availability": ONLINE if up else OFFLINE,
        "condition": condition[:MAX_STATE],
        "tone": card.tone,
        "bars": {b.key: None if b.ratio is None else round(b.ratio * 100, 1) for b in bars},
        "facts": [say(fact) for fact in card.facts],
    }
