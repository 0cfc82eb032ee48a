"""Reading what a broker holds as the retained message of a topic."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def read_retained(port: int, topic: str, timeout: float = 5.0) -> bytes | None:
    """The retained payload of `topic`, or None when the broker holds none.

    A fresh clean-session client subscribes; the broker sends a retained
    message right after SUBACK, so a short wait after SUBACK decides "none".
    """
    got: list[bytes] = []
    received = threading.Event()
    subscribed = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, clean_session=True)

    def on_connect(c: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        c.subscribe(topic, qos=1)

    def on_subscribe(c: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        subscribed.set()

    def on_message(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.retain:
            got.append(bytes(message.payload))
            received.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        if not subscribed.wait(timeout):
            raise AssertionError(f"could not subscribe to {topic!r}")
        received.wait(0.5)
    finally:
        client.disconnect()
        client.loop_stop()
    return got[-1] if got else None
