"""A paho client with ocrfleet's connection habits, shared by the daemon and the agent.

Fixed client id and a persistent session (the broker keeps QoS 1 messages
across a reconnect), credentials and TLS, capped reconnect back-off, a
bounded outgoing queue, and a `connected` flag other threads can wait on.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from ocrfleet.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)


def configure_client(client: paho.Client, settings: MqttSettings) -> None:
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


class MqttConnection:
    """Subclasses act in `_connected_now`, called on the network thread at every connect."""

    def __init__(self, settings: MqttSettings, *, manual_ack: bool = False) -> None:
        self._settings = settings
        self._connected = threading.Event()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=manual_ack,
        )
        configure_client(self._client, settings)
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

    def _disconnect(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def _connected_now(self, client: paho.Client) -> None:
        """Called at every successful connect, before `connected` is set."""

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
        self._connected_now(client)
        self._connected.set()

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
