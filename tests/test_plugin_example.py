"""The example plugin of docs/plugins.md, run end to end: it must work as documented.

The code between the two `example plugin` marker lines is the body of
`ocrfleet_occupancy.py` in docs/plugins.md (the document also shows the
imports); test_docs_show_this_code keeps the two the same.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocrfleet.clock import ManualClock
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from ocrfleet.plugin import (
    API_VERSION,
    CliCommand,
    DeviceKind,
    DeviceView,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    PayloadError,
    Sample,
    hookimpl,
)
from ocrfleet.pluginhost.catalog import PluginCatalog
from tests.support.daemon import RunningApp, catalog, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher

# --- example plugin: begin ---


class OccupancyOptions(BaseModel):
    """The `options` table of an occupancy sensor in the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    heartbeat_timeout: float | None = Field(
        default=None,
        gt=0,
        description="seconds without a message before the sensor counts as down; "
        "leave unset for sensors that only report a change",
    )


class OccupancyReport(BaseModel):
    """One message of the sensor. Undeclared fields (linkquality, ...) are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    occupancy: bool
    battery: float | None = Field(default=None, ge=0, le=100)


class OccupancyKind(DeviceKind):
    name: ClassVar[str] = "occupancy"
    description: ClassVar[str] = 'room occupancy sensor publishing {"occupancy": true|false}'
    options_model: ClassVar[type[BaseModel]] = OccupancyOptions
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (MqttChannel("occupancy", qos=0),)
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_occupancy_occupied", "1 while the sensor sees someone, else 0."),
        MetricSpec(
            "ocrfleet_occupancy_battery_ratio", "Sensor battery, 0-1; absent when not reported."
        ),
    )

    def heartbeat_timeout(self, options: Any) -> float | None:
        return options.heartbeat_timeout if options is not None else None

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        if channel != "occupancy":
            return super().parse_mqtt(channel, payload)
        try:
            return OccupancyReport.model_validate_json(payload)
        except ValidationError as exc:
            error = exc.errors(include_url=False, include_input=False)[0]
            if error["type"] == "json_invalid":
                raise PayloadError("unparsable", error["msg"]) from None
            where = ".".join(str(part) for part in error["loc"]) or "payload"
            raise PayloadError("invalid", f"{where}: {error['msg']}") from None

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        report = device.reading
        if not isinstance(report, OccupancyReport):
            return  # nothing received since the daemon started
        yield Sample("ocrfleet_occupancy_occupied", 1.0 if report.occupancy else 0.0)
        if report.battery is not None:
            yield Sample("ocrfleet_occupancy_battery_ratio", report.battery / 100)


class OccupancyMessageCommand(CliCommand):
    name = "occupancy-message"
    help = "print a mosquitto_pub command that fakes a reading of an occupancy sensor"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--site", required=True, help="site id as in the daemon's config")
        parser.add_argument("--device", required=True, help="the sensor's device id")
        parser.add_argument("--topic-root", default="ocrfleet")
        parser.add_argument("--vacant", action="store_true", help="report an empty room")

    def run(self, args: argparse.Namespace) -> int:
        topic = f"{args.topic_root}/{args.site}/{args.device}/occupancy"
        payload = json.dumps({"occupancy": not args.vacant})
        print(shlex.join(["mosquitto_pub", "-t", topic, "-m", payload]))
        return 0


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    return [OccupancyKind()]


@hookimpl
def ocrfleet_cli_commands() -> Sequence[CliCommand]:
    return [OccupancyMessageCommand()]


# --- example plugin: end ---

PLUGIN = sys.modules[__name__]  # this module, registered as the plugin
DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
SENSOR = {"site": "lib", "device": "room", "kind": "occupancy"}
TOPIC = "ocrfleet/lib/room/occupancy"


def _plugins() -> PluginCatalog:
    return catalog(PLUGIN)


def _config(port: int, store: Path, options: dict[str, Any]) -> dict[str, Any]:
    devices: list[dict[str, Any]] = [
        {"id": "pc-01", "kind": "pc"},
        {"id": "room", "kind": "occupancy", "options": options},
    ]
    return site_config(port, store, devices)


def test_the_plugin_is_loaded_beside_the_bundled_one() -> None:
    plugins = _plugins()
    assert {"pc", "laptop", "occupancy"} <= set(plugins.kinds)
    assert plugins.kind_owner["occupancy"] == __name__
    assert plugins.kind_owner["pc"] == "pc"
    assert "occupancy-message" in plugins.commands


def test_occupancy_sensor_end_to_end(broker: Mosquitto, tmp_path: Path) -> None:
    clock = ManualClock()
    config = _config(broker.port, tmp_path / "s.sqlite", {"heartbeat_timeout": 900})
    with RunningApp(config, _plugins(), clock=clock) as daemon:
        assert value(daemon.scrape(), "ocrfleet_device_up", **SENSOR) == 0.0
        sensor = TestPublisher(broker.port, "zigbee-bridge")
        try:
            sensor.publish(TOPIC, {"occupancy": True, "battery": 87, "linkquality": 120}, qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_occupancy_occupied", **SENSOR) == 1.0,
                what="occupied",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_occupancy_battery_ratio", **SENSOR) == 0.87
            assert value(samples, "ocrfleet_device_up", **SENSOR) == 1.0
            # Not a seat: no visitor sessions for a sensor.
            assert [
                s for s in series_of(samples, "ocrfleet_pc_in_use") if s["device"] == "room"
            ] == []

            sensor.publish(TOPIC, {"occupancy": False}, qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_occupancy_occupied", **SENSOR) == 0.0,
                what="vacant",
            )
            assert value(daemon.scrape(), "ocrfleet_occupancy_battery_ratio", **SENSOR) is None

            sensor.publish(TOPIC, {"occupancy": "yes"}, qos=0)
            sensor.publish(TOPIC, "motion!", qos=0)
            wait_for(
                lambda: (
                    value(
                        daemon.scrape(),
                        "ocrfleet_mqtt_messages_rejected_total",
                        reason="unparsable",
                    )
                    == 1.0
                ),
                what="the unparsable message to be counted",
            )
        finally:
            sensor.close()
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_mqtt_messages_rejected_total", reason="invalid") == 1.0
        assert value(samples, "ocrfleet_mqtt_messages_total", channel="occupancy") == 2.0
        assert value(samples, "ocrfleet_occupancy_occupied", **SENSOR) == 0.0

        # Silence longer than the configured heartbeat_timeout: down.
        clock.advance(901)
        daemon.app.expire_heartbeats()
        assert value(daemon.scrape(), "ocrfleet_device_up", **SENSOR) == 0.0


def test_without_heartbeat_timeout_silence_does_not_take_the_sensor_down(
    broker: Mosquitto, tmp_path: Path
) -> None:
    clock = ManualClock()
    config = _config(broker.port, tmp_path / "s.sqlite", {})
    with RunningApp(config, _plugins(), clock=clock) as daemon:
        sensor = TestPublisher(broker.port, "zigbee-bridge")
        try:
            sensor.publish(TOPIC, {"occupancy": True}, qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_device_up", **SENSOR) == 1.0, what="up"
            )
        finally:
            sensor.close()
        clock.advance(7 * 86400)
        daemon.app.expire_heartbeats()
        assert value(daemon.scrape(), "ocrfleet_device_up", **SENSOR) == 1.0


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"heartbeat_timeout": 0}, "Input should be greater than 0"),
        ({"heartbeat_timout": 900}, "unknown key"),
    ],
)
def test_options_are_checked_by_the_kind(options: dict[str, Any], problem: str) -> None:
    plugins = _plugins()
    with pytest.raises(ConfigError) as raised:
        load_config(_config(1883, Path("unused.sqlite"), options), plugins.kinds)
    key = next(iter(options))
    assert raised.value.problems == [(f"sites[0].devices[1].options.{key}", problem)]


def test_cli_command(capsys: pytest.CaptureFixture[str]) -> None:
    command = _plugins().commands["occupancy-message"]
    parser = argparse.ArgumentParser(prog=f"ocrfleet {command.name}")
    command.configure(parser)
    assert command.run(parser.parse_args(["--site", "lib", "--device", "room", "--vacant"])) == 0
    assert capsys.readouterr().out == (
        "mosquitto_pub -t ocrfleet/lib/room/occupancy -m '{\"occupancy\": false}'\n"
    )


# -- the document shows this code ----------------------------------------------------------


def _imports(tree: ast.Module) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            found.update((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(("", alias.name) for alias in node.names)
    return found


def test_docs_show_this_code() -> None:
    doc = DOC.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- example: ocrfleet_occupancy.py -->\n```python\n(.*?)\n```", doc, re.DOTALL
    )
    assert match is not None, "docs/plugins.md lost its ocrfleet_occupancy.py block"
    documented = match.group(1)
    source = Path(__file__).read_text(encoding="utf-8")
    region = source.split("# --- example plugin: begin ---\n", 1)[1]
    region = region.split("# --- example plugin: end ---", 1)[0]
    # The document's module: a docstring and its imports, then the same code as here.
    first_class = documented.index("\n\nclass ")
    assert documented[first_class:].strip() == region.strip()
    assert _imports(ast.parse(documented)) <= _imports(ast.parse(source))
    assert f'\nOCRFLEET_PLUGIN_API = "{API_VERSION}"\n' in documented[:first_class]
    # The plugin API alone: nothing else of ocrfleet.
    imported = _imports(ast.parse(documented))
    core = {module for module, _ in imported if module.split(".")[0] == "ocrfleet"}
    assert core == {"ocrfleet.plugin"}
