"""The agent's MQTT connection: availability as Last Will, health and session events.

The same class drives the demo's simulated PCs, so the demo exercises the
real publishing path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from ocrfleet.mqtt.subscriber import MqttSettings, configure_client
from ocrfleet_pc.payloads import HealthV1, SessionV1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentIdentity:
    topic_root: str
    site: str
    device: str

    def topic(self, channel: str) -> str:
        return f"{self.topic_root}/{self.site}/{self.device}/{channel}"


class AgentConnection:
    def __init__(self, settings: MqttSettings, identity: AgentIdentity) -> None:
        self.identity = identity
        self._settings = settings
        self._connected = threading.Event()
        # clean_session=False keeps unacknowledged QoS 1 session events in
        # flight across a reconnect instead of dropping them.
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )
        configure_client(self._client, settings)
        self._client.will_set(identity.topic("availability"), "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

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

    def publish_health(self, health: HealthV1) -> bool:
        return self._publish("health", health.model_dump_json().encode(), qos=0)

    def publish_session(self, session: SessionV1) -> bool:
        payload = json.dumps(session.model_dump(exclude_none=True)).encode()
        return self._publish("session", payload, qos=1)

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
            log.error("broker refused the connection: %s", reason)
            return
        # Announced on every connect: the broker may have published our Last
        # Will while we were away.
        client.publish(self.identity.topic("availability"), "online", qos=1, retain=True)
        self._connected.set()
        log.debug(
            "connected to %s:%d as %s",
            self._settings.host,
            self._settings.port,
            self._settings.client_id,
        )

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("lost the broker (%s); reconnecting", reason)
