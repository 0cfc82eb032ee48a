"""`ocrfleet run` with no config: the Vlaminggem demo fleet comes alive by itself."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import psutil
import pytest

from ocrfleet.config.loader import load_config
from ocrfleet.demo.fleet import demo_config
from ocrfleet.kinds import DemoDevice, DeviceKind, Sample
from ocrfleet.state import DeviceView
from ocrfleet_hotspot.demo import DemoHotspot
from ocrfleet_hotspot.kind import HotspotKind
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_hotspot.reading import HotspotReading
from ocrfleet_hotspot.vendors.base import as_text
from ocrfleet_printer.demo import DemoPrinter
from ocrfleet_printer.parse import parse_reading
from ocrfleet_printer.reading import PrinterReading
from tests.support.daemon import Samples, catalog, scrape, series_of, wait_for
from tests.support.demo_time import MONDAY, demo_devices, simulation_context
from tests.support.mosquitto import free_port

DEMO_SITES = {
    "vlaminggem-library",
    "vlaminggem-welfare",
    "zonnedorp-library",
    "boskerke-service-centre",
    "overbrugge-neighbourhood-house",
}
PRINTERS = {
    ("vlaminggem-library", "mfp-01"),
    ("vlaminggem-welfare", "printer-01"),
    ("boskerke-service-centre", "printer-01"),
}
HOTSPOTS = {(site, "wifi-01") for site in DEMO_SITES}


@contextlib.contextmanager
def running_demo(
    tmp_path: Path,
    *args: str,
    stop_signal: signal.Signals = signal.SIGINT,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`ocrfleet run` in demo mode; yields its metrics URL, then checks it stopped cleanly
    and left no process of its own behind."""
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ocrfleet",
            "run",
            "--demo-http-port",
            str(port),
            "--state-dir",
            str(tmp_path),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/metrics"

    children: list[psutil.Process] = []

    def stop() -> tuple[int, str]:
        with contextlib.suppress(psutil.Error):
            children.extend(psutil.Process(demo.pid).children(recursive=True))
        demo.send_signal(stop_signal)
        try:
            code = demo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            demo.kill()
            code = -1
        return code, demo.communicate()[0]

    try:
        yield url
    except BaseException:
        print(stop()[1])  # shown by pytest with the failure
        raise
    code, output = stop()
    assert code == 0, output
    _, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"left running: {[p.pid for p in alive]}"
    assert url in output
    # Each site says whether it is open, so 0 sessions on a closed Saturday explain themselves.
    for site in DEMO_SITES:
        assert re.search(rf"^  site {site} \(.+\): (open|closed) now", output, re.M), output
    assert "Traceback" not in output, output
    # ocrfleet's own errors only: amqtt logs one for the start-up probe of its port.
    assert not re.search(r"ERROR\s+ocrfleet", output), output
    assert "SET failed" not in output, output


@pytest.mark.parametrize("stop_signal", [signal.SIGHUP, signal.SIGTERM])
def test_demo_cleans_up_after_hangup_and_terminate(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    # The broker's temp dir goes under TMPDIR; the state dir is kept on purpose.
    temp = tmp_path / "tmp"
    temp.mkdir()
    with running_demo(
        tmp_path / "state",
        "--demo-broker",
        "mosquitto",
        stop_signal=stop_signal,
        env={**os.environ, "TMPDIR": str(temp)},
    ) as url:
        wait_for(lambda: _answers(url), timeout=30, what="the demo's metrics")
        assert any(temp.iterdir()), "the demo's broker made no temp dir"
    assert not any(temp.iterdir()), list(temp.iterdir())


def _answers(url: str) -> bool:
    try:
        scrape(url)
    except OSError:
        return False
    return True


def _devices(samples: Samples, name: str) -> set[tuple[str, str]]:
    return {(s["site"], s["device"]) for s in series_of(samples, name)}


@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_demo_fleet_is_up_within_30_seconds(tmp_path: Path, broker: str) -> None:
    latest: Samples = {}

    with running_demo(tmp_path, "--demo-broker", broker) as url:

        def all_up() -> bool:
            nonlocal latest
            try:
                latest = scrape(url)
            except OSError:
                return False
            up = [k for k in latest if k[0] == "ocrfleet_device_up" and latest[k] == 1.0]
            return len(up) == 33

        started = time.monotonic()
        # SNMP devices are polled every 15 s, their first polls spread over 10 s.
        wait_for(all_up, timeout=30, what="33 demo devices up")
        series = series_of(latest, "ocrfleet_device_up")
        assert {s["site"] for s in series} == DEMO_SITES
        kinds = [s["kind"] for s in series]
        assert kinds.count("pc") == 11 and kinds.count("laptop") == 10
        assert kinds.count("printer") == 3 and kinds.count("hotspot") == 5
        assert kinds.count("room_sensor") == 4
        assert _devices(latest, "ocrfleet_printer_supply_level_ratio") == PRINTERS
        assert _devices(latest, "ocrfleet_hotspot_clients") == HOTSPOTS
        # The Brother-style printer states its toner only as "some remaining".
        brother_toner = [
            s
            for s in series_of(latest, "ocrfleet_printer_supply_state")
            if s["site"] == "boskerke-service-centre" and s["type"] == "toner"
        ]
        assert brother_toner
        assert all(
            latest[("ocrfleet_printer_supply_state", tuple(sorted(s.items())))]
            == (1.0 if s["state"] == "some_remaining" else 0.0)
            for s in brother_toner
        )
        wait_for(
            lambda: len(series_of(scrape(url), "ocrfleet_pc_cpu_ratio")) == 21,
            timeout=max(1.0, 40 - (time.monotonic() - started)),
            what="health from every simulated PC",
        )


def test_fast_demo_prints_jams_and_restarts(tmp_path: Path) -> None:
    """At 600x the showcase jam and restart fall between the first polls, whatever the hour."""
    first: Samples = {}
    seen = {"pages": False, "supply": False, "restart": False, "cleared": False}
    jammed: set[tuple[tuple[str, str], ...]] = set()

    with running_demo(tmp_path, "--demo-speedup", "600") as url:

        def observe() -> None:
            try:
                samples = scrape(url)
            except OSError:
                return
            for key, value in samples.items():
                name, labels = key
                was = first.setdefault(key, value)
                if name == "ocrfleet_printer_pages_total" and value > was:
                    seen["pages"] = True
                elif name == "ocrfleet_printer_supply_level_ratio" and value != was:
                    seen["supply"] = True
                elif name == "ocrfleet_hotspot_restarts_total" and value > 0:
                    seen["restart"] = True
                elif name == "ocrfleet_printer_condition" and ("condition", "jammed") in labels:
                    if value == 1.0:
                        jammed.add(labels)
                    elif labels in jammed:
                        seen["cleared"] = True

        def changed() -> bool:
            observe()
            return seen["pages"] and seen["supply"] and seen["restart"]

        def jam_cleared() -> bool:
            observe()
            return seen["cleared"]

        started = time.monotonic()
        wait_for(changed, timeout=45, what=f"pages, supplies and a restart to move: {seen}")
        # A jam is held a little over one poll interval of real time, so a
        # poll sees it, and clears on the poll after.
        wait_for(jam_cleared, timeout=max(1.0, 80 - (time.monotonic() - started)), what="a jam")


# -- The scenarios in demo time, without SNMP -----------------------------------


def test_demo_printers_live_through_two_days(tmp_path: Path) -> None:
    statuses: set[str] = set()
    conditions: set[str] = set()
    replaced: set[str] = set()
    refilled: set[str] = set()
    for seed, device in demo_devices("printer"):
        clock = [MONDAY]
        printer = DemoPrinter(device, simulation_context(device, seed, clock, tmp_path))
        readings: list[PrinterReading] = []
        for minute in range(2 * 24 * 60):
            clock[0] = MONDAY + 60 * minute
            printer.step(clock[0], 60.0 if minute else 0.0)
            readings.append(parse_reading(printer.snapshot()))
        pages = [r.pages or 0 for r in readings]
        assert pages[-1] > pages[0], device.key
        assert pages == sorted(pages), device.key
        for before, after in itertools.pairwise(readings):
            statuses.add(after.status)
            conditions |= after.conditions or frozenset()
            for old, new in zip(before.supplies, after.supplies, strict=True):
                if (new.remaining_fraction or 0) > (old.remaining_fraction or 0) + 0.2:
                    replaced.add(new.type)
            for old_tray, new_tray in zip(before.trays, after.trays, strict=True):
                if (new_tray.remaining_fraction or 0) > (old_tray.remaining_fraction or 0) + 0.2:
                    refilled.add(new_tray.label)
            if "jammed" in (before.conditions or ()) and "jammed" not in (after.conditions or ()):
                conditions.add("jam cleared")
        if device.site == "vlaminggem-library":
            # The showcase: low yellow toner from the start, a jam within minutes.
            assert "lowToner" in (readings[0].conditions or ())
            assert any("jammed" in (r.conditions or ()) for r in readings[:6])
        if device.site == "boskerke-service-centre":
            toner = readings[0].supplies[0]
            assert (toner.level, toner.max_capacity, toner.state) == (-3, -2, "some_remaining")
    assert {"idle", "printing", "warmup", "other"} <= statuses
    assert {"jammed", "doorOpen", "jam cleared", "lowToner", "noToner", "lowPaper"} <= conditions
    assert "tonerCartridge" in replaced
    assert refilled


def test_demo_hotspots_live_through_three_days(tmp_path: Path) -> None:
    kind = catalog().kinds["hotspot"]
    assert isinstance(kind, HotspotKind)
    radios_down: set[str] = set()
    restarts = 0
    for seed, device in demo_devices("hotspot"):
        clock = [MONDAY]
        hotspot = DemoHotspot(device, simulation_context(device, seed, clock, tmp_path))
        assert device.schedule is not None
        reading: HotspotReading | None = None
        open_clients: list[int] = []
        closed_clients: list[int] = []
        night_clients: list[int] = []
        for minute in range(3 * 24 * 60):
            clock[0] = MONDAY + 60 * minute
            hotspot.step(clock[0], 60.0 if minute else 0.0)
            values = hotspot.snapshot()
            vendor = kind.select_vendor(
                "auto",
                as_text(values["1.3.6.1.2.1.1.2.0"]),
                as_text(values["1.3.6.1.2.1.1.1.0"]),
            )
            assert vendor.name != "generic", device.model
            reading = build_reading(values, vendor, previous=reading, now=clock[0] - MONDAY)
            assert reading.clients is not None
            if device.schedule.is_open(clock[0]):
                open_clients.append(reading.clients)
            else:
                closed_clients.append(reading.clients)
            if device.schedule.local(clock[0]).hour in (2, 3, 4):
                night_clients.append(reading.clients)
            radios_down |= {
                vendor.name for i in reading.interfaces if i.role == "radio" and not i.oper_up
            }
            if minute == 5 and device.site == "vlaminggem-library":
                assert reading.restarts == 1, "the showcase restart comes in the first minutes"
        assert reading is not None
        restarts += reading.restarts
        assert sum(open_clients) / len(open_clients) > 2 * sum(closed_clients) / len(closed_clients)
        assert max(night_clients) <= 5, "a few devices at night"
    assert restarts >= 5
    # MikroTik's vendor module takes radios in its AP table as up: no drop-outs there.
    assert radios_down == {"unifi", "cisco-wlc"}


class DoorCounterKind(DeviceKind):
    """A kind the core does not know, with a device of its own in the demo."""

    name: ClassVar[str] = "doorcounter"

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()

    def demo_devices(self) -> Sequence[DemoDevice]:
        return (
            DemoDevice("zonnedorp-library", "door", "Door counter", count=2),
            DemoDevice("atlantis-library", "door-01"),  # no such demo site: left out
        )


def test_the_demo_fleet_is_what_the_kinds_give() -> None:
    kinds = {**catalog().kinds, "doorcounter": DoorCounterKind()}
    data = demo_config(1883, 0, Path("unused.sqlite"), snmp_port=None, kinds=kinds)
    loaded = load_config(data, kinds)
    doors = [(d.site, d.id, d.model) for d in loaded.devices if d.kind == "doorcounter"]
    assert doors == [
        ("zonnedorp-library", "door-01", "Door counter"),
        ("zonnedorp-library", "door-02", "Door counter"),
    ]
    # Without an SNMP agent, only the devices that need none.
    assert {d.kind for d in loaded.devices} == {"pc", "laptop", "room_sensor", "doorcounter"}
    reservable = {d.id for d in loaded.devices if d.reservable}
    assert "pc-03" in reservable and "pc-01" not in reservable
    # No kinds, no devices: the core names none of its own.
    empty = demo_config(1883, 0, Path("unused.sqlite"), snmp_port=16100, kinds={})
    assert all(site["devices"] == [] for site in empty["sites"])
    assert empty["alerting"]["rules"] == {"renewal_due": {"outside_opening_hours": True}}
