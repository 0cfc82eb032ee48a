"""Printer vendors and output bins against snmpsim, through the whole daemon.

The daemon loads the bundled plugins and the third-party vendor example of
docs/plugins.md, polls simulated printers and is read through /metrics.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet_printer.kind import PrinterKind
from ocrfleet_printer.reading import OUTPUT_STATES
from tests.support.daemon import (
    RunningApp,
    Samples,
    catalog,
    series_of,
    site_config,
    value,
    wait_for,
)
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "snmp" / "printer_vendors"
PLUGINS_DOC = ROOT / "docs" / "plugins.md"


def example_plugin() -> types.ModuleType:
    text = PLUGINS_DOC.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- example: ocrfleet_example_office.py -->\n```python\n(.*?)\n```", text, re.DOTALL
    )
    assert match is not None
    plugin = types.ModuleType("ocrfleet_example_office")
    exec(compile(match.group(1), "ocrfleet_example_office.py", "exec"), plugin.__dict__)
    return plugin


def printer(device_id: str, port: int, community: str, **options: Any) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": "printer",
        "options": {
            "host": "127.0.0.1",
            "port": port,
            "snmp": {"version": "2c", "community": community},
            "poll_interval": 5,
            "timeout": 2,
            "retries": 0,
            **options,
        },
    }


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    workdir = tmp_path_factory.mktemp("printer-vendors")
    broker = Mosquitto(workdir / "broker")
    broker.start()
    try:
        with SnmpSimulator(FIXTURES, workdir / "snmpsim") as simulator:
            port = simulator.port
            devices = [
                printer("ricoh", port, "ricoh_cjk"),
                printer("finisher", port, "output_bins"),
                printer("office", port, "oem_office"),
                printer("office-generic", port, "oem_office", vendor="generic"),
            ]
            config = site_config(broker.port, workdir / "store.sqlite", devices=devices)
            plugins = catalog(example_plugin())
            with RunningApp(config, plugins=plugins) as daemon:
                scraped: dict[str, Samples] = {}

                def all_polled() -> bool:
                    scraped["last"] = daemon.scrape()
                    return all(
                        value(scraped["last"], "ocrfleet_device_up", **labels(d)) == 1.0
                        for d in ("ricoh", "finisher", "office", "office-generic")
                    )

                wait_for(all_polled, timeout=30, what="a poll of every printer")
                yield scraped["last"]
    finally:
        broker.stop()


def labels(device: str, **extra: str) -> dict[str, str]:
    return {"site": "lib", "device": device, "kind": "printer", **extra}


def test_the_bundled_ricoh_vendor_reads_the_chinese_colours(fleet: Samples) -> None:
    colours = {
        s["supply"]: s["color"]
        for s in series_of(fleet, "ocrfleet_printer_supply_level_ratio")
        if s["device"] == "ricoh"
    }
    assert colours == {
        "黑色碳粉": "black",
        "废碳粉瓶": "",
        "青色碳粉": "cyan",
        "洋红色碳粉": "magenta",
        "黄色碳粉": "yellow",
    }
    waste = labels("ricoh", supply="废碳粉瓶", type="other", color="", state="ok")
    assert value(fleet, "ocrfleet_printer_supply_state", **waste) == 1.0


@pytest.mark.parametrize(
    ("bin_", "ratio", "state"),
    [
        ("Main Tray", 0.0, "full"),
        ("Upper Tray", 0.08, "nearly_full"),
        ("Finisher Tray", 0.9, "ok"),
        ("Mailbox", None, "some_remaining"),
        ("Booklet Tray", None, "unknown"),
    ],
)
def test_output_bins_are_metrics(
    fleet: Samples, bin_: str, ratio: float | None, state: str
) -> None:
    room = value(fleet, "ocrfleet_printer_output_room_ratio", **labels("finisher", bin=bin_))
    assert room == ratio
    states = {
        s: value(fleet, "ocrfleet_printer_output_state", **labels("finisher", bin=bin_, state=s))
        for s in OUTPUT_STATES
    }
    assert states == {s: 1.0 if s == state else 0.0 for s in OUTPUT_STATES}


def test_a_printer_without_output_table_has_no_bin_series(fleet: Samples) -> None:
    assert not [
        s for s in series_of(fleet, "ocrfleet_printer_output_state") if s["device"] == "ricoh"
    ]


def test_a_third_party_vendor_found_by_hrdevicedescr_reads_its_own_oids(fleet: Samples) -> None:
    assert value(fleet, "ocrfleet_printer_pages_total", **labels("office")) == 7321.0
    # Forced to the generic vendor, the same printer has no page counter.
    assert value(fleet, "ocrfleet_printer_pages_total", **labels("office-generic")) is None
    toner = labels("office", supply="Toner", type="toner", color="")
    assert value(fleet, "ocrfleet_printer_supply_level_ratio", **toner) == 0.64


def test_the_example_plugin_is_listed_as_a_printer_extension() -> None:
    plugins = catalog(example_plugin())
    kind = plugins.kinds["printer"]
    assert isinstance(kind, PrinterKind)
    assert kind.vendors.names == ("ricoh", "example-office", "generic")
    assert ["printer:example-office"] in [c.extensions for c in plugins.contributions]
