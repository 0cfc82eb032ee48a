"""Room sensors in a running daemon, fed through a real Mosquitto.

zigbee2mqtt's payloads (tests/fixtures/zigbee2mqtt/) are published on
zigbee2mqtt's own topics, `zigbee2mqtt/<friendly_name>` and
`.../availability`, as zigbee2mqtt does; plain JSON on a counter's own topic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import load_config
from tests.support.daemon import RunningApp, Samples, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher
from tests.support.zigbee2mqtt import fixture

READING_ROOM = {"site": "lib", "device": "reading-room", "kind": "room_sensor"}
ENTRANCE = {"site": "lib", "device": "entrance", "kind": "room_sensor"}
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STATE_TOPIC = "zigbee2mqtt/Bib leeszaal PIR"


def devices(**reading_room: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": "reading-room",
            "kind": "room_sensor",
            "model": "Aqara RTCGQ11LM",
            "options": {"zigbee2mqtt": "Bib leeszaal PIR", **reading_room},
        },
        {"id": "entrance", "kind": "room_sensor", "options": {"topic": "counters/entrance"}},
    ]


def rejected(samples: Samples, reason: str) -> float | None:
    return value(samples, "ocrfleet_mqtt_messages_rejected_total", reason=reason)


def test_zigbee2mqtt_and_plain_json_reach_the_metrics(broker: Mosquitto, tmp_path: Path) -> None:
    config = site_config(broker.port, tmp_path / "s.sqlite", devices(watch_unknown=True))
    with RunningApp(config) as daemon:
        assert value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 0.0
        bridge = TestPublisher(broker.port, "zigbee2mqtt-bridge")
        try:
            # Retained, as it would be if the subscription were not in place yet.
            bridge.publish(STATE_TOPIC, fixture("aqara_RTCGQ11LM.json"), qos=0, retain=True)
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_room_sensor_occupied", **READING_ROOM) == 1.0
                ),
                what="the motion sensor's occupancy",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_device_up", **READING_ROOM) == 1.0
            assert value(samples, "ocrfleet_room_sensor_battery_ratio", **READING_ROOM) == 1.0
            assert value(samples, "ocrfleet_room_sensor_linkquality", **READING_ROOM) == 102.0

            # A people counter as zigbee2mqtt shows it, and plain JSON on a topic of its own.
            bridge.publish(STATE_TOPIC, fixture("sihas_CSM-300ZB.json"), qos=0)
            bridge.publish("counters/entrance", {"v": 1, "in": 120, "out": 117, "present": 3})
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_room_sensor_entries_total", **ENTRANCE)
                    == 120.0
                ),
                what="the counter's entries",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_room_sensor_people", **READING_ROOM) == 3.0
            assert value(samples, "ocrfleet_room_sensor_battery_ratio", **READING_ROOM) == 0.87
            assert value(samples, "ocrfleet_room_sensor_exits_total", **ENTRANCE) == 117.0
            assert value(samples, "ocrfleet_room_sensor_people", **ENTRANCE) == 3.0
            assert value(samples, "ocrfleet_room_sensor_occupied", **ENTRANCE) == 1.0
            assert value(samples, "ocrfleet_mqtt_messages_total", channel="zigbee2mqtt") == 2.0
            assert value(samples, "ocrfleet_mqtt_messages_total", channel="room") == 1.0

            # Another zigbee2mqtt device, not configured: rejected and counted, no series.
            bridge.publish("zigbee2mqtt/Keuken lamp", {"state": "ON", "linkquality": 80}, qos=0)
            # Not JSON, and wrong in a field.
            bridge.publish(STATE_TOPIC, b'{"occupancy": tru', qos=0)
            bridge.publish(STATE_TOPIC, {"occupancy": "yes", "battery": 80}, qos=0)
            bridge.publish("counters/entrance", {"v": 2, "in": 1}, qos=0)
            wait_for(
                lambda: rejected(daemon.scrape(), "unsupported_version") == 1.0,
                what="the last rejection",
            )
            samples = daemon.scrape()
            assert rejected(samples, "unknown_device") == 1.0
            assert rejected(samples, "unparsable") == 1.0
            assert rejected(samples, "invalid") == 1.0
            devices_seen = {s["device"] for s in series_of(samples, "ocrfleet_device_up")}
            assert devices_seen == {"reading-room", "entrance"}
            # The rejected messages changed nothing.
            assert value(samples, "ocrfleet_room_sensor_people", **READING_ROOM) == 3.0

            # zigbee2mqtt's availability: JSON (2.x), then the legacy plain payload.
            bridge.publish(f"{STATE_TOPIC}/availability", fixture("availability_offline.json"))
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 0.0,
                what="offline to take the sensor down",
            )
            samples = daemon.scrape()
            # Down: what it last saw is not current any more.
            assert value(samples, "ocrfleet_room_sensor_occupied", **READING_ROOM) is None
            bridge.publish(f"{STATE_TOPIC}/availability", fixture("availability_legacy_online.txt"))
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 1.0,
                what="online to bring it back",
            )
            bridge.publish(f"{STATE_TOPIC}/availability", {"state": "asleep"})
            wait_for(lambda: rejected(daemon.scrape(), "invalid") == 2.0, what="bad availability")
            assert value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 1.0
        finally:
            bridge.close()


def test_without_watch_unknown_other_zigbee_devices_are_not_even_received(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = site_config(broker.port, tmp_path / "s.sqlite", devices())
    with RunningApp(config) as daemon:
        bridge = TestPublisher(broker.port, "zigbee2mqtt-bridge")
        try:
            bridge.publish("zigbee2mqtt/Keuken lamp", {"state": "ON"}, qos=0, retain=True)
            bridge.publish(STATE_TOPIC, fixture("ikea_E1525_E1745.json"), qos=0, retain=True)
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_room_sensor_occupied", **READING_ROOM) == 0.0
                ),
                what="the IKEA sensor's state",
            )
            samples = daemon.scrape()
            assert rejected(samples, "unknown_device") == 0.0
            assert rejected(samples, "bad_topic") == 0.0
        finally:
            bridge.close()


def test_a_silent_sensor_goes_down_after_its_heartbeat_timeout(
    broker: Mosquitto, tmp_path: Path
) -> None:
    clock = ManualClock()
    config = site_config(broker.port, tmp_path / "s.sqlite", devices())
    with RunningApp(config, clock=clock) as daemon:
        bridge = TestPublisher(broker.port, "zigbee2mqtt-bridge")
        try:
            bridge.publish(STATE_TOPIC, fixture("philips_9290012607_SML001.json"), retain=True)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 1.0,
                what="up",
            )
        finally:
            bridge.close()
        # Two hours by default: an hour and a half of quiet is an empty room.
        clock.advance(5400)
        daemon.app.expire_heartbeats()
        assert value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 1.0
        clock.advance(1801)
        daemon.app.expire_heartbeats()
        assert value(daemon.scrape(), "ocrfleet_device_up", **READING_ROOM) == 0.0


def test_a_low_battery_fires_its_alert(broker: Mosquitto, tmp_path: Path) -> None:
    config = site_config(broker.port, tmp_path / "s.sqlite", devices())
    config["sites"][0]["opening_hours"] = ALWAYS_OPEN
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "rules": {"room_sensor_battery_low": {"for": 0, "threshold": 0.15}},
    }
    with RunningApp(config) as daemon:
        bridge = TestPublisher(broker.port, "zigbee2mqtt-bridge")
        try:
            bridge.publish(STATE_TOPIC, {"occupancy": False, "battery": 12}, retain=True)
            wait_for(
                lambda: any(
                    s["alertname"] == "room_sensor_battery_low" and s["device"] == "reading-room"
                    for s in series_of(daemon.scrape(), "ocrfleet_alert_firing")
                ),
                what="the battery alert",
            )
        finally:
            bridge.close()


def test_a_reload_subscribes_to_a_new_sensors_topics(broker: Mosquitto, tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with RunningApp(site_config(broker.port, store, devices())) as daemon:
        renamed = devices()
        renamed[0]["options"] = {"zigbee2mqtt": "Leeszaal beweging", "base_topic": "z2m"}
        daemon.app.reload(
            load_config(site_config(broker.port, store, renamed), daemon.catalog.kinds)
        )
        bridge = TestPublisher(broker.port, "zigbee2mqtt-bridge")
        try:
            # Retained: delivered whether or not the new subscription is in place yet.
            bridge.publish("z2m/Leeszaal beweging", fixture("aqara_RTCGQ11LM.json"), retain=True)
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_room_sensor_occupied", **READING_ROOM) == 1.0
                ),
                what="the renamed sensor's message",
            )
            subscribed = {s.pattern for s in daemon.app.routes.subscriptions}
            assert "z2m/Leeszaal beweging" in subscribed
            assert STATE_TOPIC not in subscribed
        finally:
            bridge.close()
