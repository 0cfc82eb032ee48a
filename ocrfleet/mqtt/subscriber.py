"""The daemon's MQTT connection, driven by paho directly.

paho's own network thread reads, parses and calls back; ingest runs right in
that callback. A hop to the asyncio loop per message would cost more than the
ingest itself at fleet-wide rates.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as paho

from ocrfleet.mqtt.connection import MqttConnection
from ocrfleet.mqtt.ingest import Ingest
from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet.store.sequencer import StreamKey

log = logging.getLogger(__name__)

ACK = "ack"
# A flood of re-sent duplicates re-announces an unchanged position at most
# this often per stream; a position that moved is announced at once.
_REPEAT_ACK_AFTER = 5.0


class MqttSubscriber(MqttConnection):
    def __init__(self, settings: MqttSettings, ingest: Ingest) -> None:
        # manual_ack: a session event is acknowledged only once stored.
        super().__init__(settings, manual_ack=True)
        self._ingest = ingest
        self.connects = 0
        self._subscribed: set[str] = set()
        # `connected` for the daemon means subscribed: between CONNACK and
        # SUBACK the broker drops what agents publish, as no one subscribes yet.
        self._ready = threading.Event()
        # The SUBSCRIBE whose SUBACK makes the daemon ready. A reload
        # subscribes from another thread than paho's: the lock keeps a
        # subscribe and the recording of its mid together, so the SUBACK
        # is never checked against a stale or half-written mid.
        self._ready_mid: int | None = None
        self._subscribe_lock = threading.Lock()
        self._announced: dict[StreamKey, tuple[int, float]] = {}
        self._announce_lock = threading.Lock()
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until connected and the broker has acknowledged the subscriptions."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._disconnect()
        self._ready.clear()

    def _connected_now(self, client: paho.Client) -> None:
        self.connects += 1
        with self._subscribe_lock:
            self._ready.clear()
            # Subscribing again on every connect covers a broker that lost our
            # session (restarted without persistence).
            subscriptions, self._ready_mid = self._subscribe()
            if not subscriptions:
                self._ready.set()
        log.info(
            "connected to MQTT broker %s:%d (%d subscriptions)",
            self._settings.host,
            self._settings.port,
            len(subscriptions),
        )

    def acknowledge(self, positions: Mapping[StreamKey, int]) -> None:
        """Tell each agent how far its stream is committed (interface version 2).

        Retained, so an agent that connects later still learns it. Called on
        the store writer's thread, after the commit.
        """
        root = self._ingest.routes.root
        now = time.monotonic()
        with self._announce_lock:
            for stream_key, seq in positions.items():
                last = self._announced.get(stream_key)
                if last is not None and last[0] == seq and now - last[1] < _REPEAT_ACK_AFTER:
                    continue
                self._announced[stream_key] = (seq, now)
                key, stream = stream_key
                payload = json.dumps({"v": 2, "stream": stream, "seq": seq})
                self._client.publish(
                    f"{root}/{key.site}/{key.device}/{ACK}", payload, qos=1, retain=True
                )

    def resubscribe(self) -> None:
        """Subscribe to the current routes' topics (after a configuration reload)."""
        with self._subscribe_lock:
            # The link, not readiness: a reload between CONNACK and SUBACK
            # (or while the broker refuses every subscription) must still
            # subscribe to the new routes. Paho counts as connected before
            # it calls _connected_now, which then subscribes under this lock.
            if not self._client.is_connected():
                return
            subscriptions, mid = self._subscribe()
            if not self._ready.is_set():
                # Not ready yet: the newest subscriptions are the ones to wait for.
                self._ready_mid = mid
                if not subscriptions:
                    self._ready.set()

    def _subscribe(self) -> tuple[list[tuple[str, int]], int | None]:
        """Subscribe to the current routes; returns them and the SUBSCRIBE's mid."""
        subscriptions = [(s.pattern, s.qos) for s in self._ingest.routes.subscriptions]
        stale = sorted(self._subscribed - {pattern for pattern, _ in subscriptions})
        if stale:
            self._client.unsubscribe(stale)
        mid: int | None = None
        if subscriptions:
            _, mid = self._client.subscribe(subscriptions)
        self._subscribed = {pattern for pattern, _ in subscriptions}
        return subscriptions, mid

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: list[Any], properties: Any
    ) -> None:
        with self._subscribe_lock:
            if mid != self._ready_mid:
                return
            refused = sum(1 for reason in reasons if reason.is_failure)
            if refused:
                log.error(
                    "MQTT broker %s:%d refused %d of %d subscriptions (see its ACL)",
                    self._settings.host,
                    self._settings.port,
                    refused,
                    len(reasons),
                )
            # With every subscription refused nothing arrives: the daemon is
            # not connected in any sense that matters, and stays so until a
            # reload or a reconnect subscribes again.
            if refused < len(reasons):
                self._ready.set()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._ready.clear()
        super()._on_disconnect(client, userdata, flags, reason, properties)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "\ufffd"
        # A no-op on the bytes paho gives; its type also allows a bytearray.
        payload = bytes(message.payload)
        qos = message.qos
        if not qos:
            # Every health report comes this way: nothing to acknowledge.
            self._ingest.handle(topic, payload, None)
            return
        mid = message.mid

        def ack() -> None:
            client.ack(mid, qos)

        if not self._ingest.handle(topic, payload, ack):
            ack()
