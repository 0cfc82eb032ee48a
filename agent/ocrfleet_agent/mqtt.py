"""The agent's MQTT connection: availability as Last Will, health, session events, acks.

The same class drives the demo's simulated PCs and the fault tests' agents,
so both exercise the real publishing path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from ocrfleet_agent.payloads import Ack, Health, InvalidPayload, SessionMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    tls_ca_file: str | None = None
    keepalive: int = 30
    # Agents wait longer than the daemon (whose ceiling is 2 s by default):
    # after a broker restart the daemon is subscribed again before most
    # agents are back, and what an agent sends earlier is re-sent anyway.
    reconnect_min_delay: int = 2
    reconnect_max_delay: int = 30
    queue_size: int = 1000


@dataclass(frozen=True)
class AgentIdentity:
    topic_root: str
    site: str
    device: str

    def topic(self, channel: str) -> str:
        return f"{self.topic_root}/{self.site}/{self.device}/{channel}"


class AgentConnection:
    """One paho client. `on_ack` is called on paho's network thread."""

    def __init__(self, settings: BrokerSettings, identity: AgentIdentity) -> None:
        self._settings = settings
        self.identity = identity
        self._connected = threading.Event()
        self.on_ack: Callable[[Ack], object] = lambda ack: None
        self.on_connected: Callable[[], None] = lambda: None
        # A persistent session: acks published while the agent is away wait for it.
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )
        self._configure()
        self._client.will_set(identity.topic("availability"), "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def _configure(self) -> None:
        settings = self._settings
        if settings.username is not None:
            self._client.username_pw_set(settings.username, settings.password)
        if settings.use_tls:
            if settings.tls_ca_file is not None and not os.path.isfile(settings.tls_ca_file):
                raise FileNotFoundError(f"TLS CA file {settings.tls_ca_file!r} does not exist")
            self._client.tls_set(ca_certs=settings.tls_ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(settings.reconnect_min_delay, settings.reconnect_max_delay)
        self._client.max_queued_messages_set(settings.queue_size)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        self._client.connect_async(
            self._settings.host, self._settings.port, self._settings.keepalive
        )
        self._client.loop_start()

    def stop(self, announce_offline: bool = True, timeout: float = 3.0) -> None:
        """Leave cleanly: a deliberate shutdown says 'offline' itself."""
        if announce_offline and self.connected:
            info = self._client.publish(
                self.identity.topic("availability"), "offline", qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def publish_health(self, health: Health) -> bool:
        return self._publish("health", health.to_json(), qos=0)

    def publish_session(self, message: SessionMessage) -> bool:
        """Send one session event at QoS 1; False when it was not handed to the broker.

        Journaled (version 2) events are sent only while connected: the
        journal sends them again after a reconnect, so paho need not queue them.
        """
        if message.seq is not None and not self.connected:
            return False
        return self._publish("session", message.to_json(), qos=1)

    def unacknowledged(self) -> int:
        """QoS 1 messages not yet acknowledged by the broker."""
        return len(self._client._out_messages)

    def _publish(self, channel: str, payload: bytes, qos: int) -> bool:
        info = self._client.publish(self.identity.topic(channel), payload, qos=qos)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            log.warning("outgoing queue full; %s message dropped", channel)
            return False
        # Not connected is fine for QoS 1: paho sends it after reconnecting.
        return info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error(
                "MQTT broker %s:%d refused the connection: %s",
                self._settings.host,
                self._settings.port,
                reason,
            )
            return
        # Announced on every connect: the broker may have published our Last
        # Will while we were away. Subscribed on every connect: a broker
        # without persistence forgets subscriptions when it restarts.
        client.publish(self.identity.topic("availability"), "online", qos=1, retain=True)
        client.subscribe(self.identity.topic("ack"), qos=1)
        log.info("connected to %s:%d", self._settings.host, self._settings.port)
        self._connected.set()
        self.on_connected()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning(
                "lost the MQTT broker %s:%d (%s); reconnecting with back-off",
                self._settings.host,
                self._settings.port,
                reason,
            )

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            ack = Ack.parse(bytes(message.payload))
        except InvalidPayload as exc:
            log.warning("ignoring a bad acknowledgement on %s: %s", message.topic, exc.detail)
            return
        self.on_ack(ack)
