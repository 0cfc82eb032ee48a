"""The room sensor plugin without a broker: payloads, options, routes, card and rules.

The zigbee2mqtt payloads are tests/fixtures/zigbee2mqtt/ (see its README:
property names and types from zigbee-herdsman-converters' definitions).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from ocrfleet.alerts.context import build_context
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.mqtt.routes import RouteTable, topic_matches
from ocrfleet.plugin import Finding, MqttTopic, PayloadError
from ocrfleet.state import Availability, FleetState
from ocrfleet_rooms.kind import RoomSensorKind
from ocrfleet_rooms.parse import parse_plain, parse_zigbee2mqtt
from ocrfleet_rooms.reading import RoomReading
from ocrfleet_rooms.rules import BatteryLowSettings, RoomSensorBatteryLowRule
from tests.support.daemon import catalog
from tests.support.rules import findings
from tests.support.words import dutch, english
from tests.support.zigbee2mqtt import fixture

KINDS = catalog().kinds
# A Monday at 10:00 in Brussels: the test site is open.
MONDAY_OPEN = datetime(2027, 3, 1, 9, 0, tzinfo=UTC).timestamp()


# -- zigbee2mqtt payloads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aqara_RTCGQ11LM.json", RoomReading(True, None, None, None, 100.0, 102)),
        ("ikea_E1525_E1745.json", RoomReading(False, None, None, None, 74.0, 87)),
        ("philips_9290012607_SML001.json", RoomReading(True, None, None, None, 100.0, 138)),
        ("aqara_RTCZCGQ11LM_FP1.json", RoomReading(True, None, None, None, None, 120)),
        ("tuya_TS0601_ZY-M100.json", RoomReading(False, None, None, None, None, 156)),
        ("sihas_CSM-300ZB.json", RoomReading(True, 3, None, None, 87.0, 98)),
        ("after_restart_nulls.json", RoomReading(True, None, None, None, None, None)),
    ],
)
def test_zigbee2mqtt_payloads_of_common_sensors(name: str, expected: RoomReading) -> None:
    assert parse_zigbee2mqtt(fixture(name)) == expected


def test_a_counter_with_nobody_left_says_the_room_is_free() -> None:
    assert parse_zigbee2mqtt(b'{"people": 0, "status": "out"}').occupied is False


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        (b'{"occupancy": true', "unparsable", "not JSON"),
        (b"\xff\xfe", "unparsable", "not JSON"),
        (b"[true]", "invalid", "payload: a JSON object is expected"),
        (b"[" * 100_000, "unparsable", "not JSON"),
        (b'{"occupancy": "yes"}', "invalid", "occupancy: true or false is expected"),
        (b'{"presence": 1}', "invalid", "presence: true or false is expected"),
        (b'{"occupancy": true, "battery": 120}', "invalid", "battery: a number 0-100"),
        (b'{"occupancy": true, "battery": "87"}', "invalid", "battery: a number 0-100"),
        (b'{"occupancy": true, "linkquality": 300}', "invalid", "linkquality: a number 0-255"),
        (b'{"people": 2.5}', "invalid", "people: a whole number"),
        (b'{"people": -1}', "invalid", "people: a number 0-"),
    ],
)
def test_bad_zigbee2mqtt_payloads_are_rejected_with_the_field(
    payload: bytes, reason: str, detail: str
) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_zigbee2mqtt(payload)
    assert raised.value.reason == reason
    assert raised.value.detail.startswith(detail)


# -- plain JSON ------------------------------------------------------------------------------


def test_plain_json_of_a_people_counter() -> None:
    payload = b'{"v": 1, "in": 1234, "out": 1230, "present": 4, "battery": 80, "serial": "X"}'
    assert parse_plain(payload) == RoomReading(True, 4, 1234, 1230, 80.0, None)


def test_plain_json_of_a_presence_sensor() -> None:
    assert parse_plain(b'{"occupied": false}') == RoomReading(occupied=False)


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        (b"occupied", "unparsable", "not JSON"),
        (b'{"battery": 80}', "invalid", "payload: none of occupied, present, in, out"),
        (b'{"v": 2, "occupied": true}', "unsupported_version", "v: 2"),
        (b'{"in": -3}', "invalid", "in: a number 0-"),
        (b'{"out": 1.5}', "invalid", "out: a whole number"),
        (b'{"occupied": "no"}', "invalid", "occupied: true or false"),
    ],
)
def test_bad_plain_json_is_rejected(payload: bytes, reason: str, detail: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_plain(payload)
    assert (raised.value.reason, raised.value.detail[: len(detail)]) == (reason, detail)


# -- options ---------------------------------------------------------------------------------


def _config(*options: dict[str, Any]) -> dict[str, Any]:
    devices = [
        {"id": f"sensor-{n}", "kind": "room_sensor", "options": o} for n, o in enumerate(options)
    ]
    return {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": "lib",
                "name": "Library",
                "village_core": "Testdorp",
                "opening_hours": {"mon": ["09:00-17:00"]},
                "devices": devices,
            }
        ],
    }


def _loaded(*options: dict[str, Any]) -> LoadedConfig:
    return load_config(_config(*options), KINDS)


@pytest.mark.parametrize(
    ("options", "key", "problem"),
    [
        ({"zigbee2mqtt": "a", "topic": "b"}, "topic", "give either zigbee2mqtt"),
        ({"base_topic": "z2m"}, "base_topic", "base_topic is only for a zigbee2mqtt sensor"),
        ({"topic": "counters/#"}, "topic", "topic must be a topic name, without"),
        ({"zigbee2mqtt": "Hall +"}, "zigbee2mqtt", "a friendly name must be a topic name"),
        ({"heartbeat_timeout": 0}, "heartbeat_timeout", "Input should be greater than 0"),
        ({"heartbeat_timeout": "soon"}, "heartbeat_timeout", "'soon' is not a duration"),
        ({"watch_unknown": True}, "watch_unknown", "watch_unknown is only for a zigbee2mqtt"),
        ({"friendly_name": "Hall"}, "friendly_name", "unknown key"),
    ],
)
def test_bad_options_name_their_key(options: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _loaded(options)
    [(where, message)] = raised.value.problems
    assert where == f"sites[0].devices[0].options.{key}"
    assert problem in message


def test_heartbeat_timeout_defaults_to_two_hours() -> None:
    loaded = _loaded({"zigbee2mqtt": "Hall"}, {"zigbee2mqtt": "Hall 2", "heartbeat_timeout": "4h"})
    kind = KINDS["room_sensor"]
    assert [kind.heartbeat_timeout(d.options) for d in loaded.devices] == [7200.0, 14400.0]


# -- routes ----------------------------------------------------------------------------------


def test_zigbee2mqtt_devices_are_routed_by_friendly_name() -> None:
    loaded = _loaded(
        {"zigbee2mqtt": "Bib leeszaal PIR"},
        {"zigbee2mqtt": "bib/lesruimte", "base_topic": "z2m"},
        {"topic": "counters/entrance"},
        {},
    )
    routes = RouteTable("ocrfleet", loaded.devices, KINDS)
    by_topic = {topic: (str(r.key), r.channel) for topic, r in routes.routes.items()}
    assert by_topic["zigbee2mqtt/Bib leeszaal PIR"] == ("lib/sensor-0", "zigbee2mqtt")
    assert by_topic["zigbee2mqtt/Bib leeszaal PIR/availability"] == ("lib/sensor-0", "availability")
    assert by_topic["z2m/bib/lesruimte"] == ("lib/sensor-1", "zigbee2mqtt")
    assert by_topic["counters/entrance"] == ("lib/sensor-2", "room")
    # Every device keeps the topics of ocrfleet's own layout.
    assert by_topic["ocrfleet/lib/sensor-3/room"] == ("lib/sensor-3", "room")
    patterns = {s.pattern: s.qos for s in routes.subscriptions}
    assert patterns == {
        "ocrfleet/+/+/availability": 1,
        "ocrfleet/+/+/room": 0,
        "ocrfleet/+/+/zigbee2mqtt": 0,
        "zigbee2mqtt/Bib leeszaal PIR": 0,
        "zigbee2mqtt/Bib leeszaal PIR/availability": 1,
        "z2m/bib/lesruimte": 0,
        "z2m/bib/lesruimte/availability": 1,
        "counters/entrance": 0,
    }
    assert routes.classify_unrouted("zigbee2mqtt/Kitchen light") == "bad_topic"
    assert routes.classify_unrouted("ocrfleet/lib/nobody/room") == "unknown_device"
    assert routes.classify_unrouted("ocrfleet/lib/sensor-0/weather") == "unknown_channel"


def test_watch_unknown_subscribes_to_the_base_topic_once() -> None:
    loaded = _loaded(
        {"zigbee2mqtt": "Hall", "watch_unknown": True},
        {"zigbee2mqtt": "Lobby", "watch_unknown": True},
    )
    routes = RouteTable("ocrfleet", loaded.devices, KINDS)
    patterns = [s.pattern for s in routes.subscriptions]
    # The exact topics under the watched filter are not subscribed twice.
    assert "zigbee2mqtt/+" in patterns
    assert "zigbee2mqtt/Hall" not in patterns and "zigbee2mqtt/Lobby" not in patterns
    assert "zigbee2mqtt/Hall/availability" in patterns
    assert routes.routes["zigbee2mqtt/Hall"].channel == "zigbee2mqtt"
    assert routes.classify_unrouted("zigbee2mqtt/Kitchen light") == "unknown_device"
    assert routes.classify_unrouted("zigbee2mqtt/bridge/state") == "bad_topic"


def test_two_devices_on_one_topic_keep_the_first() -> None:
    loaded = _loaded({"topic": "counters/door"}, {"topic": "counters/door"})
    routes = RouteTable("ocrfleet", loaded.devices, KINDS)
    assert str(routes.routes["counters/door"].key) == "lib/sensor-0"


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("zigbee2mqtt/+", "zigbee2mqtt/Hall", True),
        ("zigbee2mqtt/+", "zigbee2mqtt/Hall/availability", False),
        ("zigbee2mqtt/#", "zigbee2mqtt/Hall/availability", True),
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b", False),
        ("a/b", "a/b", True),
    ],
)
def test_topic_filters(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches


# -- card and rules --------------------------------------------------------------------------


def _state(loaded: LoadedConfig, reading: RoomReading, at: float) -> FleetState:
    state = FleetState(loaded.devices, {d.key: 7200.0 for d in loaded.devices})
    for device in loaded.devices:
        state.record_reading(device.key, reading, at)
    return state


def test_the_card_says_occupied_people_and_battery() -> None:
    loaded = _loaded({"zigbee2mqtt": "Inkom"})
    state = _state(loaded, RoomReading(True, 3, None, None, 15.0, 90), MONDAY_OPEN)
    view = state.snapshot(MONDAY_OPEN).devices[0]
    card = RoomSensorKind().status_card(view)
    assert [dutch(f) for f in card.facts] == ["Bezet", "3 personen aanwezig"]
    assert [english(f) for f in card.facts] == ["Occupied", "3 people present"]
    assert card.tone == "warning"
    assert dutch(card.condition) == "Batterij zwak — houd een nieuwe klaar"
    [gauge] = card.gauges
    assert gauge.ratio == 0.15 and english(gauge.note) == "15% left"


def test_the_card_of_a_silent_sensor_keeps_the_battery_only() -> None:
    loaded = _loaded({"zigbee2mqtt": "Inkom"})
    state = _state(loaded, RoomReading(False, None, None, None, 4.0, 90), MONDAY_OPEN)
    state.record_availability(DeviceKey("lib", "sensor-0"), Availability.OFFLINE, MONDAY_OPEN)
    card = RoomSensorKind().status_card(state.snapshot(MONDAY_OPEN).devices[0])
    assert card.facts == () and card.tone == "critical" and len(card.gauges) == 1


def _findings(
    state: FleetState, loaded: LoadedConfig, settings: BatteryLowSettings
) -> list[Finding]:
    context = build_context(state, loaded, KINDS, LedgerView(), MONDAY_OPEN)
    rule = RoomSensorBatteryLowRule()
    return findings(rule.evaluate(context, settings))


def test_low_battery_finding_in_dutch_and_english() -> None:
    loaded = _loaded({"zigbee2mqtt": "Inkom"})
    state = _state(loaded, RoomReading(True, None, None, None, 12.0, 90), MONDAY_OPEN)
    [finding] = _findings(state, loaded, BatteryLowSettings())
    assert finding.subject == "lib/sensor-0"
    assert finding.labels == {
        "site": "lib",
        "device": "sensor-0",
        "kind": "room_sensor",
        "category": "hardware",
    }
    assert english(finding.summary) == "Room sensor sensor-0: battery at 12% — replace it"
    assert dutch(finding.summary) == "Ruimtesensor sensor-0: batterij op 12 % — vervang ze"
    assert finding.detail == "battery 12%, low at 20%"
    # The threshold is a setting; above it, nothing.
    assert _findings(state, loaded, BatteryLowSettings(threshold=0.1)) == []


def test_no_battery_finding_for_a_sensor_that_is_down() -> None:
    loaded = _loaded({"zigbee2mqtt": "Inkom"})
    state = _state(loaded, RoomReading(True, None, None, None, 12.0, 90), MONDAY_OPEN)
    state.record_availability(DeviceKey("lib", "sensor-0"), Availability.OFFLINE, MONDAY_OPEN)
    assert _findings(state, loaded, BatteryLowSettings()) == []


def test_silence_is_the_down_rule_and_only_while_open() -> None:
    loaded = _loaded({"zigbee2mqtt": "Inkom"})
    rules = catalog().rules
    down = rules["room_sensor_down"]
    state = _state(loaded, RoomReading(occupied=True), MONDAY_OPEN - 3 * 3600)
    state.expire_heartbeats(MONDAY_OPEN)
    open_context = build_context(state, loaded, KINDS, LedgerView(), MONDAY_OPEN)
    [finding] = findings(down.evaluate(open_context, down.settings_model()))
    assert english(finding.summary) == "Room sensor sensor-0 is silent"
    assert dutch(finding.summary) == "Ruimtesensor sensor-0 zwijgt"
    night = MONDAY_OPEN + 12 * 3600
    closed = build_context(state, loaded, KINDS, LedgerView(), night)
    assert list(down.evaluate(closed, down.settings_model())) == []


class _MistakenKind(RoomSensorKind):
    """A kind naming a topic for a channel it does not have."""

    def mqtt_topics(self, options: Any) -> Sequence[MqttTopic]:
        return (MqttTopic("weather", "sensors/hall"), MqttTopic("room", "sensors/lobby"))


def test_a_topic_for_a_channel_the_kind_lacks_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    loaded = _loaded({})
    routes = RouteTable("ocrfleet", loaded.devices, {"room_sensor": _MistakenKind()})
    assert "sensors/hall" not in routes.routes
    assert routes.routes["sensors/lobby"].channel == "room"
    assert "names topic 'sensors/hall' for channel 'weather'" in caplog.text


@pytest.mark.parametrize("sensor_first", [True, False])
def test_a_topic_naming_another_device_stays_that_devices_in_either_order(
    sensor_first: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # One sensor's topic is the other's own layout topic for the "room" channel.
    owner = "lib/sensor-1" if sensor_first else "lib/sensor-0"
    claiming = {"topic": f"ocrfleet/{owner}/room"}
    loaded = _loaded(claiming, {}) if sensor_first else _loaded({}, claiming)
    routes = RouteTable("ocrfleet", loaded.devices, KINDS)
    assert str(routes.routes[f"ocrfleet/{owner}/room"].key) == owner
    assert "already device" in caplog.text


class _BrokenKind(RoomSensorKind):
    """A kind whose plugin fails naming its topics."""

    def mqtt_topics(self, options: Any) -> Sequence[MqttTopic]:
        raise RuntimeError("a bug in the plugin")


def test_a_kind_failing_to_name_its_topics_keeps_the_layout_routes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loaded = _loaded({"topic": "counters/door"})
    routes = RouteTable("ocrfleet", loaded.devices, {"room_sensor": _BrokenKind()})
    assert "counters/door" not in routes.routes
    assert routes.routes["ocrfleet/lib/sensor-0/room"].channel == "room"
    assert "failed naming the MQTT topics of lib/sensor-0" in caplog.text
