"""Publishing the fleet to Home Assistant, and keeping it current.

Configs are retained, so Home Assistant finds them whenever it starts, and
published again when its birth message comes (it may have lost them, e.g.
with a broker without persistence). States are retained too, so a Home
Assistant that starts shows the current values at once rather than unknown
until the next change; they go out when they change (looked at every
second) and every `state_interval` regardless.

A device that leaves the configuration loses its configs and state (empty
retained messages) at the next look. The configs of a previous run are found
by subscribing to this node's own discovery topics: a retained config whose
device (or site) is no longer configured is removed the same way, so nothing
needs to be kept on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
from dataclasses import dataclass
from typing import Any, cast

from ocrfleet.plugin import (
    Catalog,
    DeviceKey,
    DeviceView,
    MqttWill,
    RateLimitedLog,
    Service,
    ServiceContext,
    ServiceMqtt,
    ServiceOptions,
    ServiceType,
    Words,
    __version__,
)
from ocrfleet_homeassistant.entities import (
    OFFLINE,
    ONLINE,
    Daemon,
    DeviceEntities,
    DeviceFacts,
    Entity,
    Names,
    Origin,
    Topics,
    bars_of,
    daemon_entities,
    device_state,
    object_bases,
    site_entities,
)
from ocrfleet_homeassistant.options import HomeAssistantOptions

log = logging.getLogger(__name__)
_ = Catalog("ocrfleet_homeassistant")

# How often the fleet is looked at for changes, in seconds.
LOOK_INTERVAL = 1.0


class HomeAssistantType(ServiceType):
    name = "homeassistant"
    description = "every device as a Home Assistant device, by MQTT discovery"
    options_model = HomeAssistantOptions

    def create(self, context: ServiceContext, options: ServiceOptions) -> Service:
        return HomeAssistantService(context, cast(HomeAssistantOptions, options))


class HomeAssistantService(Service):
    def __init__(self, context: ServiceContext, options: HomeAssistantOptions) -> None:
        self._context = context
        self._options = options
        self.topics = Topics(options.discovery_prefix, options.node_id, options.state_root)
        self._origin = Origin(__version__, options.support_url)
        self._published: dict[DeviceKey, _Published] = {}
        # The configured devices and sites as of the last look (None before the first).
        self._keys: frozenset[DeviceKey] | None = None
        self._sites: frozenset[str] | None = None
        self._errors = RateLimitedLog(log, interval=600.0)
        # What the broker holds from us now: topic -> payload.
        self._configs: dict[str, str] = {}
        self._states: dict[str, str] = {}
        self._states_sent_at = -math.inf
        self._emptied: set[str] = set()
        self._mqtt: ServiceMqtt | None = None

    async def run(self, stop: asyncio.Event) -> None:
        topics = self.topics
        mqtt = self._context.mqtt(
            will=MqttWill(topics.availability, OFFLINE), on_connect=self._connected
        )
        self._mqtt = mqtt
        mqtt.subscribe(self._options.status_topic, self._birth)
        mqtt.subscribe(topics.own_configs, self._config_seen)
        try:
            while not stop.is_set():
                try:
                    self.publish()
                except Exception:
                    # One bad card or payload must not end the integration:
                    # the next look tries again.
                    self._errors.error("look", "Home Assistant publishing failed", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), LOOK_INTERVAL)
        finally:
            # A clean stop: the will is not sent then, so say it ourselves.
            await mqtt.close([(topics.availability, OFFLINE, True)])

    # -- events (on the event loop) ------------------------------------------

    def _connected(self) -> None:
        # The broker may have lost everything (no persistence): all again.
        self.publish(everything=True)
        if self._mqtt is not None:
            self._mqtt.publish(self.topics.availability, ONLINE, retain=True)

    def _birth(self, topic: str, payload: bytes) -> None:
        if payload.strip() == b"online":
            log.info("Home Assistant started; publishing the discovery configs again")
            self.publish(everything=True)

    def _config_seen(self, topic: str, payload: bytes) -> None:
        """A config of this node on the broker: remove it if its device is gone."""
        if not payload or topic in self._configs:
            return
        try:
            state_topic = json.loads(payload).get("state_topic")
        except (ValueError, AttributeError):
            return
        if not isinstance(state_topic, str):
            return
        owner = self.topics.owner(state_topic)
        # A broker holds a config per entity: one look at the fleet for them all.
        if self._keys is None or self._sites is None:
            self._keys = frozenset(view.info.key for view in self._context.devices())
            self._sites = frozenset(self._context.sites())
        if isinstance(owner, DeviceKey):
            gone = owner not in self._keys
        elif owner:
            gone = owner not in self._sites
        else:
            return
        if gone and self._mqtt is not None:
            log.info(
                "removing the Home Assistant entity %s of a device no longer configured", topic
            )
            self._mqtt.publish(topic, b"", retain=True)
            # Shared by the device's entities: emptied once is enough.
            if state_topic not in self._emptied:
                self._emptied.add(state_topic)
                self._mqtt.publish(state_topic, b"", retain=True)

    # -- publishing ----------------------------------------------------------

    def publish(self, *, everything: bool = False) -> None:
        """Send what changed (with `everything`: all), and remove what is gone."""
        mqtt = self._mqtt
        if mqtt is None or not mqtt.connected:
            return
        configs, states = self._wanted()
        for topic in sorted(set(self._configs) - set(configs)):
            mqtt.publish(topic, b"", retain=True)
            del self._configs[topic]
        for topic in sorted(set(self._states) - set(states)):
            mqtt.publish(topic, b"", retain=True)
            del self._states[topic]
        for topic, payload in configs.items():
            if everything or self._configs.get(topic) != payload:
                mqtt.publish(topic, payload, retain=True)
                self._configs[topic] = payload
        now = self._context.now()
        due = now - self._states_sent_at >= self._options.state_interval
        for topic, payload in states.items():
            if everything or due or self._states.get(topic) != payload:
                mqtt.publish(topic, payload, retain=True)
                self._states[topic] = payload
        if everything or due:
            self._states_sent_at = now

    def _wanted(self) -> tuple[dict[str, str], dict[str, str]]:
        """The configs and states of the fleet as it is now: topic -> payload."""
        context = self._context
        topics = self.topics
        sites = context.sites()
        views = context.devices()
        firing = context.firing_alerts()
        daemon = Daemon(topics, self._origin, context.municipality())
        names = {site: self._names(site) for site in sites}
        entities: list[Entity] = daemon_entities(daemon, self._names(None))
        states: dict[str, Any] = {topics.daemon_state: {"alerts_firing": len(firing)}}
        seats: dict[str, list[DeviceView]] = {site: [] for site in sites}
        for view in views:
            if view.info.site in seats and context.is_seat(view):
                seats[view.info.site].append(view)
        for site, site_name in sites.items():
            entities.extend(site_entities(daemon, site, site_name, names[site]))
            states[topics.site_state(site)] = {
                "seats_in_use": sum(1 for view in seats[site] if view.usage.in_use),
                "seats": len(seats[site]),
                "alerts_firing": sum(1 for alert in firing if alert.site == site),
            }
        self._keys = frozenset(view.info.key for view in views)
        self._sites = frozenset(sites)
        bases = object_bases(self._keys)
        published: dict[DeviceKey, _Published] = {}
        configs = {entity.topic(topics): _json(entity.config) for entity in entities}
        rendered = {topic: _json(state) for topic, state in states.items()}
        for view in views:
            key = view.info.key
            site_names = names.get(key.site) or self._names(key.site)
            looks = _Looks(sites.get(key.site, key.site), site_names, bases[key], daemon)
            last = self._published.get(key)
            if last is None or not last.still(view, looks):
                device = self._device(view, looks.site_name, last)
                last = self._render(view, device, looks)
            published[key] = last
            configs.update(last.configs)
            rendered[last.state[0]] = last.state[1]
        self._published = published
        return configs, rendered

    def _render(self, view: DeviceView, device: DeviceEntities, looks: _Looks) -> _Published:
        context = self._context
        key = view.info.key
        card = context.status_card(view)
        say = functools.partial(context.say, site=key.site)
        bars = bars_of(card, context.say_english, say)
        device.learn(bars)
        entities = device.entities(looks.daemon, looks.names, looks.base)
        state = device_state(view.presence.up, card, bars, say, looks.names.no_problem)
        return _Published(
            view,
            looks,
            device,
            tuple((entity.topic(self.topics), _json(entity.config)) for entity in entities),
            (self.topics.device_state(key), _json(state)),
        )

    def _device(self, view: DeviceView, site_name: str, last: _Published | None) -> DeviceEntities:
        info = view.info
        kind = self._context.kinds.get(info.kind)
        title: Words = (kind.title or kind.name) if kind is not None else info.kind
        facts = DeviceFacts(info.key, site_name, info.model or self._context.say(title, info.site))
        device = last.device if last is not None else None
        if device is None or device.facts != facts:
            # A new device, or one whose model or site name changed: same bars.
            device = DeviceEntities(facts, dict(device.bars) if device is not None else {})
        return device

    def _names(self, site: str | None) -> Names:
        say = self._context.say
        return Names(
            connectivity=say(_("Connection"), site),
            condition=say(_("Condition"), site),
            no_problem=say(_("No problem"), site),
            seats_in_use=say(_("Seats in use"), site),
            alerts_firing=say(_("Alerts firing"), site),
        )


@dataclass(frozen=True, slots=True)
class _Looks:
    """What a device's entities depend on besides the device: its site and the daemon."""

    site_name: str
    names: Names  # in the site's language
    base: str  # the device's topic level
    daemon: Daemon


@dataclass(frozen=True, slots=True)
class _Published:
    """A device's configs and state as last rendered, and what they were rendered from.

    Rendering every device's card and JSON every second costs tens of
    milliseconds on the event loop at a thousand devices; a device whose view
    has not changed since is not rendered again.
    """

    view: DeviceView
    looks: _Looks
    device: DeviceEntities
    configs: tuple[tuple[str, str], ...]
    state: tuple[str, str]

    def still(self, view: DeviceView, looks: _Looks) -> bool:
        """Whether rendering `view` now would give the same configs and state."""
        seen = self.view
        return (
            # Readings are immutable and replaced on every change: identity will do.
            view.reading is seen.reading
            and view.presence == seen.presence
            and view.usage == seen.usage
            and view.failure == seen.failure
            and view.info == seen.info
            and looks == self.looks
        )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
