"""The SNMP example of docs/plugins.md (a UPS kind), polled end to end: it must work as documented.

The code between the two `example plugin` marker lines is the body of
`ocrfleet_ups.py` in docs/plugins.md (the document also shows the imports);
test_docs_show_this_code keeps the two the same. The UPS is an snmpsim agent
serving a small recording written by the test.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from pydantic import BaseModel

from ocrfleet.apiversion import API_VERSION
from ocrfleet.cli import probe_cmd
from ocrfleet.plugin import DeviceKind, MetricSpec, Sample, SnmpDeviceOptions, hookimpl
from ocrfleet.pluginhost.catalog import PluginCatalog
from tests.support.daemon import (
    RunningApp,
    catalog,
    series_of,
    site_config,
    snmp_device,
    value,
    wait_for,
)
from tests.support.imports import imported_names
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator, free_udp_port

if TYPE_CHECKING:
    from ocrfleet.plugin import DeviceInfo, DeviceView, SnmpClient

# --- example plugin: begin ---

UPS_MIB = "1.3.6.1.2.1.33.1"
CHARGE_REMAINING = f"{UPS_MIB}.2.4.0"  # upsEstimatedChargeRemaining, percent
OUTPUT_SOURCE = f"{UPS_MIB}.4.1.0"  # upsOutputSource
OUTPUT_SOURCES = {
    1: "other",
    2: "none",
    3: "normal",
    4: "bypass",
    5: "battery",
    6: "booster",
    7: "reducer",
}


@dataclass(frozen=True, slots=True)
class UpsReading:
    output_source: str | None  # None: not reported
    charge_ratio: float | None


class UpsKind(DeviceKind):
    name: ClassVar[str] = "ups"
    description: ClassVar[str] = "uninterruptible power supply polled over SNMP (UPS-MIB)"
    source: ClassVar[str | None] = "snmp"
    options_model: ClassVar[type[BaseModel]] = SnmpDeviceOptions
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_ups_on_battery", "1 while the UPS runs on its battery, else 0."),
        MetricSpec("ocrfleet_ups_battery_charge_ratio", "Estimated battery charge, 0-1."),
    )

    async def poll(self, device: DeviceInfo, snmp: SnmpClient, previous: object | None) -> object:
        values = await snmp.get([OUTPUT_SOURCE, CHARGE_REMAINING])
        source = values.get(OUTPUT_SOURCE)
        charge = values.get(CHARGE_REMAINING)
        return UpsReading(
            output_source=OUTPUT_SOURCES.get(source) if isinstance(source, int) else None,
            charge_ratio=charge / 100 if isinstance(charge, int) and 0 <= charge <= 100 else None,
        )

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        reading = device.reading
        if not isinstance(reading, UpsReading) or device.failure is not None:
            return  # not polled yet, or the last poll got no answer: nothing current
        if reading.output_source is not None:
            on_battery = reading.output_source == "battery"
            yield Sample("ocrfleet_ups_on_battery", 1.0 if on_battery else 0.0)
        if reading.charge_ratio is not None:
            yield Sample("ocrfleet_ups_battery_charge_ratio", reading.charge_ratio)

    def describe(self, reading: object) -> str:
        if not isinstance(reading, UpsReading):
            return repr(reading)
        charge = f"{reading.charge_ratio:.0%}" if reading.charge_ratio is not None else "unknown"
        return f"output source {reading.output_source or 'unknown'}, battery charge {charge}"


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    return [UpsKind()]


# --- example plugin: end ---

PLUGIN = sys.modules[__name__]  # this module, registered as the plugin
DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"

# Community (= file stem) -> recording. The first UPS runs on its battery;
# the second is on mains and does not report its charge.
RECORDINGS = {
    "ups-on-battery": (
        "1.3.6.1.2.1.1.1.0|4|Example UPS 1500\n"
        "1.3.6.1.2.1.33.1.2.4.0|2|87\n"
        "1.3.6.1.2.1.33.1.4.1.0|2|5\n"
    ),
    "ups-no-charge": (
        "1.3.6.1.2.1.1.1.0|4|Example UPS 700\n"  # no upsEstimatedChargeRemaining
        "1.3.6.1.2.1.33.1.4.1.0|2|3\n"
    ),
}


def _plugins() -> PluginCatalog:
    return catalog(PLUGIN)


@pytest.fixture
def ups_agent(tmp_path: Path) -> Iterator[SnmpSimulator]:
    data = tmp_path / "snmp-data"
    data.mkdir()
    for community, text in RECORDINGS.items():
        (data / f"{community}.snmprec").write_text(text)
    simulator = SnmpSimulator(data, tmp_path / "snmpsim")
    with simulator:
        yield simulator


def _ups(device_id: str, port: int, community: str) -> dict[str, Any]:
    return snmp_device(device_id, "ups", port, community)


def test_the_kind_is_polled() -> None:
    plugins = _plugins()
    assert plugins.kind_owner["ups"] == __name__
    assert plugins.kinds["ups"].source == "snmp"
    assert issubclass(plugins.kinds["ups"].options_model, SnmpDeviceOptions)


def test_ups_polled_end_to_end(broker: Mosquitto, ups_agent: SnmpSimulator, tmp_path: Path) -> None:
    devices = [
        _ups("ups-01", ups_agent.port, "ups-on-battery"),
        _ups("ups-02", ups_agent.port, "ups-no-charge"),
        _ups("ups-03", free_udp_port(), "public"),  # nobody answers there
    ]
    first = {"site": "lib", "device": "ups-01", "kind": "ups"}
    second = {"site": "lib", "device": "ups-02", "kind": "ups"}
    third = {"site": "lib", "device": "ups-03", "kind": "ups"}
    config = site_config(broker.port, tmp_path / "s.sqlite", devices)
    with RunningApp(config, _plugins()) as daemon:

        def all_polled() -> bool:
            samples = daemon.scrape()
            return (
                value(samples, "ocrfleet_ups_battery_charge_ratio", **first) is not None
                and value(samples, "ocrfleet_ups_on_battery", **second) is not None
                and value(samples, "ocrfleet_snmp_poll_errors_total", kind="ups", reason="timeout")
                is not None
            )

        wait_for(all_polled, timeout=30, what="a poll of every UPS")
        samples = daemon.scrape()

    assert value(samples, "ocrfleet_device_up", **first) == 1.0
    assert value(samples, "ocrfleet_ups_on_battery", **first) == 1.0
    assert value(samples, "ocrfleet_ups_battery_charge_ratio", **first) == 0.87
    # On mains, and a value the agent lacks is left out rather than invented.
    assert value(samples, "ocrfleet_device_up", **second) == 1.0
    assert value(samples, "ocrfleet_ups_on_battery", **second) == 0.0
    assert value(samples, "ocrfleet_ups_battery_charge_ratio", **second) is None
    # A UPS that does not answer is down and has no UPS samples.
    assert value(samples, "ocrfleet_device_up", **third) == 0.0
    for name in ("ocrfleet_ups_on_battery", "ocrfleet_ups_battery_charge_ratio"):
        assert [s for s in series_of(samples, name) if s["device"] == "ups-03"] == []
    polls = value(samples, "ocrfleet_polls_total", source="snmp", kind="ups")
    assert polls is not None and polls >= 3


def test_probe_shows_the_reading(
    ups_agent: SnmpSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(probe_cmd, "load_catalog", _plugins)
    parser = argparse.ArgumentParser(prog="ocrfleet probe")
    probe_cmd.configure(parser)
    address = f"127.0.0.1:{ups_agent.port}"

    assert probe_cmd.run(parser.parse_args(["ups", address, "--community", "ups-on-battery"])) == 0
    assert capsys.readouterr().out == "output source battery, battery charge 87%\n"

    args = parser.parse_args(["ups", address, "--community", "ups-no-charge", "--json"])
    assert probe_cmd.run(args) == 0
    assert json.loads(capsys.readouterr().out) == {"charge_ratio": None, "output_source": "normal"}


# -- the document shows this code ----------------------------------------------------------


def _is_header(node: ast.stmt) -> bool:
    """The module docstring, imports, `if TYPE_CHECKING:` imports and the API version."""
    if isinstance(node, ast.Expr | ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Assign):
        return [ast.unparse(target) for target in node.targets] == ["OCRFLEET_PLUGIN_API"]
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    )


def test_docs_show_this_code() -> None:
    doc = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: ocrfleet_ups.py -->\n```python\n(.*?)\n```", doc, re.DOTALL)
    assert match is not None, "docs/plugins.md lost its ocrfleet_ups.py block"
    documented = match.group(1)
    tree = ast.parse(documented)
    body = next(node for node in tree.body if not _is_header(node))
    source = Path(__file__).read_text(encoding="utf-8")
    region = source.split("# --- example plugin: begin ---\n", 1)[1]
    region = region.split("# --- example plugin: end ---", 1)[0]
    # The document's module: a docstring and its imports, then the same code as here.
    shown = "\n".join(documented.splitlines()[body.lineno - 1 :])
    assert shown.strip() == region.strip()
    assert imported_names(tree) <= imported_names(ast.parse(source))
    assert f'\nOCRFLEET_PLUGIN_API = "{API_VERSION}"\n' in documented
    # The plugin API alone: nothing else of ocrfleet.
    core = {module for module, _ in imported_names(tree) if module.split(".")[0] == "ocrfleet"}
    assert core == {"ocrfleet.plugin"}
