"""Hotspots polled over real SNMP: snmpsim agents serving the fixtures, the whole daemon.

One snmpsim process serves every recording in tests/fixtures/snmp/hotspots
(community = file name); one daemon polls them all, plus an address where
nothing answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import RunningApp, Samples, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator, free_udp_port

FIXTURES = Path(__file__).parent / "fixtures" / "snmp" / "hotspots"
SITE = "lib"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    sim = SnmpSimulator(FIXTURES, tmp_path_factory.mktemp("snmpsim-hotspots"))
    with sim:
        yield sim


def hotspot(device: str, port: int, community: str, **options: Any) -> dict[str, Any]:
    return {
        "id": device,
        "kind": "hotspot",
        "options": {
            "host": "127.0.0.1",
            "port": port,
            "snmp": {"version": "2c", "community": community},
            "poll_interval": 5,
            **options,
        },
    }


def labels(device: str, **extra: str) -> dict[str, str]:
    return {"site": SITE, "device": device, "kind": "hotspot", **extra}


ANSWERING = ("unifi", "mikrotik", "wlc", "openwrt", "hive")


def test_hotspots_polled_over_snmp(
    simulator: SnmpSimulator, broker: Mosquitto, tmp_path: Path
) -> None:
    port = simulator.port
    devices = [
        hotspot("unifi", port, "unifi-ap"),
        hotspot("mikrotik", port, "mikrotik-wap", uplink_interfaces=["ether1"]),
        hotspot("wlc", port, "cisco-wlc"),
        hotspot("openwrt", port, "generic-ap"),
        hotspot("hive", port, "radios-as-ethernet"),
        # Nobody listens here: every request times out.
        hotspot("dead", free_udp_port(), "public", timeout=0.3, retries=0),
    ]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices, site=SITE)
    with RunningApp(config) as daemon:

        def all_polled() -> bool:
            samples = daemon.scrape()
            answered = all(
                value(samples, "ocrfleet_hotspot_uptime_seconds", **labels(d)) is not None
                for d in ANSWERING
            )
            failed = value(
                samples, "ocrfleet_snmp_poll_errors_total", kind="hotspot", reason="timeout"
            )
            return answered and failed is not None and failed >= 1

        wait_for(all_polled, timeout=20, what="every hotspot to be polled once")
        samples = daemon.scrape()

    check_uptime_and_restarts(samples)
    check_clients(samples)
    check_interfaces(samples)
    check_info(samples)
    check_the_dead_one(samples)


def check_uptime_and_restarts(samples: Samples) -> None:
    expected_uptime = {
        "unifi": 86_523.0,  # hrSystemUptime, not sysUpTime's 86,400
        "mikrotik": 3_601.5,
        "wlc": 2_500_000.0,
        "openwrt": 42_949_600.0,
        "hive": 198_025.0,
    }
    for device, uptime in expected_uptime.items():
        assert value(samples, "ocrfleet_device_up", **labels(device)) == 1.0, device
        assert value(samples, "ocrfleet_hotspot_uptime_seconds", **labels(device)) == uptime
        # Polled again and again with the same uptime: never a restart.
        assert value(samples, "ocrfleet_hotspot_restarts_total", **labels(device)) == 0.0


def check_clients(samples: Samples) -> None:
    clients = {
        device: value(samples, "ocrfleet_hotspot_clients", **labels(device)) for device in ANSWERING
    }
    # No count from the standard MIBs: no series, rather than a false 0.
    assert clients == {"unifi": 25.0, "mikrotik": 6.0, "wlc": 26.0, "openwrt": None, "hive": None}


def check_interfaces(samples: Samples) -> None:
    def interfaces(device: str) -> dict[tuple[str, str], float | None]:
        found = series_of(samples, "ocrfleet_hotspot_interface_up")
        return {
            (s["interface"], s["role"]): value(samples, "ocrfleet_hotspot_interface_up", **s)
            for s in found
            if s["device"] == device
        }

    assert interfaces("unifi") == {
        ("eth0", "uplink"): 1.0,
        **{(name, "radio"): 1.0 for name in ("wifi0", "wifi1", "ath0", "ath1", "ath2", "ath3")},
        ("ath4", "radio"): 1.0,
    }
    # Only the named uplink; the station-mode wlan4 is a radio too.
    assert interfaces("mikrotik") == {
        ("ether1", "uplink"): 1.0,
        ("wlan1", "radio"): 1.0,
        ("wlan2", "radio"): 1.0,
        ("wlan3", "radio"): 1.0,
        ("wlan4", "radio"): 1.0,
        # ifOperStatus down, as RouterOS has it for an AP without clients.
        ("wlan5", "radio"): 1.0,
    }
    assert interfaces("wlc") == {
        ("GigabitEthernet0/0/1", "uplink"): 1.0,
        ("GigabitEthernet0/0/2", "uplink"): 1.0,
    }
    assert interfaces("openwrt") == {
        ("eth0", "uplink"): 1.0,
        ("wlan0", "radio"): 1.0,
        ("wlan1", "radio"): 0.0,
    }
    assert interfaces("hive") == {
        ("eth0", "uplink"): 1.0,
        ("wifi0", "radio"): 1.0,
        ("wifi1", "radio"): 1.0,
        ("wifi0.1", "radio"): 1.0,
        ("wifi1.1#8", "radio"): 1.0,
        ("wifi1.1#9", "radio"): 0.0,
    }


def check_info(samples: Samples) -> None:
    info = {
        s["device"]: (s["vendor"], s["model"]) for s in series_of(samples, "ocrfleet_hotspot_info")
    }
    assert info == {
        "unifi": ("unifi", "UAP-AC-Pro"),
        "mikrotik": ("mikrotik", "RouterOS RBwAPG-5HacD2HnD"),
        "wlc": ("cisco-wlc", "Cisco Controller"),
        "openwrt": ("generic", "Linux OpenWrt 5.15.134 #0 SMP Mon Oct 9 21:45:35 2023 mips"),
        "hive": ("generic", "AP230, HiveOS 10.6r1 build-276814"),
    }


def check_the_dead_one(samples: Samples) -> None:
    assert value(samples, "ocrfleet_device_up", **labels("dead")) == 0.0
    # Never answered: no reading, so no hotspot series at all.
    for name in (
        "ocrfleet_hotspot_uptime_seconds",
        "ocrfleet_hotspot_restarts_total",
        "ocrfleet_hotspot_info",
        "ocrfleet_hotspot_interface_up",
    ):
        assert not [s for s in series_of(samples, name) if s["device"] == "dead"], name
    errors = value(samples, "ocrfleet_snmp_poll_errors_total", kind="hotspot", reason="timeout")
    assert errors is not None and errors >= 1


# -- the uplink: the hotspot's way to the internet ---------------------------------

UPLINK_FIXTURES = Path(__file__).parent / "fixtures" / "snmp" / "hotspot-uplinks"
REBOOT_FIXTURES = Path(__file__).parent / "fixtures" / "snmp" / "hotspot-reboot"


@pytest.fixture(scope="module")
def uplink_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    sim = SnmpSimulator(UPLINK_FIXTURES, tmp_path_factory.mktemp("snmpsim-uplinks"))
    with sim:
        yield sim


def firing(samples: Samples, alertname: str) -> set[str]:
    return {
        s["device"]
        for s in series_of(samples, "ocrfleet_alert_firing")
        if s["alertname"] == alertname and value(samples, "ocrfleet_alert_firing", **s) == 1.0
    }


def test_hotspot_uplinks_over_snmp(
    uplink_simulator: SnmpSimulator,
    broker: Mosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = uplink_simulator.port
    devices = [
        # MikroTik: no option, the vendor's default (pppoe-out1) is read.
        hotspot("pppoe", port, "router-pppoe"),
        hotspot("line-down", port, "router-line-down"),
        # Named by ifIndex: ether1, whose link to the modem is up.
        hotspot("by-index", port, "router-line-down", uplink_interface=1),
        # UniFi: the vendor's "isolated" flag, whatever eth0 says.
        hotspot("isolated", port, "unifi-isolated"),
        hotspot("meshed", port, "unifi-connected"),
        # Generic: named by ifAlias; without a name nothing tells.
        hotspot("by-alias", port, "openwrt-gateway", uplink_interface="VDSL Proximus"),
        hotspot("by-name", port, "openwrt-gateway", uplink_interface="eth0"),
        hotspot("unnamed", port, "openwrt-gateway"),
        hotspot("typo", port, "openwrt-gateway", uplink_interface="wan9"),
    ]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices, site=SITE)
    now_rules = {"for": 0, "outside_opening_hours": True}
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "rules": {"hotspot_uplink_down": now_rules, "hotspot_uplink_missing": now_rules},
    }
    with caplog.at_level("WARNING", logger="ocrfleet_hotspot"), RunningApp(config) as daemon:

        def judged() -> bool:
            samples = daemon.scrape()
            polled = all(
                value(samples, "ocrfleet_hotspot_uptime_seconds", **labels(d["id"])) is not None
                for d in devices
            )
            return (
                polled
                and firing(samples, "hotspot_uplink_down") == {"line-down", "isolated", "by-alias"}
                and firing(samples, "hotspot_uplink_missing") == {"typo"}
            )

        wait_for(judged, timeout=20, what="every hotspot polled and its uplink judged")
        samples = daemon.scrape()

    uplinks = {
        d["id"]: value(samples, "ocrfleet_hotspot_uplink_up", **labels(d["id"])) for d in devices
    }
    assert uplinks == {
        "pppoe": 1.0,
        "line-down": 0.0,
        "by-index": 1.0,
        "isolated": 0.0,
        "meshed": 1.0,
        "by-alias": 0.0,
        "by-name": 1.0,
        # Nothing tells, or the named interface is not there: no series, not a 0.
        "unnamed": None,
        "typo": None,
    }
    # The hotspot itself is up in every case: this is not hotspot_down.
    assert all(value(samples, "ocrfleet_device_up", **labels(d["id"])) == 1.0 for d in devices)
    assert not firing(samples, "hotspot_down")
    [logged] = {r.getMessage() for r in caplog.records if "uplink_interface" in r.getMessage()}
    assert "lib/typo" in logged and "options.uplink_interface = 'wan9'" in logged
    assert "eth0" in logged and "wlan0" in logged  # what the device does have


def test_a_named_uplink_is_found_again_after_a_reboot_moved_it(
    broker: Mosquitto, tmp_path: Path
) -> None:
    # The same device (port) before and after a reboot that renumbered its
    # interfaces: "wan" was ifIndex 3 and up; now it is 4 and down, and 3 is
    # an interface that is up. Reading the old index would say "up".
    port = free_udp_port()
    devices = [hotspot("gw", port, "gateway", uplink_interface="wan")]
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=devices, site=SITE)
    before = SnmpSimulator(REBOOT_FIXTURES / "before", tmp_path / "before", port=port)
    after = SnmpSimulator(REBOOT_FIXTURES / "after", tmp_path / "after", port=port)
    with RunningApp(config) as daemon:
        with before:

            def polled_before() -> bool:
                samples = daemon.scrape()
                return value(samples, "ocrfleet_hotspot_uptime_seconds", **labels("gw")) == 5000.0

            wait_for(polled_before, timeout=20, what="a poll before the reboot")
            assert value(daemon.scrape(), "ocrfleet_hotspot_uplink_up", **labels("gw")) == 1.0
        with after:

            def polled_after() -> bool:
                samples = daemon.scrape()
                return value(samples, "ocrfleet_hotspot_uptime_seconds", **labels("gw")) == 60.0

            wait_for(polled_after, timeout=30, what="a poll after the reboot")
            samples = daemon.scrape()
    assert value(samples, "ocrfleet_hotspot_restarts_total", **labels("gw")) == 1.0
    assert value(samples, "ocrfleet_hotspot_uplink_up", **labels("gw")) == 0.0
