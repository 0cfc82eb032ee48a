"""A daemon with a trap receiver: a trap makes it read the printer's new state at once.

Real peers: snmpsim serves the printer (its error state a writecache entry
the test SETs), net-snmp's snmptrap/snmpinform and pysnmp send the traps.
The printer's poll interval is 600 s, so only the trap can make the daemon
see the change inside the test's bounded wait.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.snmp.traps_metrics import TrapResult
from tests.support.daemon import RunningApp, site_config, snmp_device, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.programs import installed
from tests.support.snmpsim import SnmpSimulator
from tests.test_snmp_traps_codec import PRINTER_ALERT

FIXTURE = Path(__file__).parent / "fixtures" / "snmp" / "printers" / "mono_laser.snmprec"
ERROR_STATE = "1.3.6.1.2.1.25.3.5.1.2.1"  # hrPrinterDetectedErrorState
JAMMED = "0400"  # bit 5, jammed
COMMUNITY = "trapprinter"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SnmpSimulator]:
    data = tmp_path / "snmp-data"
    data.mkdir()
    lines = FIXTURE.read_text().splitlines()
    recording = [
        f"{ERROR_STATE}|4:writecache|hexvalue=0000" if line.startswith(f"{ERROR_STATE}|") else line
        for line in lines
    ]
    assert recording != lines
    (data / f"{COMMUNITY}.snmprec").write_text("\n".join(recording) + "\n")
    with SnmpSimulator(data, tmp_path / "snmpsim") as sim:
        yield sim


@pytest.fixture
def daemon(simulator: SnmpSimulator, broker: Mosquitto, tmp_path: Path) -> Iterator[RunningApp]:
    printer = snmp_device("printer-01", "printer", simulator.port, COMMUNITY)
    printer["options"]["poll_interval"] = 600
    config = site_config(broker.port, tmp_path / "store.sqlite", devices=[printer])
    config["snmp"] = {"traps": {"enabled": True, "listen": "127.0.0.1", "port": 0}}
    with RunningApp(config) as running:
        traps = running.app.traps
        assert traps is not None
        wait_for(traps.resolved.is_set, what="the trap senders resolved")
        wait_for(lambda: jammed(running) == 0.0, timeout=30, what="the first poll")
        yield running


def jammed(daemon: RunningApp) -> float | None:
    return value(
        daemon.scrape(),
        "ocrfleet_printer_condition",
        site="lib",
        device="printer-01",
        kind="printer",
        condition="jammed",
    )


def trap_port(daemon: RunningApp) -> int:
    assert daemon.app.traps is not None
    return daemon.app.traps.address[1]


def received(daemon: RunningApp, result: TrapResult) -> float:
    found = value(daemon.scrape(), "ocrfleet_snmp_traps_received_total", result=result.value)
    return found or 0.0


def net_snmp(program: str, *args: str) -> subprocess.CompletedProcess[str]:
    # No MIBs: every OID here is numeric, and missing MIB files only warn.
    return subprocess.run(
        [installed(program, "snmp"), "-m", "", "-M", "/nonexistent", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def set_error_state(simulator: SnmpSimulator, hex_bits: str) -> None:
    done = net_snmp(
        "snmpset", "-v", "2c", "-c", COMMUNITY, f"127.0.0.1:{simulator.port}", ERROR_STATE, "x",
        hex_bits,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def pysnmp_notify(port: int, community: str, trap_oid: str, v1: bool, inform: bool) -> Any:
    """Send a notification with pysnmp; the error indication (None: sent, or answered)."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentifier,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        send_notification,
    )

    async def send() -> Any:
        engine = SnmpEngine()
        try:
            target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=2, retries=2)
            indication, _, _, _ = await send_notification(
                engine,
                CommunityData(community, mpModel=0 if v1 else 1),
                target,
                ContextData(),
                "inform" if inform else "trap",
                ObjectType(ObjectIdentity("1.3.6.1.6.3.1.1.4.1.0"), ObjectIdentifier(trap_oid)),
                lookupMib=False,
            )
            return indication
        finally:
            engine.close_dispatcher()

    return asyncio.run(send())


def test_a_trap_brings_the_new_state_without_waiting_for_the_interval(
    daemon: RunningApp, simulator: SnmpSimulator
) -> None:
    port = trap_port(daemon)
    set_error_state(simulator, JAMMED)
    sent = net_snmp("snmptrap", "-v", "2c", "-c", COMMUNITY, f"127.0.0.1:{port}", "", PRINTER_ALERT)
    assert sent.returncode == 0, sent.stderr
    wait_for(lambda: jammed(daemon) == 1.0, timeout=30, what="the jam after snmptrap's trap")

    # The jam cleared, announced by a v1 trap in the Printer-MIB's v1 form
    # (pysnmp translates it to enterprise 43.18.2, specific-trap 1).
    set_error_state(simulator, "0000")
    assert pysnmp_notify(port, COMMUNITY, PRINTER_ALERT, v1=True, inform=False) is None
    wait_for(lambda: jammed(daemon) == 0.0, timeout=30, what="the cleared jam after a v1 trap")

    samples = daemon.scrape()
    assert value(
        samples, "ocrfleet_snmp_device_traps_total", site="lib", device="printer-01",
        trap="printerAlert",
    ) == 2.0  # fmt: skip
    assert received(daemon, TrapResult.POLLED) + received(daemon, TrapResult.RATE_LIMITED) == 2


def test_informs_are_answered(daemon: RunningApp, simulator: SnmpSimulator) -> None:
    port = trap_port(daemon)
    # Without an answer snmpinform waits for its timeout and fails.
    sent = net_snmp(
        "snmpinform", "-v", "2c", "-c", COMMUNITY, "-t", "5", "-r", "0", f"127.0.0.1:{port}", "",
        LINK_DOWN,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert pysnmp_notify(port, COMMUNITY, LINK_DOWN, v1=False, inform=True) is None
    samples = daemon.scrape()
    assert value(
        samples, "ocrfleet_snmp_device_traps_total", site="lib", device="printer-01",
        trap="linkDown",
    ) == 2.0  # fmt: skip
    # An inform with another community is not answered: pysnmp gives up.
    assert pysnmp_notify(port, "guess", LINK_DOWN, v1=False, inform=True) is not None


def test_bad_traps_are_counted_and_the_daemon_goes_on(
    daemon: RunningApp, simulator: SnmpSimulator
) -> None:
    port = trap_port(daemon)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for garbage in (b"", b"\x00" * 20, b"\x30\x82\xff\xff", bytes(range(256))):
            client.sendto(garbage, ("127.0.0.1", port))
    wrong = net_snmp("snmptrap", "-v", "2c", "-c", "guess", f"127.0.0.1:{port}", "", LINK_DOWN)
    assert wrong.returncode == 0, wrong.stderr
    v3 = net_snmp(
        "snmptrap", "-v", "3", "-u", "someone", "-l", "noAuthNoPriv", "-e", "0x8000000001020304",
        f"127.0.0.1:{port}", "", LINK_DOWN,
    )  # fmt: skip
    assert v3.returncode == 0, v3.stderr
    wait_for(
        lambda: (
            received(daemon, TrapResult.UNDECODABLE) == 4
            and received(daemon, TrapResult.BAD_COMMUNITY) == 1
            and received(daemon, TrapResult.UNSUPPORTED_VERSION) == 1
        ),
        what="every bad datagram counted",
    )
    assert received(daemon, TrapResult.POLLED) == 0
    # Still serving, and still answering traps.
    with urllib.request.urlopen(daemon.metrics_url.replace("/metrics", "/healthz")) as answer:
        assert answer.status == 200
    set_error_state(simulator, JAMMED)
    sent = net_snmp("snmptrap", "-v", "1", "-c", COMMUNITY, f"127.0.0.1:{port}", "1.3.6.1.4.1.9",
                    "", "2", "0", "")  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    wait_for(lambda: jammed(daemon) == 1.0, timeout=30, what="the jam after a v1 linkDown")
    assert daemon.app.traps is not None
    assert daemon.error is None
