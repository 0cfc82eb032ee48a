"""The agent's MQTT connection: availability as Last Will, health and session events.

The same class drives the demo's simulated PCs, so the demo exercises the
real publishing path.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from ocrfleet.mqtt.connection import MqttConnection
from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet_pc.payloads import HealthV1, SessionV1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentIdentity:
    topic_root: str
    site: str
    device: str

    def topic(self, channel: str) -> str:
        return f"{self.topic_root}/{self.site}/{self.device}/{channel}"


class AgentConnection(MqttConnection):
    def __init__(self, settings: MqttSettings, identity: AgentIdentity) -> None:
        super().__init__(settings)
        self.identity = identity
        self._client.will_set(identity.topic("availability"), "offline", qos=1, retain=True)

    def stop(self, announce_offline: bool = True, timeout: float = 3.0) -> None:
        """Leave cleanly: a deliberate shutdown says 'offline' itself."""
        if announce_offline and self.connected:
            info = self._client.publish(
                self.identity.topic("availability"), "offline", qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self._disconnect()

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

    def _connected_now(self, client: paho.Client) -> None:
        # Announced on every connect: the broker may have published our Last
        # Will while we were away.
        client.publish(self.identity.topic("availability"), "online", qos=1, retain=True)
        log.debug(
            "connected to %s:%d as %s",
            self._settings.host,
            self._settings.port,
            self._settings.client_id,
        )
