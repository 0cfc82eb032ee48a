"""The Home Assistant integration against a real Mosquitto: discovery, availability, states.

Every discovery config the daemon publishes is also checked against Home
Assistant's documented schema (tests/support/homeassistant.py);
test_homeassistant_live.py checks them with Home Assistant itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ocrfleet.config.errors import ConfigError
from ocrfleet.plugin import DeviceKey, Gauge, StatusCard
from ocrfleet.services import service_options
from ocrfleet_homeassistant.entities import Topics, bars_of, object_bases, slug
from ocrfleet_homeassistant.service import HomeAssistantType
from tests.support.daemon import RunningApp, catalog
from tests.support.homeassistant import (
    DEVICES,
    SCHEMAS,
    TANK_PLUGIN,
    RetainedWatcher,
    discovery_configs,
    ha_config,
)
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.retained import read_retained

ROOT = "ocrfleet-homeassistant/ocrfleet"
TANK_STATE = f"{ROOT}/device/lib/tank-1/state"


def _state(watcher: RetainedWatcher, topic: str) -> dict[str, Any] | None:
    payload = watcher.get(topic)
    return json.loads(payload) if payload else None


def _check_schema(configs: dict[str, dict[str, Any]]) -> None:
    for topic, config in configs.items():
        component = topic.split("/")[1]
        SCHEMAS[component].model_validate(config)


def test_devices_appear_with_valid_configs_and_follow_changes(
    broker: Mosquitto, tmp_path: Path
) -> None:
    watcher = RetainedWatcher(broker.port)
    config = ha_config(broker.port, tmp_path / "s.sqlite", DEVICES)
    try:
        with RunningApp(config, catalog(TANK_PLUGIN)):
            watcher.wait(lambda: watcher.get(f"{ROOT}/availability") == b"online", "online")
            watcher.wait(lambda: len(discovery_configs(watcher)) == 7, "first configs")
            configs = discovery_configs(watcher)
            assert set(configs) == {
                "homeassistant/sensor/ocrfleet/alerts_firing/config",
                "homeassistant/sensor/ocrfleet/site_lib_seats_in_use/config",
                "homeassistant/sensor/ocrfleet/site_lib_alerts_firing/config",
                "homeassistant/binary_sensor/ocrfleet/lib_tank-1_connectivity/config",
                "homeassistant/sensor/ocrfleet/lib_tank-1_condition/config",
                "homeassistant/binary_sensor/ocrfleet/lib_pc-01_connectivity/config",
                "homeassistant/sensor/ocrfleet/lib_pc-01_condition/config",
            }
            # Retained: a Home Assistant that subscribes later gets them all.
            assert all(read_retained(broker.port, t) for t in configs)
            _check_schema(configs)
            tank = configs["homeassistant/binary_sensor/ocrfleet/lib_tank-1_connectivity/config"]
            assert tank["device"] == {
                "identifiers": ["ocrfleet_ocrfleet_lib_tank-1"],
                "name": "tank-1 (Library)",
                "model": "T-100",
                "suggested_area": "Library",
                "via_device": "ocrfleet_ocrfleet",
            }
            assert tank["device_class"] == "connectivity"
            assert tank["unique_id"] == "ocrfleet:ocrfleet:lib:tank-1:connectivity"
            assert tank["origin"]["name"] == "ocrfleet"
            assert tank["availability"] == [{"topic": f"{ROOT}/availability"}]
            state = _state(watcher, TANK_STATE)
            assert state is not None and state["up"] is False
            assert _state(watcher, f"{ROOT}/site/lib/state") == {
                "alerts_firing": 0,
                "seats": 1,
                "seats_in_use": 0,
            }

            # A reading brings the card's bars: two more sensors, and the state.
            watcher.publish("ocrfleet/lib/tank-1/availability", "online", retain=True)
            watcher.publish("ocrfleet/lib/tank-1/level", "0.42")
            watcher.wait(lambda: len(discovery_configs(watcher)) == 9, "bar configs")
            configs = discovery_configs(watcher)
            _check_schema(configs)
            toner = configs["homeassistant/sensor/ocrfleet/lib_tank-1_toner_black/config"]
            assert toner["unit_of_measurement"] == "%"
            assert toner["state_class"] == "measurement"
            assert toner["availability_mode"] == "all"
            assert toner["value_template"] == "{{ value_json.bars.get('toner_black') }}"
            assert "homeassistant/sensor/ocrfleet/lib_tank-1_waste_box/config" in configs
            watcher.wait(lambda: (_state(watcher, TANK_STATE) or {}).get("up") is True, "up")
            state = _state(watcher, TANK_STATE)
            assert state == {
                "up": True,
                "availability": "online",
                "condition": "No problem",
                "tone": "ok",
                "bars": {"toner_black": 42.0, "waste_box": 58.0},
                "facts": ["Ready"],
            }
            assert read_retained(broker.port, TANK_STATE)

            # A change of the device changes its state; going offline makes it down.
            watcher.publish("ocrfleet/lib/tank-1/level", "0.05")
            watcher.wait(
                lambda: (_state(watcher, TANK_STATE) or {}).get("condition") == "Almost empty",
                "condition",
            )
            watcher.publish("ocrfleet/lib/tank-1/availability", "offline", retain=True)
            watcher.wait(lambda: (_state(watcher, TANK_STATE) or {}).get("up") is False, "down")
            assert _state(watcher, TANK_STATE)["availability"] == "offline"  # type: ignore[index]

            # Home Assistant's birth message brings back a config it lost.
            lost = "homeassistant/sensor/ocrfleet/lib_tank-1_toner_black/config"
            watcher.publish(lost, b"", retain=True)
            watcher.wait(lambda: not watcher.get(lost), "config removed by hand")
            watcher.publish("homeassistant/status", "online")
            watcher.wait(lambda: bool(watcher.get(lost)), "config published again")
        # A clean stop says offline itself.
        watcher.wait(lambda: watcher.get(f"{ROOT}/availability") == b"offline", "offline")
        # Configs stay: Home Assistant shows the entities unavailable, not gone.
        assert len(discovery_configs(watcher)) == 9
    finally:
        watcher.close()


def test_configs_of_devices_gone_since_the_last_run_are_removed_at_start(
    broker: Mosquitto, tmp_path: Path
) -> None:
    watcher = RetainedWatcher(broker.port)
    stale = "homeassistant/binary_sensor/ocrfleet/lib_pc-99_connectivity/config"
    stale_site = "homeassistant/sensor/ocrfleet/site_old_alerts_firing/config"
    foreign = "homeassistant/binary_sensor/zigbee2mqtt/0x00158d_occupancy/config"
    watcher.publish(stale, json.dumps({"state_topic": f"{ROOT}/device/lib/pc-99/state"}), True)
    watcher.publish(stale_site, json.dumps({"state_topic": f"{ROOT}/site/old/state"}), True)
    watcher.publish(foreign, json.dumps({"state_topic": "zigbee2mqtt/x"}), retain=True)
    config = ha_config(broker.port, tmp_path / "s.sqlite", [{"id": "pc-01", "kind": "pc"}])
    try:
        with RunningApp(config):
            watcher.wait(lambda: not watcher.get(stale), "stale device config removed")
            watcher.wait(lambda: not watcher.get(stale_site), "stale site config removed")
            assert watcher.get(foreign)
            assert watcher.get("homeassistant/binary_sensor/ocrfleet/lib_pc-01_connectivity/config")
    finally:
        watcher.close()


def _start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocrfleet", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_reload_removes_a_device_and_a_kill_leaves_the_last_will(
    broker: Mosquitto, tmp_path: Path
) -> None:
    two = [{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}]
    data = ha_config(broker.port, tmp_path / "s.sqlite", two, node_id="lib-daemon")
    data["http"]["port"] = free_port()
    config = tmp_path / "ocrfleet.toml"
    config.write_text(tomli_w.dumps(data))
    watcher = RetainedWatcher(broker.port)
    availability = "ocrfleet-homeassistant/lib-daemon/availability"
    gone = "homeassistant/binary_sensor/lib-daemon/lib_pc-02_connectivity/config"
    gone_state = "ocrfleet-homeassistant/lib-daemon/device/lib/pc-02/state"
    kept = "homeassistant/binary_sensor/lib-daemon/lib_pc-01_connectivity/config"
    daemon = _start(config)
    try:
        watcher.wait(lambda: watcher.get(availability) == b"online", "online")
        watcher.wait(lambda: bool(watcher.get(gone) and watcher.get(gone_state)), "configs")
        data["sites"][0]["devices"] = two[:1]
        config.write_text(tomli_w.dumps(data))
        daemon.send_signal(signal.SIGHUP)
        watcher.wait(lambda: watcher.get(gone) == b"", "config of the removed device emptied")
        watcher.wait(lambda: watcher.get(gone_state) == b"", "state of the removed device emptied")
        assert watcher.get(kept)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        # No clean stop: the broker publishes the connection's last will.
        watcher.wait(lambda: watcher.get(availability) == b"offline", "last will")
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.communicate()
        watcher.close()


# -- without a broker --------------------------------------------------------


def test_options_errors_name_the_key() -> None:
    types = {"homeassistant": HomeAssistantType()}
    with pytest.raises(ConfigError) as caught:
        service_options(
            {"homeassistant": {"node_id": "a/b", "state_interval": 1, "colour": "x"}}, types
        )
    lines = caught.value.render().splitlines()
    assert any(line.startswith("integrations.homeassistant.node_id: ") for line in lines)
    assert any(line.startswith("integrations.homeassistant.state_interval: ") for line in lines)
    assert "integrations.homeassistant.colour: unknown key" in lines
    with pytest.raises(ConfigError, match=r"integrations.homeasistant: unknown integration"):
        service_options({"homeasistant": {}}, types)
    options = service_options({"homeassistant": {"state_interval": "10m"}}, types)
    assert options["homeassistant"].enabled is False  # opt-in


def test_a_bad_integration_table_stops_the_daemon_with_the_key_and_no_traceback(
    broker: Mosquitto, tmp_path: Path
) -> None:
    data = ha_config(broker.port, tmp_path / "s.sqlite", [], discovery_prefix="home/+")
    config = tmp_path / "ocrfleet.toml"
    config.write_text(tomli_w.dumps(data))
    for command in ("run", "check-config"):
        result = subprocess.run(
            [sys.executable, "-m", "ocrfleet", command, "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        output = result.stdout + result.stderr
        assert "integrations.homeassistant.discovery_prefix: " in output
        assert "Traceback" not in output


def test_bar_keys_and_topics_are_stable() -> None:
    card = StatusCard(gauges=(Gauge("Black toner", 0.5, key="toner_black"), Gauge("Tray 1", None)))
    bars = bars_of(card, str, str)
    assert [(b.key, b.ratio) for b in bars] == [("toner_black", 0.5), ("tray_1", None)]
    assert slug("Hole punch — waste box") == "hole_punch_waste_box"
    # A kind's key becomes part of topics and templates: slugged as well.
    odd = StatusCard(gauges=(Gauge("Photo black", 0.2, key="toner_photo black/#'"),))
    assert [b.key for b in bars_of(odd, str, str)] == ["toner_photo_black"]
    # "a_b" + "c" and "a" + "b_c" would share topics: both get a checksum, others not.
    bases = object_bases([DeviceKey("a_b", "c"), DeviceKey("a", "b_c"), DeviceKey("lib", "pc")])
    assert bases[DeviceKey("lib", "pc")] == "lib_pc"
    assert bases[DeviceKey("a_b", "c")] != bases[DeviceKey("a", "b_c")]
    assert bases == object_bases(reversed(list(bases)))
    topics = Topics("homeassistant", "node", "root")
    assert topics.owner("root/node/device/lib/pc-01/state") == DeviceKey("lib", "pc-01")
    assert topics.owner("root/node/site/lib/state") == "lib"
    assert topics.owner("root/node/state") == ""
    assert topics.owner("elsewhere/node/state") is None


def test_printer_bars_have_keys_from_supply_and_tray() -> None:
    from tests.test_kind_status_cards import card_of, printer, view

    keys = {
        name: [g.key for g in card_of("printer", view("printer", printer(name))).gauges]
        for name in ("colour_mfp", "brother_style")
    }
    assert keys["colour_mfp"] == [
        "toner_cyan",
        "toner_magenta",
        "toner_yellow",
        "toner_black",
        "waste_toner",
        "tray_1",
        "tray_2",
    ]
    # Two black toners: the supply index tells them apart.
    assert keys["brother_style"] == ["toner_black_1_1", "toner_black_1_2", "tray_2"]
