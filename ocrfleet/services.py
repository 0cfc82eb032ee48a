"""Services: integrations that run beside the daemon and read the fleet (e.g. Home Assistant).

A plugin contributes `ServiceType`s through `ocrfleet_services()`. A service
runs only when the configuration has its table, `[integrations.<name>]`,
with `enabled = true`; the table is checked by the type's `options_model`
(which extends `ServiceOptions`). The daemon runs each enabled service as a
background task until shutdown and gives it a `ServiceContext`: read-only
views of the devices, their status cards, the alerts that fire and the sites,
plus MQTT connections of its own. A service that fails is logged and the
daemon goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, ValidationError

from ocrfleet.config.errors import ConfigError, problems_from_validation
from ocrfleet.kinds import DeviceKind, StatusCard
from ocrfleet.mqtt.connection import configure_client
from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet.ratelimit import RateLimitedLog

if TYPE_CHECKING:
    from ocrfleet.clock import Clock
    from ocrfleet.config.models import Config
    from ocrfleet.i18n.readers import Readers
    from ocrfleet.i18n.text import Words
    from ocrfleet.state import DeviceView, FleetState

log = logging.getLogger(__name__)

# The configuration table of every service: `[integrations.<name>]`.
TABLE = "integrations"


class ServiceOptions(BaseModel):
    """The options every service has; a service type's options_model extends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Off unless asked for: a service talks to systems outside the fleet.
    enabled: bool = False


@dataclass(frozen=True, slots=True)
class FiringAlert:
    """An alert that fires now, as a service sees it."""

    rule: str
    severity: str
    site: str | None
    device: str | None
    since: float


@dataclass(frozen=True, slots=True)
class MqttWill:
    """The message the broker publishes for a service's connection when it is lost."""

    topic: str
    payload: str
    qos: int = 1
    retain: bool = True


MessageHandler = Callable[[str, bytes], None]


class ServiceMqtt:
    """A service's own MQTT connection: clean session, optional last will.

    `on_connect` runs on the event loop after every (re)connect, so a service
    can publish again what a broker without persistence forgot. Handlers of
    subscriptions run on the event loop too.
    """

    def __init__(
        self,
        settings: MqttSettings,
        loop: asyncio.AbstractEventLoop,
        will: MqttWill | None,
        on_connect: Callable[[], None] | None,
    ) -> None:
        self._settings = settings
        self._loop = loop
        self._on_connect_cb = on_connect
        self._handlers: dict[str, MessageHandler] = {}
        self._connected = asyncio.Event()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=True,
            protocol=paho.MQTTv311,
        )
        configure_client(self._client, settings)
        if will is not None:
            self._client.will_set(will.topic, will.payload, will.qos, will.retain)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        self._client.connect_async(
            self._settings.host, self._settings.port, self._settings.keepalive
        )
        self._client.loop_start()

    def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        """Queue a message; paho sends it now or after the next connect."""
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def subscribe(self, pattern: str, handler: MessageHandler, qos: int = 1) -> None:
        """Receive messages matching `pattern` (kept across reconnects)."""
        self._handlers[pattern] = handler
        # paho's own state, not `connected`: that is set on the loop a moment
        # after _on_connect has subscribed to the handlers it found.
        if self._client.is_connected():
            self._client.subscribe(pattern, qos)

    def unsubscribe(self, pattern: str) -> None:
        if self._handlers.pop(pattern, None) is not None and self._client.is_connected():
            self._client.unsubscribe(pattern)

    async def close(self, last_words: Sequence[tuple[str, str, bool]] = ()) -> None:
        """Publish `last_words` (topic, payload, retain) at QoS 1, then disconnect."""
        sent = [self._client.publish(t, p, qos=1, retain=r) for t, p, r in last_words]

        def finish() -> None:
            if self._client.is_connected():
                for info in sent:
                    with contextlib.suppress(RuntimeError, ValueError):
                        info.wait_for_publish(2.0)
            self._client.disconnect()
            self._client.loop_stop()

        await asyncio.to_thread(finish)
        self._connected.clear()

    # -- paho's network thread ---------------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error(
                "service %s: the MQTT broker refused the connection: %s",
                self._settings.client_id,
                reason,
            )
            return
        for pattern in list(self._handlers):
            client.subscribe(pattern, 1)
        self._call_soon(self._connected_on_loop)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._call_soon(self._connected.clear)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            return
        payload = bytes(message.payload)
        for pattern, handler in list(self._handlers.items()):
            if paho.topic_matches_sub(pattern, topic):
                self._call_soon(handler, topic, payload)

    def _call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        # RuntimeError: the loop closed meanwhile; the daemon is stopping.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def _connected_on_loop(self) -> None:
        self._connected.set()
        if self._on_connect_cb is not None:
            self._on_connect_cb()


class ServiceContext:
    """What a service may read of the daemon, and how it reaches the broker.

    Every method reads the daemon's current state (it follows reloads) and
    must be called on the event loop.
    """

    def __init__(
        self,
        name: str,
        *,
        state: Callable[[], FleetState],
        config: Callable[[], Config],
        kinds: Mapping[str, DeviceKind],
        firing: Callable[[], Sequence[FiringAlert]],
        readers: Callable[[], Readers],
        clock: Clock,
        mqtt_settings: MqttSettings,
    ) -> None:
        self.name = name
        self.kinds = kinds
        self._state = state
        self._config = config
        self._firing = firing
        self._readers = readers
        self._clock = clock
        self._mqtt_settings = mqtt_settings
        self._connections: list[ServiceMqtt] = []
        self._card_errors = RateLimitedLog(log, 60.0)

    def now(self) -> float:
        return self._clock.now()

    def devices(self) -> Sequence[DeviceView]:
        """Every configured device now, in the configuration's order."""
        return self._state().snapshot(self._clock.now()).devices

    def status_card(self, device: DeviceView) -> StatusCard:
        """The device's card from its kind; an empty one when the kind fails."""
        kind = self.kinds.get(device.info.kind)
        if kind is None:
            return StatusCard()
        try:
            return kind.status_card(device)
        except Exception:
            self._card_errors.error(
                device.info.kind,
                "status card of kind %s failed",
                device.info.kind,
                exc_info=True,
            )
            return StatusCard()

    def is_seat(self, device: DeviceView) -> bool:
        kind = self.kinds.get(device.info.kind)
        return kind is not None and kind.is_seat

    def sites(self) -> Mapping[str, str]:
        """Site id to its name, in the configuration's order."""
        return {site.id: site.name for site in self._config().sites}

    def municipality(self) -> str:
        return self._config().municipality.name

    def firing_alerts(self) -> Sequence[FiringAlert]:
        return self._firing()

    def say(self, words: Words, site: str | None = None) -> str:
        """Words in the language the site's readers read."""
        return self._readers().speaker(site=site).say(words)

    def say_english(self, words: Words) -> str:
        """Words in English: for identifiers made of them."""
        return self._readers().speaker(language="en").say(words)

    def mqtt(
        self, *, will: MqttWill | None = None, on_connect: Callable[[], None] | None = None
    ) -> ServiceMqtt:
        """A new connection to the daemon's broker, started; closed at shutdown at the latest.

        Its client id is the daemon's followed by `-<service name>`.
        """
        settings = self._mqtt_settings
        own = dataclasses.replace(settings, client_id=f"{settings.client_id}-{self.name}")
        connection = ServiceMqtt(own, asyncio.get_running_loop(), will, on_connect)
        connection.start()
        self._connections.append(connection)
        return connection

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()
        self._connections.clear()


class Service(ABC):
    """One running integration."""

    @abstractmethod
    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set (or the task is cancelled at shutdown)."""


class ServiceType(ABC):
    """A kind of integration a plugin provides: `[integrations.<name>]` configures it."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[ServiceOptions]] = ServiceOptions

    @abstractmethod
    def create(self, context: ServiceContext, options: ServiceOptions) -> Service:
        """A service for validated options; no I/O here (run does it)."""


def service_options(
    tables: Mapping[str, Mapping[str, Any]], types: Mapping[str, ServiceType]
) -> dict[str, ServiceOptions]:
    """Each `[integrations.<name>]` table checked by its type; every problem at once."""
    problems: list[tuple[str, str]] = []
    checked: dict[str, ServiceOptions] = {}
    for name, table in tables.items():
        service_type = types.get(name)
        if service_type is None:
            known = ", ".join(sorted(types)) or "none installed"
            problems.append((f"{TABLE}.{name}", f"unknown integration (known: {known})"))
            continue
        try:
            checked[name] = service_type.options_model.model_validate(table)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, (TABLE, name)))
    if problems:
        raise ConfigError(problems)
    return checked


class ServiceHost:
    """Builds the enabled services and runs each as an isolated task."""

    def __init__(
        self,
        types: Mapping[str, ServiceType],
        tables: Mapping[str, Mapping[str, Any]],
        context: Callable[[str], ServiceContext],
    ) -> None:
        self._types = types
        self._options = service_options(tables, types)
        self._context = context

    @property
    def enabled(self) -> list[str]:
        return [name for name, options in self._options.items() if options.enabled]

    def runners(self, stop: asyncio.Event) -> list[tuple[str, Callable[[], Any]]]:
        """(task name, coroutine function) of every enabled service."""
        return [(f"service-{name}", self._runner(name, stop)) for name in self.enabled]

    def _runner(self, name: str, stop: asyncio.Event) -> Callable[[], Any]:
        async def run() -> None:
            context = self._context(name)
            try:
                service = self._types[name].create(context, self._options[name])
                log.info("integration %s started", name)
                await service.run(stop)
            finally:
                await context.close()

        return run

    def reload(self, tables: Mapping[str, Mapping[str, Any]]) -> None:
        """Options of services cannot change while they run: tell which need a restart."""
        try:
            new = service_options(tables, self._types)
        except ConfigError as exc:
            log.warning("[%s] has errors; restart after fixing them:\n%s", TABLE, exc.render())
            return
        for name in sorted(set(new) | set(self._options)):
            if new.get(name) != self._options.get(name):
                log.warning(
                    "[%s.%s] changed; restart the daemon for it to take effect", TABLE, name
                )
