"""A plain paho client for tests that play an agent or an intruder."""

from __future__ import annotations

import json
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


class TestPublisher:
    __test__ = False

    def __init__(
        self, port: int, client_id: str = "test-publisher", will: str | None = None
    ) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        if will:
            self.client.will_set(will, "offline", qos=1, retain=True)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def publish(
        self, topic: str, payload: bytes | str | dict[str, Any], qos: int = 1, retain: bool = False
    ) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """Vanish without DISCONNECT, so the broker publishes the Last Will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()


def health(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "v": 1,
        "ts": 1_800_000_000.0,
        "cpu_ratio": 0.25,
        "memory_used_ratio": 0.5,
        "disk_free_bytes": 50_000_000_000,
        "uptime_seconds": 3600.0,
        "os": "Windows 11 Pro 23H2",
        "agent_version": "0.1.0",
        "frozen": True,
        "eid_reader_present": True,
    }
    payload.update(overrides)
    return payload
