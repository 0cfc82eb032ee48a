"""The daemon's MQTT connection, driven by paho directly.

paho's own network thread reads, parses and calls back; ingest runs right in
that callback. A hop to the asyncio loop per message would cost more than the
ingest itself at fleet-wide rates.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from ocrfleet.config.models import MqttConfig
from ocrfleet.mqtt.ingest import Ingest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_insecure: bool = False
    use_tls: bool = False
    keepalive: int = 30
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    queue_size: int = 10_000

    @classmethod
    def from_config(cls, config: MqttConfig, password: str | None) -> MqttSettings:
        tls = config.tls
        return cls(
            host=config.host,
            port=config.port,
            client_id=config.client_id,
            username=config.username,
            password=password,
            use_tls=tls is not None,
            tls_ca_file=str(tls.ca_file) if tls and tls.ca_file else None,
            tls_cert_file=str(tls.cert_file) if tls and tls.cert_file else None,
            tls_key_file=str(tls.key_file) if tls and tls.key_file else None,
            tls_insecure=bool(tls and tls.insecure),
            keepalive=config.keepalive,
            reconnect_min_delay=config.reconnect_min_delay,
            reconnect_max_delay=config.reconnect_max_delay,
            queue_size=config.queue_size,
        )


def configure_client(client: paho.Client, settings: MqttSettings) -> None:
    """Credentials, TLS, back-off and queue bounds common to every ocrfleet client."""
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.use_tls:
        for what, path in (
            ("CA file", settings.tls_ca_file),
            ("certificate file", settings.tls_cert_file),
            ("key file", settings.tls_key_file),
        ):
            if path is not None and not os.path.isfile(path):
                raise FileNotFoundError(f"MQTT TLS {what} {path!r} does not exist")
        client.tls_set(
            ca_certs=settings.tls_ca_file,
            certfile=settings.tls_cert_file,
            keyfile=settings.tls_key_file,
            cert_reqs=ssl.CERT_NONE if settings.tls_insecure else ssl.CERT_REQUIRED,
        )
        client.tls_insecure_set(settings.tls_insecure)
    client.reconnect_delay_set(
        min_delay=max(1, round(settings.reconnect_min_delay)),
        max_delay=max(1, round(settings.reconnect_max_delay)),
    )
    client.max_queued_messages_set(settings.queue_size)


class MqttSubscriber:
    def __init__(self, settings: MqttSettings, ingest: Ingest) -> None:
        self._settings = settings
        self._ingest = ingest
        self._connected = threading.Event()
        self.connects = 0
        self._subscribed: set[str] = set()
        # A fixed client id with a persistent session: the broker keeps QoS 1
        # session events for us while the daemon restarts.
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        configure_client(self._client, settings)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

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

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

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
        self.connects += 1
        # Subscribing again on every connect covers a broker that lost our
        # session (restarted without persistence).
        subscriptions = self._subscribe()
        self._connected.set()
        log.info(
            "connected to MQTT broker %s:%d (%d subscriptions)",
            self._settings.host,
            self._settings.port,
            len(subscriptions),
        )

    def resubscribe(self) -> None:
        """Subscribe to the current routes' topics (after a configuration reload)."""
        if self.connected:
            self._subscribe()

    def _subscribe(self) -> list[tuple[str, int]]:
        subscriptions = [(s.pattern, s.qos) for s in self._ingest.routes.subscriptions]
        stale = sorted(self._subscribed - {pattern for pattern, _ in subscriptions})
        if stale:
            self._client.unsubscribe(stale)
        if subscriptions:
            self._client.subscribe(subscriptions)
        self._subscribed = {pattern for pattern, _ in subscriptions}
        return subscriptions

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("lost MQTT connection (%s); reconnecting with back-off", reason)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        qos = message.qos
        mid = message.mid
        ack: Callable[[], None] | None = None
        if qos:

            def ack() -> None:
                client.ack(mid, qos)

        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "\ufffd"
        taken = self._ingest.handle(topic, bytes(message.payload), ack)
        if ack is not None and not taken:
            ack()
