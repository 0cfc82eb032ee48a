"""Shared by the Home Assistant tests and bench: a kind with bars, a daemon config with the
integration on, a retained-message watcher, a schema.

The schema is written from Home Assistant's MQTT documentation (MQTT
discovery, MQTT Sensor, MQTT Binary sensor, and the sensor and binary sensor
entity pages for device and state classes): every key the integration may
use, which are required, and which combinations Home Assistant refuses.
Home Assistant itself drops unknown keys silently, so this is stricter.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field, model_validator

# The tank kind lives in devpeers (bench/homeassistant_look.py uses it too); its names stay here.
from devpeers.tank import TANK_PLUGIN as TANK_PLUGIN
from devpeers.tank import TankKind as TankKind
from tests.support.daemon import site_config, wait_for

# -- what the broker holds -------------------------------------------------


class RetainedWatcher:
    """Every message under `pattern`, the last payload per topic (retained ones on subscribe)."""

    def __init__(self, port: int, pattern: str = "#") -> None:
        self.latest: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, clean_session=True)
        self._client.on_connect = lambda c, *_: c.subscribe(pattern, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port, keepalive=30)
        self._client.loop_start()
        assert self._subscribed.wait(10), "watcher could not subscribe"

    def _on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.latest[message.topic] = bytes(message.payload)

    def get(self, topic: str) -> bytes | None:
        with self._lock:
            return self.latest.get(topic)

    def topics(self, prefix: str) -> dict[str, bytes]:
        with self._lock:
            return {t: p for t, p in self.latest.items() if t.startswith(prefix) and p}

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        wait_for(condition, timeout=30, what=what)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# -- Home Assistant's discovery schema, from its documentation ---------------

SENSOR_DEVICE_CLASSES = frozenset(
    [
        "apparent_power",
        "aqi",
        "area",
        "atmospheric_pressure",
        "battery",
        "blood_glucose_concentration",
        "carbon_dioxide",
        "carbon_monoxide",
        "current",
        "data_rate",
        "data_size",
        "date",
        "distance",
        "duration",
        "energy",
        "energy_distance",
        "energy_storage",
        "enum",
        "frequency",
        "gas",
        "humidity",
        "illuminance",
        "irradiance",
        "moisture",
        "monetary",
        "nitrogen_dioxide",
        "nitrogen_monoxide",
        "nitrous_oxide",
        "ozone",
        "ph",
        "pm1",
        "pm10",
        "pm25",
        "power",
        "power_factor",
        "precipitation",
        "precipitation_intensity",
        "pressure",
        "reactive_power",
        "signal_strength",
        "sound_pressure",
        "speed",
        "sulphur_dioxide",
        "temperature",
        "timestamp",
        "volatile_organic_compounds",
        "volatile_organic_compounds_parts",
        "voltage",
        "volume",
        "volume_flow_rate",
        "volume_storage",
        "water",
        "weight",
        "wind_direction",
        "wind_speed",
    ]
)
BINARY_SENSOR_DEVICE_CLASSES = frozenset(
    [
        "battery",
        "battery_charging",
        "carbon_monoxide",
        "cold",
        "connectivity",
        "door",
        "garage_door",
        "gas",
        "heat",
        "light",
        "lock",
        "moisture",
        "motion",
        "moving",
        "occupancy",
        "opening",
        "plug",
        "power",
        "presence",
        "problem",
        "running",
        "safety",
        "smoke",
        "sound",
        "tamper",
        "update",
        "vibration",
        "window",
    ]
)
# Device classes whose unit Home Assistant checks, with the units it accepts.
_UNITS_OF_CLASS: dict[str, set[str | None]] = {
    "battery": {"%"},
    "humidity": {"%"},
    "moisture": {"%"},
    "power_factor": {"%", None},
}
# Device classes that take no state class (their states are not measurements).
_NO_STATE_CLASS = {"date", "enum", "timestamp"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Availability(_Strict):
    topic: str = Field(min_length=1)
    payload_available: str = "online"
    payload_not_available: str = "offline"
    value_template: str | None = None


class DeviceBlock(_Strict):
    identifiers: list[str] | str | None = None
    connections: list[tuple[str, str]] | None = None
    name: str | None = None
    model: str | None = None
    model_id: str | None = None
    manufacturer: str | None = None
    sw_version: str | None = None
    hw_version: str | None = None
    serial_number: str | None = None
    suggested_area: str | None = None
    via_device: str | None = None
    configuration_url: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> DeviceBlock:
        if not self.identifiers and not self.connections:
            raise ValueError("a device needs identifiers or connections")
        return self


class OriginBlock(_Strict):
    name: str = Field(min_length=1)
    sw_version: str | None = None
    support_url: str | None = None


class EntityConfig(_Strict):
    unique_id: str = Field(min_length=1)  # optional in HA; without it no registry entry
    name: str | None = None
    default_entity_id: str | None = Field(default=None, pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    object_id: str | None = None
    device: DeviceBlock
    origin: OriginBlock
    availability: list[Availability] | None = None
    availability_topic: str | None = None
    availability_mode: Literal["all", "any", "latest"] = "latest"
    availability_template: str | None = None
    payload_available: str | None = None
    payload_not_available: str | None = None
    state_topic: str = Field(min_length=1)
    value_template: str | None = None
    json_attributes_topic: str | None = None
    json_attributes_template: str | None = None
    icon: str | None = Field(default=None, pattern=r"^[a-z]+:[a-z0-9-]+$")
    entity_category: Literal["config", "diagnostic"] | None = None
    enabled_by_default: bool = True
    expire_after: int | None = Field(default=None, ge=0)
    force_update: bool = False
    qos: Literal[0, 1, 2] = 0
    encoding: str = "utf-8"
    entity_picture: str | None = None
    platform: Literal["mqtt"] | None = None

    @model_validator(mode="after")
    def _one_availability(self) -> EntityConfig:
        if self.availability is not None and self.availability_topic is not None:
            raise ValueError("availability and availability_topic are mutually exclusive")
        if self.default_entity_id is not None and self.object_id is not None:
            raise ValueError("default_entity_id replaces object_id")
        return self


class SensorConfig(EntityConfig):
    device_class: str | None = None
    state_class: Literal["measurement", "measurement_angle", "total", "total_increasing"] | None = (
        None
    )
    unit_of_measurement: str | None = None
    suggested_display_precision: int | None = Field(default=None, ge=0)
    last_reset_value_template: str | None = None
    options: list[str] | None = None

    @model_validator(mode="after")
    def _combinations(self) -> SensorConfig:
        cls = self.device_class or ""
        if cls and cls not in SENSOR_DEVICE_CLASSES:
            raise ValueError(f"unknown sensor device_class {cls!r}")
        if cls in _UNITS_OF_CLASS and self.unit_of_measurement not in _UNITS_OF_CLASS[cls]:
            raise ValueError(f"device_class {cls} does not take unit {self.unit_of_measurement!r}")
        if cls in _NO_STATE_CLASS and self.state_class is not None:
            raise ValueError(f"device_class {cls} takes no state_class")
        if self.options is not None and (cls != "enum" or self.unit_of_measurement is not None):
            raise ValueError("options need device_class enum and no unit")
        if self.default_entity_id and not self.default_entity_id.startswith("sensor."):
            raise ValueError("a sensor's default_entity_id starts with sensor.")
        return self


class BinarySensorConfig(EntityConfig):
    device_class: str | None = None
    payload_on: str = "ON"
    payload_off: str = "OFF"
    off_delay: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _known_class(self) -> BinarySensorConfig:
        if self.device_class is not None and self.device_class not in BINARY_SENSOR_DEVICE_CLASSES:
            raise ValueError(f"unknown binary_sensor device_class {self.device_class!r}")
        if self.default_entity_id and not self.default_entity_id.startswith("binary_sensor."):
            raise ValueError("a binary sensor's default_entity_id starts with binary_sensor.")
        return self


SCHEMAS: dict[str, type[EntityConfig]] = {
    "sensor": SensorConfig,
    "binary_sensor": BinarySensorConfig,
}


PREFIX = "homeassistant/"
DEVICES = [{"id": "tank-1", "kind": "tank", "model": "T-100"}, {"id": "pc-01", "kind": "pc"}]


def ha_config(port: int, store: Path, devices: list[dict[str, Any]], **ha: Any) -> dict[str, Any]:
    """A daemon's configuration with `[integrations.homeassistant]` on (and `ha` options)."""
    data = site_config(port, store, devices)
    data["integrations"] = {"homeassistant": {"enabled": True, **ha}}
    return data


def discovery_configs(watcher: RetainedWatcher) -> dict[str, dict[str, Any]]:
    """The retained discovery configs the watcher holds: topic -> config."""
    return {t: json.loads(p) for t, p in watcher.topics(PREFIX).items() if t.endswith("/config")}
