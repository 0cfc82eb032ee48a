"""A simulated room sensor for the demo fleet.

A zigbee sensor publishes what zigbee2mqtt publishes for it, on
zigbee2mqtt's own topics: its state as JSON on `<base_topic>/<friendly_name>`
when something changes (and about hourly, as the sensors check in), and its
availability `{"state": "online"}`, retained, on `.../availability`. A
sensor with a `topic` publishes plain JSON there, with running in and out
totals. Visitors come while the site is open; the motion sensor's battery
runs down, so the battery alert shows in the demo.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import zlib
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ocrfleet.plugin import DeviceInfo, SimulationContext
from ocrfleet_rooms.options import RoomSensorOptions

TICK = 60.0  # simulated seconds between looks at the room
CHECK_IN = 3000.0  # simulated seconds between unchanged reports, as an Aqara does


class SimulatedSensor:
    def __init__(
        self, device: DeviceInfo, options: RoomSensorOptions, context: SimulationContext
    ) -> None:
        self._context = context
        self._zigbee = options.zigbee2mqtt is not None
        if options.zigbee2mqtt is not None:
            self._topic = f"{options.base_topic}/{options.zigbee2mqtt}"
        else:
            self._topic = options.topic or f"{context.topic_root}/{device.site}/{device.id}/room"
        self._client_id = f"ocrfleet-demo-z2m-{device.site}-{device.id}"
        self._rng = random.Random(context.random_seed ^ zlib.crc32(str(device.key).encode()))
        model = device.model
        self._counter = "CSM-300" in model
        self._presence = "FP1" in model
        # A mmWave sensor runs on mains; the motion sensor's battery is nearly spent.
        self._battery: float | None = None if self._presence else self._rng.uniform(60, 95)
        self._drain = 0.001  # percent per simulated minute
        if "RTCGQ11LM" in model:
            self._battery, self._drain = 21.0, 0.02
        self._people = 0
        self._entries = self._rng.randint(1000, 5000)
        self._exits = self._entries
        self._last: dict[str, Any] = {}
        self._last_sent = 0.0

    async def run(self) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self._client_id)
        connected = threading.Event()
        client.on_connect = lambda *_: connected.set()
        client.reconnect_delay_set(1, 10)
        client.connect_async(self._context.mqtt_host, self._context.mqtt_port, keepalive=30)
        client.loop_start()
        try:
            # paho drops a QoS 0 message published before the connection is up.
            await asyncio.to_thread(connected.wait, 10)
            if self._zigbee:
                online = json.dumps({"state": "online"})
                client.publish(f"{self._topic}/availability", online, qos=1, retain=True)
            while True:
                self._tick(client)
                await asyncio.sleep(max(0.2, TICK / self._context.speedup))
        finally:
            client.disconnect()
            client.loop_stop()

    def _tick(self, client: paho.Client) -> None:
        now = self._context.now()
        state = self._state(now)
        if state != self._last or now - self._last_sent >= CHECK_IN:
            # linkquality changes on every message, as a real one does.
            extra = {"linkquality": self._rng.randint(60, 180)} if self._zigbee else {"v": 1}
            client.publish(self._topic, json.dumps({**state, **extra}), qos=0)
            self._last, self._last_sent = state, now

    def _state(self, now: float) -> dict[str, Any]:
        open_now = self._context.site_open(now)
        if not open_now:
            # Everybody leaves at closing time.
            self._exits += self._people
            self._people = 0
        elif self._rng.random() < 0.3:
            step = self._rng.choice((-1, 1, 1)) if self._people < 12 else -1
            if self._people + step >= 0:
                self._people += step
                self._entries += step > 0
                self._exits += step < 0
        state: dict[str, Any]
        if not self._zigbee:
            state = {"in": self._entries, "out": self._exits, "present": self._people}
        elif self._counter:
            state = {"people": self._people, "status": "idle"}
        elif self._presence:
            state = {"presence": self._people > 0, "device_temperature": 24}
        else:
            state = {"occupancy": self._people > 0, "illuminance": 300 if open_now else 5}
        if self._battery is not None:
            self._battery = max(1.0, self._battery - self._rng.uniform(0, 2 * self._drain))
            state["battery"] = round(self._battery)
        return state
