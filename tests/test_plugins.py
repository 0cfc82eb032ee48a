"""Plugins: loaded like third-party ones, checked at start-up, isolated at run time."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pluggy
import pytest
from pydantic import BaseModel

from ocrfleet.apiversion import API_VERSION
from ocrfleet.app import App, BackgroundTask
from ocrfleet.config.loader import load_config
from ocrfleet.httppoll.options import HttpDeviceOptions
from ocrfleet.i18n.catalogs import MessageCatalog
from ocrfleet.kinds import DeviceKind, MetricSpec, MqttChannel, MqttMessageResult, Sample
from ocrfleet.pluginhost import hookimpl
from ocrfleet.pluginhost.catalog import PluginCatalog, PluginConflictError
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.state import DeviceView
from tests.support.daemon import RunningApp, catalog, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health
from tests.test_plugin_api import install


class FlakyKind(DeviceKind):
    """A kind whose code fails on every message and every scrape."""

    name: ClassVar[str] = "flaky"
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (MqttChannel("reading"),)
    metric_specs: ClassVar[Sequence[MetricSpec]] = (MetricSpec("ocrfleet_flaky_value", "x"),)

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        if payload == b"ok":
            return "reading"
        raise RuntimeError("flaky plugin bug")

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        yield Sample("ocrfleet_flaky_value", 1.0)
        raise RuntimeError("flaky plugin render bug")


class FlakyPlugin:
    @hookimpl
    def ocrfleet_device_kinds(self) -> Sequence[DeviceKind]:
        return [FlakyKind()]


def test_failing_plugin_is_logged_by_name_and_isolated(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = catalog(FlakyPlugin())
    devices = [{"id": "pc-01", "kind": "pc"}, {"id": "odd-01", "kind": "flaky"}]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices)
    flaky_name = plugins.kind_owner["flaky"]
    with caplog.at_level(logging.ERROR), RunningApp(config, plugins) as daemon:
        agent = TestPublisher(broker.port)
        agent.publish("ocrfleet/lib/odd-01/reading", b"boom")
        agent.publish("ocrfleet/lib/odd-01/reading", b"ok")
        agent.publish("ocrfleet/lib/pc-01/health", health(cpu_ratio=0.5))
        pc = {"site": "lib", "device": "pc-01", "kind": "pc"}
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **pc) == 0.5)
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_mqtt_messages_rejected_total", reason="plugin_error") == 1
        # The failing render leaves out only that plugin's samples.
        odd = {"site": "lib", "device": "odd-01", "kind": "flaky"}
        assert value(samples, "ocrfleet_flaky_value", **odd) is None
        assert value(samples, "ocrfleet_device_up", **odd) == 1.0
        assert value(samples, "ocrfleet_device_up", **pc) == 1.0
        agent.close()
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"plugin {flaky_name} failed on a message" in m for m in messages), messages
    assert any(f"plugin {flaky_name} failed to render" in m for m in messages), messages


def test_failing_background_task_does_not_stop_the_daemon(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = catalog()
    loaded = load_config(site_config(broker.port, tmp_path / "s.sqlite"), plugins.kinds)
    ran = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("simulator bug")

    async def healthy() -> None:
        ran.set()
        await asyncio.sleep(3600)

    app = App(
        loaded,
        plugins,
        background=[BackgroundTask("broken", broken), BackgroundTask("healthy", healthy)],
    )

    async def main() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(app.run(stop))
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.sleep(0.2)
        assert not runner.done()
        stop.set()
        await asyncio.wait_for(runner, 10)

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert any("background task broken failed" in r.getMessage() for r in caplog.records)


class MisspeltPlugin:
    @hookimpl
    def ocrfleet_device_kind(self) -> Sequence[DeviceKind]:  # the hook is ..._kinds
        return []


def test_misspelt_hook_fails_at_start_up() -> None:
    with pytest.raises(pluggy.PluginValidationError, match="ocrfleet_device_kind"):
        build_plugin_manager([MisspeltPlugin()])


def test_bundled_plugin_loads_through_entry_points() -> None:
    manager = build_plugin_manager()
    names = {name for name, _ in manager.list_name_plugin()}
    assert "pc" in names
    assert {"pc", "laptop"} <= set(PluginCatalog.from_manager(manager).kinds)
    bare = PluginCatalog.from_manager(build_plugin_manager(load_entry_points=False))
    assert bare.kinds == {}


class DuplicatePcPlugin:
    @hookimpl
    def ocrfleet_device_kinds(self) -> Sequence[DeviceKind]:
        from ocrfleet_pc.kind import PcKind

        return [PcKind()]


def test_two_plugins_with_one_kind_name_conflict() -> None:
    with pytest.raises(PluginConflictError, match="'pc'"):
        PluginCatalog.from_manager(build_plugin_manager([DuplicatePcPlugin()]))


class ClashingPlugin:
    """Takes names the core already provides: a source, a channel type, a message domain."""

    @hookimpl
    def ocrfleet_source_types(self) -> Sequence[Any]:
        from ocrfleet.httppoll.source import HttpSourceType

        return [HttpSourceType()]

    @hookimpl
    def ocrfleet_channel_types(self) -> Sequence[Any]:
        from ocrfleet.notify.log_channel import LogChannelType

        return [LogChannelType()]

    @hookimpl
    def ocrfleet_message_catalogs(self) -> Sequence[Any]:
        return [MessageCatalog("ocrfleet", Path("elsewhere"))]


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ("ocrfleet_source_types", "source 'http' is provided twice (again by 'clash')"),
        ("ocrfleet_channel_types", "channel type 'log' is provided twice (again by 'clash')"),
        ("ocrfleet_message_catalogs", "message domain 'ocrfleet' is provided twice"),
    ],
)
def test_a_name_provided_twice_is_a_conflict(hook: str, message: str) -> None:
    plugin = type("Clash", (), {hook: getattr(ClashingPlugin, hook)})()
    manager = build_plugin_manager(load_entry_points=False)
    manager.register(plugin, name="clash")
    with pytest.raises(PluginConflictError) as raised:
        PluginCatalog.from_manager(manager)
    assert message in str(raised.value)


# -- a kind's options and its source ---------------------------------------------------


class DoorOptions(HttpDeviceOptions):
    entrance: str = "main"


class SourcelessDoorKind(DeviceKind):
    """Options for the http source, but `source` left out: its devices would never be polled."""

    name: ClassVar[str] = "door"
    options_model: ClassVar[type[BaseModel]] = DoorOptions

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()


class UpsOptions(SnmpDeviceOptions):
    pass


class SourcelessUpsKind(DeviceKind):
    name: ClassVar[str] = "ups"
    options_model: ClassVar[type[BaseModel]] = UpsOptions

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()


class KindsPlugin:
    def __init__(self, *kinds: DeviceKind) -> None:
        self.kinds = kinds

    @hookimpl
    def ocrfleet_device_kinds(self) -> Sequence[DeviceKind]:
        return list(self.kinds)


def _load(*kinds: DeviceKind) -> PluginCatalog:
    manager = build_plugin_manager(load_entry_points=False)
    manager.register(KindsPlugin(*kinds), name="doorcount")
    return PluginCatalog.from_manager(manager)


@pytest.mark.parametrize(
    ("kind", "model", "source"),
    [
        (SourcelessDoorKind(), "HttpDeviceOptions", "http"),
        (SourcelessUpsKind(), "SnmpDeviceOptions", "snmp"),
    ],
    ids=["http", "snmp"],
)
def test_a_kind_with_a_sources_options_but_no_source_is_refused(
    kind: DeviceKind, model: str, source: str
) -> None:
    with pytest.raises(PluginConflictError) as refused:
        _load(kind)
    assert str(refused.value) == (
        f"plugin 'doorcount': the options of kind {kind.name!r} extend {model}, the options "
        f"of source {source!r}, but the kind names no source: set `source = {source!r}` on "
        f"{type(kind).__name__} (or base its options on another model)"
    )


def test_the_same_kind_with_its_source_loads() -> None:
    class DoorKind(SourcelessDoorKind):
        source: ClassVar[str | None] = "http"

    assert _load(DoorKind()).kinds["door"].source == "http"


SOURCELESS_PLUGIN = f"""
from ocrfleet.plugin import DeviceKind, HttpDeviceOptions, hookimpl

OCRFLEET_PLUGIN_API = "{API_VERSION}"


class DoorOptions(HttpDeviceOptions):
    entrance: str = "main"


class DoorKind(DeviceKind):
    name = "door"
    options_model = DoorOptions

    def samples(self, device):
        return ()


@hookimpl
def ocrfleet_device_kinds():
    return [DoorKind()]
"""


def test_every_command_names_the_plugin_and_what_to_set(tmp_path: Path) -> None:
    install(tmp_path, SOURCELESS_PLUGIN)
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "plugins"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ocrfleet: plugin conflict: plugin 'doorcount': the options of kind 'door' extend "
        "HttpDeviceOptions, the options of source 'http', but the kind names no source: "
        "set `source = 'http'` on DoorKind (or base its options on another model)"
    )
