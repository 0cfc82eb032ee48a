"""The discovery configs against Home Assistant itself, started on 127.0.0.1.

Home Assistant needs Python 3.13, so it lives in a venv of its own
(`make ha-test-env` makes `.venv-ha`; OCRFLEET_HA_PYTHON names another
interpreter that has `homeassistant` installed). Without it the test is
skipped, with the reason; test_homeassistant.py still checks every config
against the documented schema.

Home Assistant starts with an MQTT config entry pointing at the test's
Mosquitto, the daemon's retained configs already there. The test waits until
its entity registry holds every entity, stops it (which writes its registries
and the entities' last states to `.storage/`) and reads them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import RunningApp, catalog, wait_for
from tests.support.homeassistant import (
    DEVICES,
    TANK_PLUGIN,
    RetainedWatcher,
    discovery_configs,
    ha_config,
)
from tests.support.mosquitto import Mosquitto, free_port

_REPO = Path(__file__).resolve().parent.parent


def _ha_python() -> Path:
    given = os.environ.get("OCRFLEET_HA_PYTHON")
    python = Path(given) if given else _REPO / ".venv-ha" / "bin" / "python"
    if not python.exists():
        pytest.skip(
            f"Home Assistant is not installed ({python} missing): `make ha-test-env` "
            "installs it (needs Python 3.13)"
        )
    found = subprocess.run(
        [str(python), "-c", "import homeassistant.const as c; print(c.__version__)"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        pytest.skip(f"{python} has no homeassistant package: {found.stderr.strip()[-200:]}")
    return python


def _ha_config_dir(path: Path, mqtt_port: int) -> None:
    storage = path / ".storage"
    storage.mkdir(parents=True)
    # Loopback only, on a free port.
    (path / "configuration.yaml").write_text(
        "homeassistant:\n  name: test\n  time_zone: Europe/Brussels\n"
        "  latitude: 51\n  longitude: 4\n  elevation: 0\n  unit_system: metric\n"
        f"http:\n  server_host: 127.0.0.1\n  server_port: {free_port()}\n"
    )
    at = "2026-01-01T00:00:00+00:00"
    entry = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 2,
        "domain": "mqtt",
        "title": "127.0.0.1",
        "data": {"broker": "127.0.0.1", "port": mqtt_port},
        "options": {"discovery": True, "discovery_prefix": "homeassistant"},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": None,
        "disabled_by": None,
        "created_at": at,
        "modified_at": at,
        "discovery_keys": {},
        "subentries": [],
    }
    entries = {"entries": [entry]}
    (storage / "core.config_entries").write_text(
        json.dumps(
            {"version": 1, "minor_version": 5, "key": "core.config_entries", "data": entries}
        )
    )


def _stored(config_dir: Path, name: str) -> Any:
    path = config_dir / ".storage" / name
    return json.loads(path.read_text())["data"] if path.exists() else {}


def test_home_assistant_takes_every_entity(broker: Mosquitto, tmp_path: Path) -> None:
    python = _ha_python()
    watcher = RetainedWatcher(broker.port)
    config = ha_config(broker.port, tmp_path / "s.sqlite", DEVICES)
    ha_dir = tmp_path / "homeassistant"
    _ha_config_dir(ha_dir, broker.port)
    log = tmp_path / "homeassistant.log"
    try:
        with RunningApp(config, catalog(TANK_PLUGIN)):
            watcher.publish("ocrfleet/lib/tank-1/availability", "online", retain=True)
            watcher.publish("ocrfleet/lib/tank-1/level", "0.42")
            watcher.wait(lambda: len(discovery_configs(watcher)) == 9, "configs with bars")
            unique_ids = {config["unique_id"] for config in discovery_configs(watcher).values()}
            with log.open("w") as out:
                ha = subprocess.Popen(
                    [str(python), "-m", "homeassistant", "-c", str(ha_dir), "--skip-pip"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:

                def registered() -> set[str]:
                    entities = _stored(ha_dir, "core.entity_registry").get("entities", [])
                    return {e["unique_id"] for e in entities if e["platform"] == "mqtt"}

                # Start-up, then the registry's delayed write.
                wait_for(lambda: registered() >= unique_ids, timeout=180, what="registry")
            finally:
                ha.send_signal(signal.SIGTERM)
                ha.wait(timeout=60)
    finally:
        watcher.close()

    entities = {
        e["unique_id"]: e
        for e in _stored(ha_dir, "core.entity_registry")["entities"]
        if e["platform"] == "mqtt"
    }
    assert set(entities) == unique_ids
    toner = entities["ocrfleet:ocrfleet:lib:tank-1:bar:toner_black"]
    assert toner["entity_id"].startswith("sensor.")
    assert toner["original_name"] == "Black toner"
    connectivity = entities["ocrfleet:ocrfleet:lib:tank-1:connectivity"]
    assert connectivity["original_device_class"] == "connectivity"

    devices = {
        tuple(tuple(i) for i in d["identifiers"]): d
        for d in _stored(ha_dir, "core.device_registry")["devices"]
    }
    daemon = devices[(("mqtt", "ocrfleet_ocrfleet"),)]
    tank = devices[(("mqtt", "ocrfleet_ocrfleet_lib_tank-1"),)]
    site = devices[(("mqtt", "ocrfleet_ocrfleet_site_lib"),)]
    assert tank["model"] == "T-100"
    assert tank["name"] == "tank-1 (Library)"
    assert tank["via_device_id"] == daemon["id"] == site["via_device_id"]
    assert tank["area_id"] == site["area_id"] is not None
    assert toner["device_id"] == tank["id"]

    # The states Home Assistant held when it stopped: the daemon's values.
    states = {
        s["state"]["entity_id"]: s["state"]["state"] for s in _stored(ha_dir, "core.restore_state")
    }
    assert states[toner["entity_id"]] == "42.0"
    assert states[connectivity["entity_id"]] == "on"
    condition = entities["ocrfleet:ocrfleet:lib:tank-1:condition"]
    assert states[condition["entity_id"]] == "No problem"
    seats = entities["ocrfleet:ocrfleet:site:lib:seats_in_use"]
    assert states[seats["entity_id"]] == "0"

    # Home Assistant accepted every config: no MQTT error or warning about them.
    complaints = [
        line
        for line in log.read_text().splitlines()
        if ("ERROR" in line or "WARNING" in line) and "mqtt" in line.lower()
    ]
    assert not complaints, complaints
