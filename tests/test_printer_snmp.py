"""The printer kind against real SNMP agents: snmpsim serving the recordings, the whole daemon.

One simulator, one broker and one daemon serve the whole module: the daemon
polls every configured printer (v2c, v3, wrong credentials, nothing
listening) and the tests read its /metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.clock import ManualClock
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.snmp.service import SnmpService
from ocrfleet_printer.kind import PrinterKind, PrinterOptions
from ocrfleet_printer.reading import PRINTER_STATUSES, SUPPLY_STATES, PrinterReading
from tests.support.daemon import RunningApp, Samples, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator, free_udp_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
V3_USER = "ocrfleet-test"
V3_AUTH_KEY = "auth-key-for-tests"
V3_PRIV_KEY = "priv-key-for-tests"
# A Monday at noon in Brussels: the library (open Monday 09:00-17:00) is open.
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=ZoneInfo("Europe/Brussels")).timestamp()

# A snmpsim agent answers within milliseconds, but on a loaded machine it can
# take seconds: most of a poll's budget (90 % of its 5 s interval), so that
# answering printers are not failed for the machine's load.
ANSWERING_TIMEOUT = 4
SNMPSIM_START_BOUND = 120.0
# dead, dead-napping, dead-night-sleeper and dead-closed: nothing listens.
SILENT_PRINTERS = 4

DEVICES = (
    "mono",
    "mfp",
    "brother",
    "jammed",
    "secure",
    "wrong-key",
    "dead",
    "dead-napping",
    "dead-night-sleeper",
)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    sim = SnmpSimulator(
        FIXTURES,
        tmp_path_factory.mktemp("snmpsim"),
        v3_user=V3_USER,
        v3_auth_key=V3_AUTH_KEY,
        v3_auth_proto="SHA256",
        v3_priv_key=V3_PRIV_KEY,
        v3_priv_proto="AES",
    )
    # Ready once it has bound its port; the bound is only for a broken
    # snmpsim: on a loaded machine its start-up alone can take tens of seconds.
    sim.start(timeout=SNMPSIM_START_BOUND)
    try:
        yield sim
    finally:
        sim.stop()


def v2c(community: str) -> dict[str, Any]:
    return {"version": "2c", "community": community}


def v3(context: str, auth_key: str = V3_AUTH_KEY) -> dict[str, Any]:
    return {
        "version": "3",
        "user": V3_USER,
        "auth_protocol": "SHA256",
        "auth_key": auth_key,
        "priv_protocol": "AES",
        "priv_key": V3_PRIV_KEY,
        "context": context,
    }


def printer(device_id: str, port: int, snmp: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": "printer",
        "options": {
            "host": "127.0.0.1",
            "port": port,
            "snmp": snmp,
            "poll_interval": 5,
            # Short, so the silent agents fail well inside a poll interval;
            # the answering ones get ANSWERING_TIMEOUT.
            "timeout": 1,
            "retries": 0,
            **options,
        },
    }


@pytest.fixture(scope="module")
def fleet(simulator: SnmpSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    """A scrape of a daemon once it has polled every printer at least once."""
    workdir = tmp_path_factory.mktemp("fleet")
    broker = Mosquitto(workdir / "broker")
    broker.start()
    port = simulator.port
    silent = free_udp_port()  # nothing listens there
    patient = {"timeout": ANSWERING_TIMEOUT}
    devices = [
        printer("mono", port, v2c("mono_laser"), **patient),
        printer("mfp", port, v2c("colour_mfp"), **patient),
        printer("brother", port, v2c("brother_style"), **patient),
        printer("jammed", port, v2c("jammed"), **patient),
        printer("secure", port, v3("low_paper"), **patient),
        printer("wrong-key", port, v3("low_paper", auth_key="not-the-auth-key"), **patient),
        printer("dead", silent, v2c("mono_laser")),
        printer("dead-napping", silent, v2c("mono_laser"), sleep_hours=["11:00-13:00"]),
        printer("dead-night-sleeper", silent, v2c("mono_laser"), sleep_hours=["22:00-06:00"]),
    ]
    config = site_config(broker.port, workdir / "store.sqlite", devices=devices)
    config["sites"].append(
        {
            "id": "annex",
            "name": "Annex",
            "village_core": "Testdorp",
            "opening_hours": {"sat": ["10:00-12:00"]},
            "devices": [printer("dead-closed", silent, v2c("mono_laser"))],
        }
    )
    wanted = [("lib", d) for d in DEVICES] + [("annex", "dead-closed")]
    try:
        with RunningApp(config, clock=ManualClock(NOW)) as daemon:
            scraped: dict[str, Samples] = {}

            answering = ("mono", "mfp", "brother", "jammed", "secure")

            def every_printer_has_a_status() -> bool:
                samples = daemon.scrape()
                scraped["last"] = samples
                # The answering printers must have been read at least once.
                # A poll's outcome reaches the device's state before its
                # counters, and /metrics is rendered on another thread: a
                # scrape can show a status whose poll is not counted yet. So
                # the failed first polls must be counted too (one timeout per
                # silent printer, the wrong key's refusal).
                errors = {
                    reason: value(
                        samples, "ocrfleet_snmp_poll_errors_total", kind="printer", reason=reason
                    )
                    or 0.0
                    for reason in ("timeout", "auth")
                }
                return (
                    all(status_of(samples, site, device) is not None for site, device in wanted)
                    and all(
                        value(samples, "ocrfleet_device_up", **labels(d)) == 1.0 for d in answering
                    )
                    and errors["timeout"] >= SILENT_PRINTERS
                    and errors["auth"] >= 1
                )

            # A bound for a daemon that never gets there, not a speed: polls repeat
            # every 5 s, and each needs the loaded machine to answer in time.
            wait_for(every_printer_has_a_status, timeout=60, what="a poll of every printer")
            yield scraped["last"]
    finally:
        broker.stop()


def labels(device: str, site: str = "lib", **extra: str) -> dict[str, str]:
    return {"site": site, "device": device, "kind": "printer", **extra}


def status_of(samples: Samples, site: str, device: str) -> str | None:
    on = [
        status
        for status in PRINTER_STATUSES
        if value(samples, "ocrfleet_printer_status", **labels(device, site, status=status)) == 1.0
    ]
    assert len(on) <= 1, on
    return on[0] if on else None


def test_a_polled_mono_laser(fleet: Samples) -> None:
    assert value(fleet, "ocrfleet_device_up", **labels("mono")) == 1.0
    assert status_of(fleet, "lib", "mono") == "idle"
    toner = {"supply": "Black Toner Cartridge AC-42K", "type": "tonerCartridge", "color": "black"}
    assert value(fleet, "ocrfleet_printer_supply_level_ratio", **labels("mono", **toner)) == 0.42
    states = {
        state: value(fleet, "ocrfleet_printer_supply_state", **labels("mono", **toner, state=state))
        for state in SUPPLY_STATES
    }
    assert states == {state: 1.0 if state == "ok" else 0.0 for state in SUPPLY_STATES}
    assert value(fleet, "ocrfleet_printer_pages_total", **labels("mono")) == 48213.0
    tray = {"tray": "Tray 1", "media": "iso_a4_210x297mm"}
    assert value(fleet, "ocrfleet_printer_tray_level_ratio", **labels("mono", **tray)) == 0.92
    assert value(fleet, "ocrfleet_printer_cover_open", **labels("mono", cover="Front Door")) == 0
    assert value(fleet, "ocrfleet_printer_uptime_seconds", **labels("mono")) == 86400.0
    conditions = series_of(fleet, "ocrfleet_printer_condition")
    assert len([c for c in conditions if c["device"] == "mono"]) == 15
    assert value(fleet, "ocrfleet_printer_condition", **labels("mono", condition="jammed")) == 0


def test_a_colour_mfp_with_a_nearly_full_waste_box(fleet: Samples) -> None:
    assert status_of(fleet, "lib", "mfp") == "printing"
    waste = {"supply": "Waste Toner Box", "type": "wasteToner", "color": ""}
    ratio = value(fleet, "ocrfleet_printer_supply_level_ratio", **labels("mfp", **waste))
    assert ratio == pytest.approx(0.06)  # room left
    nearly_full = labels("mfp", **waste, state="nearly_full")
    assert value(fleet, "ocrfleet_printer_supply_state", **nearly_full) == 1.0
    colours = {
        s["supply"]: s["color"]
        for s in series_of(fleet, "ocrfleet_printer_supply_level_ratio")
        if s["device"] == "mfp"
    }
    assert colours["Toner Cartridge TK-55C"] == "cyan"
    assert colours["Toner Cartridge TK-55K"] == "black"
    low = labels("mfp", supply="Toner Cartridge TK-55Y", type="tonerCartridge", color="yellow")
    assert value(fleet, "ocrfleet_printer_supply_state", **low, state="low") == 1.0
    assert value(fleet, "ocrfleet_printer_condition", **labels("mfp", condition="lowPaper")) == 1
    assert value(fleet, "ocrfleet_printer_alerts", **labels("mfp", severity="warning")) == 1.0
    assert value(fleet, "ocrfleet_printer_alerts", **labels("mfp", severity="critical")) == 0.0
    trays = {
        s["tray"]
        for s in series_of(fleet, "ocrfleet_printer_tray_level_ratio")
        if s["device"] == "mfp"
    }
    assert trays == {"Tray 1", "Tray 2", "Bypass Tray"}  # Tray 3's level is unknown (-2)


def test_some_remaining_toner_has_a_state_and_no_ratio(fleet: Samples) -> None:
    ratios = [
        s["supply"]
        for s in series_of(fleet, "ocrfleet_printer_supply_level_ratio")
        if s["device"] == "brother"
    ]
    assert ratios == ["Drum Unit"]
    toner = labels("brother", supply="Black Toner Cartridge #2", type="toner", color="black")
    assert value(fleet, "ocrfleet_printer_supply_state", **toner, state="some_remaining") == 1.0
    assert value(fleet, "ocrfleet_printer_supply_state", **toner, state="ok") == 0.0


def test_a_jammed_printer_with_its_door_open(fleet: Samples) -> None:
    assert status_of(fleet, "lib", "jammed") == "other"
    on = {
        s["condition"]
        for s in series_of(fleet, "ocrfleet_printer_condition")
        if s["device"] == "jammed" and value(fleet, "ocrfleet_printer_condition", **s) == 1.0
    }
    assert on == {"jammed", "doorOpen"}
    assert value(fleet, "ocrfleet_printer_cover_open", **labels("jammed", cover="Front Door")) == 1
    assert (
        value(fleet, "ocrfleet_printer_cover_open", **labels("jammed", cover="Rear Interlock")) == 0
    )
    assert value(fleet, "ocrfleet_printer_alerts", **labels("jammed", severity="critical")) == 2.0
    assert value(fleet, "ocrfleet_printer_alerts", **labels("jammed", severity="warning")) == 0.0


def test_snmpv3_with_the_right_credentials(fleet: Samples) -> None:
    # The context name picks the recording, as a community does in v2c.
    assert value(fleet, "ocrfleet_device_up", **labels("secure")) == 1.0
    assert value(fleet, "ocrfleet_printer_condition", **labels("secure", condition="lowPaper")) == 1
    empty_tray = labels("secure", condition="inputTrayEmpty")
    assert value(fleet, "ocrfleet_printer_condition", **empty_tray) == 1.0


def test_snmpv3_with_a_wrong_key(fleet: Samples) -> None:
    assert value(fleet, "ocrfleet_device_up", **labels("wrong-key")) == 0.0
    # The printer answered, so it is not asleep, whatever the time.
    assert status_of(fleet, "lib", "wrong-key") == "unreachable"
    errors = value(fleet, "ocrfleet_snmp_poll_errors_total", kind="printer", reason="auth")
    assert errors is not None and errors >= 1
    assert not [
        s for s in series_of(fleet, "ocrfleet_printer_condition") if s["device"] == "wrong-key"
    ]


@pytest.mark.parametrize(
    ("site", "device", "expected"),
    [
        ("lib", "dead", "unreachable"),  # site open, no sleep hours
        ("lib", "dead-napping", "asleep"),  # inside its sleep hours
        ("lib", "dead-night-sleeper", "unreachable"),  # sleep hours elsewhere in the day
        ("annex", "dead-closed", "asleep"),  # its site is closed
    ],
)
def test_a_silent_printer_is_down_and_asleep_or_unreachable(
    fleet: Samples, site: str, device: str, expected: str
) -> None:
    assert value(fleet, "ocrfleet_device_up", **labels(device, site)) == 0.0
    assert status_of(fleet, site, device) == expected
    assert not [
        s for s in series_of(fleet, "ocrfleet_printer_supply_state") if s["device"] == device
    ]


@pytest.mark.parametrize(
    ("site", "device", "state", "reason"),
    [
        ("lib", "dead", "down", "timeout"),
        # Its site is open, but the printer is inside its own sleep hours:
        # expected off, so no printer_unreachable and no Prometheus alert.
        ("lib", "dead-napping", "scheduled_off", "sleep_hours"),
        ("lib", "dead-night-sleeper", "down", "timeout"),
        ("annex", "dead-closed", "scheduled_off", "closed"),
    ],
)
def test_a_silent_printer_s_device_state_follows_its_sleep(
    fleet: Samples, site: str, device: str, state: str, reason: str
) -> None:
    on = [
        (s["state"], s["reason"])
        for s in series_of(fleet, "ocrfleet_device_state")
        if s["device"] == device and s["site"] == site
    ]
    assert on == [(state, reason)]


def test_silent_printers_count_as_timeouts(fleet: Samples) -> None:
    errors = value(fleet, "ocrfleet_snmp_poll_errors_total", kind="printer", reason="timeout")
    assert errors is not None and errors >= 4


def test_one_poll_decodes_what_comes_over_the_wire(simulator: SnmpSimulator) -> None:
    """Hex-dump and Latin-1 descriptions survive the trip through a real agent."""

    async def poll() -> object:
        service = SnmpService()
        try:
            options = PrinterOptions(
                host="127.0.0.1", port=simulator.port, snmp=v2c("special_values"), timeout=2
            )
            device = DeviceInfo(DeviceKey("lib", "ink"), "printer", options=options)
            return await PrinterKind().poll(device, await service.client(options), None)
        finally:
            service.close()

    reading = asyncio.run(poll())
    assert isinstance(reading, PrinterReading)
    assert [s.label for s in reading.supplies[:4]] == [
        "Cyan Ink Cartridge 991C HighYield",
        "Magenta Ink Cartridge 991M",
        "Gele inktcartridge 991Y",
        "Encre noire 991K haute capacité",
    ]
    assert reading.conditions is None
    assert reading.supplies[1].state == "other"
