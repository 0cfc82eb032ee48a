"""The hotspot kind on recorded values: vendors, interface roles, restarts, metrics.

The recordings in tests/fixtures/snmp/hotspots are the project's own, shaped
like the real devices (UniFi, MikroTik, Cisco WLC, an OpenWrt-like AP, and an
AP whose radios are typed as Ethernet).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind, KindExtension, Sample
from ocrfleet.pluginhost import hookimpl
from ocrfleet.pluginhost.catalog import PluginConflictError
from ocrfleet.snmp.values import SnmpTable, SnmpValue, column
from ocrfleet.state import Availability, DeviceView, PollFailure, Presence, Usage
from ocrfleet_hotspot import oids
from ocrfleet_hotspot.kind import HotspotKind, HotspotOptions, UnknownVendorError, interface_labels
from ocrfleet_hotspot.parse import (
    build_reading,
    count_restarts,
    interface_role,
    is_wrap,
    parse_interfaces,
)
from ocrfleet_hotspot.reading import HotspotReading, Uplink
from ocrfleet_hotspot.vendors import GenericVendor, HotspotVendor, MikrotikVendor
from ocrfleet_hotspot.vendors.unifi import UNIFI_AP_SYSTEM_ISOLATED
from tests.support.daemon import catalog
from tests.support.snmprec import read_snmprec
from tests.support.words import english

FIXTURES = Path(__file__).parent / "fixtures" / "snmp" / "hotspots"
WRAP = 2**32


def values_of(stem: str) -> dict[str, SnmpValue]:
    return read_snmprec(FIXTURES / f"{stem}.snmprec")


def hotspot_kind(*plugins: object) -> HotspotKind:
    """The kind as the daemon gets it: bundled vendors registered through the hook."""
    kind = catalog(*plugins).kinds["hotspot"]
    assert isinstance(kind, HotspotKind)
    return kind


def read(
    stem: str,
    *,
    kind: HotspotKind | None = None,
    vendor: str = "auto",
    previous: HotspotReading | None = None,
    now: float = 1000.0,
    values: SnmpTable | None = None,
    uplinks: Sequence[str] = (),
    radios: Sequence[str] = (),
) -> HotspotReading:
    kind = kind or hotspot_kind()
    values = values if values is not None else values_of(stem)
    chosen = kind.select_vendor(
        vendor, str(values.get(oids.SYS_OBJECT_ID)), _text(values.get(oids.SYS_DESCR))
    )
    return build_reading(values, chosen, previous=previous, now=now, uplinks=uplinks, radios=radios)


def _text(value: SnmpValue) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def roles(reading: HotspotReading) -> dict[str, str]:
    return {i.name: i.role for i in reading.interfaces}


def labelled(reading: HotspotReading) -> dict[tuple[str, str], bool]:
    return {(label, i.role): i.oper_up for label, i in interface_labels(reading.interfaces)}


# -- the recordings ------------------------------------------------------------


def test_unifi_sums_the_visitor_bsses_and_leaves_out_the_mesh_uplink() -> None:
    reading = read("unifi-ap")
    assert reading.vendor == "unifi"
    # 7 + 3 on 2.4 GHz, 11 + 4 on 5 GHz; the vwire- BSS's one station is a meshed AP.
    assert reading.clients == 25
    assert reading.model == "UAP-AC-Pro"
    assert reading.sys_name == "ap-leeszaal"
    # hrSystemUptime (host) wins over sysUpTime (agent).
    assert reading.uptime_source == "hrSystemUptime"
    assert reading.uptime_seconds == pytest.approx(86523.0)
    assert roles(reading) == {
        "lo": "other",
        "eth0": "uplink",
        "wifi0": "radio",
        "wifi1": "radio",
        "ath0": "radio",
        "ath1": "radio",
        "ath2": "radio",
        "ath3": "radio",
        "ath4": "radio",
        "wds0": "other",
        "br0": "other",
    }
    eth0 = next(i for i in reading.interfaces if i.name == "eth0")
    assert eth0.alias == "PoE switch poort 7"
    assert labelled(reading)[("eth0", "uplink")] is True


def test_mikrotik_counts_each_station_once_and_only_on_access_point_interfaces() -> None:
    values = values_of("mikrotik-wap")
    reading = read("mikrotik-wap", values=values)
    assert reading.vendor == "mikrotik"
    # mtxrWlApClientCount adds up to 7: one station is registered on both bands.
    per_interface = column(values, "1.3.6.1.4.1.14988.1.1.1.3.1.6")
    assert sum(int(v) for v in per_interface.values() if isinstance(v, int)) == 7
    # Six distinct stations; the peer of wlan4 (station mode) is not a client.
    assert reading.clients == 6
    assert roles(reading)["wlan4"] == "radio"
    assert roles(reading)["bridge"] == "other"
    assert roles(reading)["ether1"] == "uplink"


def test_mikrotik_access_points_without_clients_are_up_whatever_iftable_says() -> None:
    # RouterOS reports an AP interface with no client as not running.
    values = values_of("mikrotik-wap")
    assert values[f"{oids.IF_OPER_STATUS}.7"] == 2
    reading = read("mikrotik-wap", values=values)
    wlan5 = next(i for i in reading.interfaces if i.name == "wlan5")
    assert (wlan5.oper_up, wlan5.oper_from_vendor) == (True, True)
    assert labelled(reading)[("wlan5", "radio")] is True
    row = next(line for line in hotspot_kind().describe(reading).splitlines() if " wlan5 " in line)
    assert row.split() == ["7", "wlan5", "71", "radio", "up", "up", "(vendor)", "yes"]
    # Other vendors leave ifOperStatus alone.
    generic = read("mikrotik-wap", values=values, vendor="generic")
    assert labelled(generic)[("wlan5", "radio")] is False


def test_mikrotik_without_registration_table_falls_back_to_the_interface_counts() -> None:
    values = {
        k: v
        for k, v in values_of("mikrotik-wap").items()
        if not k.startswith("1.3.6.1.4.1.14988.1.1.1.2.")
    }
    assert MikrotikVendor().clients(values) == 7


def test_mikrotik_without_access_point_interfaces_has_no_count() -> None:
    values = {
        k: v for k, v in values_of("mikrotik-wap").items() if not k.startswith("1.3.6.1.4.1.14988")
    }
    assert MikrotikVendor().clients(values) is None


def test_mikrotik_adds_capsman_clients() -> None:
    values: dict[str, SnmpValue] = dict(values_of("mikrotik-wap"))
    capsman = "1.3.6.1.4.1.14988.1.1.1.5.1.3"
    values[f"{capsman}.124.1.2.3.4.1.12"] = 100  # already on a local AP interface
    values[f"{capsman}.124.1.2.3.4.9.12"] = 100
    values[f"{capsman}.124.1.2.3.4.10.13"] = 100
    assert MikrotikVendor().clients(values) == 8


def test_cisco_wlc_sums_the_users_of_every_radio_of_every_ap() -> None:
    reading = read("cisco-wlc")
    assert reading.vendor == "cisco-wlc"
    assert reading.clients == 4 + 9 + 0 + 6 + 2 + 5
    assert reading.model == "Cisco Controller"
    # No HOST-RESOURCES-MIB on a controller: sysUpTime it is.
    assert reading.uptime_source == "sysUpTime"
    assert reading.uptime_seconds == pytest.approx(2_500_000.0)
    assert roles(reading) == {
        "GigabitEthernet0/0/1": "uplink",
        "GigabitEthernet0/0/2": "uplink",
        "Virtual Interface": "other",
    }


def test_generic_ap_reports_no_client_count_rather_than_zero() -> None:
    reading = read("generic-ap")
    assert reading.vendor == "generic"
    assert reading.clients is None
    assert reading.model == "Linux OpenWrt 5.15.134 #0 SMP Mon Oct 9 21:45:35 2023 mips"
    assert reading.uptime_source == "sysUpTime"
    assert roles(reading) == {
        "lo": "other",
        "eth0": "uplink",
        "br-lan": "other",
        "wlan0": "radio",
        "wlan1": "radio",
        "eth0.2": "other",
    }
    assert labelled(reading) == {
        ("eth0", "uplink"): True,
        ("wlan0", "radio"): True,
        ("wlan1", "radio"): False,
    }


def test_radios_typed_as_ethernet_are_radios_and_repeated_names_stay_apart() -> None:
    reading = read("radios-as-ethernet")
    assert reading.vendor == "generic"
    assert reading.clients is None
    assert roles(reading)["wifi0"] == "radio"
    assert roles(reading)["wifi0.1"] == "radio"
    assert roles(reading)["mgt0"] == "other"
    assert roles(reading)["sit0"] == "other"
    # eth1 and wifi1.2 are administratively down: meant to be, so not reported.
    assert labelled(reading) == {
        ("eth0", "uplink"): True,
        ("wifi0", "radio"): True,
        ("wifi1", "radio"): True,
        ("wifi0.1", "radio"): True,
        ("wifi1.1#8", "radio"): True,
        ("wifi1.1#9", "radio"): False,
    }


# -- interface roles -----------------------------------------------------------


@pytest.mark.parametrize(
    ("if_type", "name", "role"),
    [
        (71, "wlan1", "radio"),
        (71, "Radio 5 GHz", "radio"),
        (6, "ath0", "radio"),
        (6, "rai0", "radio"),
        (6, "ra7", "radio"),
        (6, "wl0.1", "radio"),
        (6, "wlan0-1", "radio"),
        (6, "phy1-ap0", "radio"),
        (1, "wifi0", "radio"),
        (53, "wifi1.2", "radio"),
        (6, "eth0", "uplink"),
        (6, "ether1", "uplink"),
        (6, "WAN", "uplink"),
        (117, "GigabitEthernet1/0/1", "uplink"),
        (161, "bond0", "uplink"),
        (6, "br0", "other"),
        (6, "br-lan", "other"),
        (6, "bridge2_CAP", "other"),
        (6, "vlan1", "other"),
        (6, "eth0.100", "other"),
        (6, "ifb0", "other"),
        (6, "wds0", "other"),
        (6, "wdsi3", "other"),
        (6, "apcli0", "other"),
        (6, "apclii0", "other"),
        (6, "mgt0", "other"),
        (6, "Virtual Interface", "other"),
        (24, "lo", "other"),
        (209, "bridge-local", "other"),
        (23, "pppoe-out1", "other"),
        (131, "wlan0", "other"),
        (1, "spu_us_dummy", "other"),
        (None, "eth0", "other"),
    ],
)
def test_interface_role_rule(if_type: int | None, name: str, role: str) -> None:
    assert interface_role(if_type, name) == role


def test_named_uplinks_are_the_only_uplinks() -> None:
    reading = read("mikrotik-wap", uplinks=("ether1",))
    assert roles(reading)["ether1"] == "uplink"
    reading = read("radios-as-ethernet", uplinks=("eth1",))
    assert roles(reading)["eth0"] == "other"
    assert roles(reading)["eth1"] == "uplink"


def test_named_radios_make_ethernet_ports_radios_and_no_others() -> None:
    # A Broadcom router's radios are eth1 and eth2: nothing in their name says so.
    values: dict[str, SnmpValue] = dict(values_of("generic-ap"))
    values[f"{oids.IF_ALIAS}.2"] = b"radio 2.4"
    interfaces = parse_interfaces(values, radios=("radio 2.4", "eth0.2"))
    by_name = {i.name: i.role for i in interfaces}
    assert by_name["eth0"] == "radio"  # matched by ifAlias
    assert by_name["eth0.2"] == "radio"
    assert by_name["wlan0"] == "other"  # a named list is the whole truth


def test_a_named_interface_the_device_lacks_is_reported_down() -> None:
    reading = read("unifi-ap", uplinks=("eth0", "eth1"))
    assert labelled(reading)[("eth1", "uplink")] is False
    assert labelled(reading)[("eth0", "uplink")] is True


def test_an_interface_cannot_be_both_radio_and_uplink() -> None:
    with pytest.raises(ValidationError, match="both uplink and radio: eth1"):
        HotspotOptions(host="ap", uplink_interfaces=("eth0", "eth1"), radio_interfaces=("eth1",))


# -- restarts ------------------------------------------------------------------


def with_uptime(stem: str, ticks: int) -> dict[str, SnmpValue]:
    values: dict[str, SnmpValue] = dict(values_of(stem))
    values[oids.SYS_UPTIME] = ticks
    return values


def test_uptime_going_back_is_a_restart_and_going_on_is_not() -> None:
    kind = hotspot_kind()
    first = read("generic-ap", kind=kind, values=with_uptime("generic-ap", 500_000), now=0.0)
    assert first.restarts == 0
    later = read(
        "generic-ap", kind=kind, values=with_uptime("generic-ap", 506_000), previous=first, now=60
    )
    assert later.restarts == 0
    rebooted = read(
        "generic-ap", kind=kind, values=with_uptime("generic-ap", 1_500), previous=later, now=120
    )
    assert rebooted.restarts == 1
    again = read(
        "generic-ap", kind=kind, values=with_uptime("generic-ap", 800), previous=rebooted, now=180
    )
    assert again.restarts == 2


def test_the_32_bit_wrap_after_497_days_is_not_a_restart() -> None:
    # The generic recording is 72.96 s short of the wrap.
    first = read("generic-ap", now=10_000.0)
    assert first.uptime_ticks == 4_294_960_000
    wrapped = read(
        "generic-ap", values=with_uptime("generic-ap", 5_000), previous=first, now=10_125.0
    )
    assert wrapped.restarts == 0
    assert wrapped.uptime_seconds == pytest.approx(50.0)
    rebooted = read(
        "generic-ap", values=with_uptime("generic-ap", 1_000), previous=wrapped, now=10_185.0
    )
    assert rebooted.restarts == 1


def test_a_restart_just_before_the_wrap_after_a_long_outage_is_a_restart() -> None:
    day = 86_400
    previous = replace(read("generic-ap"), uptime_ticks=WRAP - day * 100, restarts=3, polled_at=0.0)
    # Two days later the device has been up one hour: a wrap would show 1 day.
    assert count_restarts(previous, 3600 * 100, "sysUpTime", now=2 * day) == 4
    # ...and a wrap shows the day that passed after it.
    assert count_restarts(previous, day * 100, "sysUpTime", now=2 * day) == 3


def test_a_change_of_uptime_source_is_not_compared() -> None:
    previous = replace(read("generic-ap"), uptime_ticks=900_000, uptime_source="hrSystemUptime")
    assert count_restarts(previous, 1_000, "sysUpTime", now=previous.polled_at + 60) == 0


def test_a_constant_zero_host_uptime_is_ignored() -> None:
    values: dict[str, SnmpValue] = dict(values_of("cisco-wlc"))
    values[oids.HR_SYSTEM_UPTIME] = 0
    reading = read("cisco-wlc", values=values)
    assert reading.uptime_source == "sysUpTime"


@given(
    before=st.integers(0, WRAP - 1),
    elapsed=st.floats(5, 30 * 86_400, allow_nan=False),
)
def test_a_counter_that_went_round_is_always_a_wrap(before: int, elapsed: float) -> None:
    after = (before + round(elapsed * 100)) % WRAP
    if after < before:
        assert is_wrap(before, after, elapsed)


@given(
    elapsed=st.floats(5, 30 * 86_400, allow_nan=False),
    booted_fraction=st.floats(0, 1),
    headroom=st.integers(1, WRAP // 2),
)
def test_a_reboot_is_never_taken_for_a_wrap(
    elapsed: float, booted_fraction: float, headroom: int
) -> None:
    # The device was further from the wrap than the time that passed (plus
    # the slack) and rebooted some time since: its uptime is below `elapsed`.
    slack = 60 + 0.01 * elapsed
    before = WRAP - 1 - round((elapsed + slack) * 100) - headroom
    after = round(elapsed * booted_fraction * 100)
    if 0 <= after < before:
        assert not is_wrap(before, after, elapsed)


# -- vendors -------------------------------------------------------------------


def test_detection_follows_the_vendor_mibs_and_falls_back_to_generic() -> None:
    kind = hotspot_kind()
    assert kind.vendor_names == ("unifi", "mikrotik", "cisco-wlc", "generic")
    assert kind.select_vendor("auto", "1.3.6.1.4.1.14179.1.1.4.3", "anything").name == "cisco-wlc"
    assert kind.select_vendor("auto", "1.3.6.1.4.1.9.1.2427", "Cisco IOS Software").name == (
        "generic"
    )
    assert kind.select_vendor("auto", "1.3.6.1.4.1.14988.1", "router").name == "mikrotik"
    assert kind.select_vendor("auto", "1.3.6.1.4.1.8072.3.2.10", "U6-LR 6.6.55").name == "unifi"
    # An airOS radio answers with Frogfoot's OID and a Linux sysDescr: not UniFi.
    assert kind.select_vendor("auto", "1.3.6.1.4.1.10002.1", "Linux 2.6.32 mips").name == (
        "generic"
    )


def test_a_forced_vendor_without_its_mib_gives_no_count() -> None:
    reading = read("unifi-ap", vendor="mikrotik")
    assert reading.vendor == "mikrotik"
    assert reading.clients is None
    assert read("unifi-ap", vendor="generic").clients is None


def test_an_unknown_vendor_is_reported_with_the_known_ones() -> None:
    kind = hotspot_kind()
    with pytest.raises(UnknownVendorError, match=r"'ubnt' \(known: auto, unifi, mikrotik"):
        kind.select_vendor("ubnt", "", "")


def test_the_options_check_the_vendor_when_the_loader_passes_the_kind() -> None:
    kind = hotspot_kind()
    options = {"host": "ap", "vendor": "ubnt"}
    assert HotspotOptions.model_validate(options).vendor == "ubnt"  # the loader today
    with pytest.raises(ValidationError, match="unknown hotspot vendor 'ubnt'"):
        HotspotOptions.model_validate(options, context={"kind": kind})
    valid = {"host": "ap", "vendor": "cisco-wlc"}
    assert HotspotOptions.model_validate(valid, context={"kind": kind}).vendor == "cisco-wlc"


class FakeSnmp:
    """Answers from a recording, like SnmpClient, counting requests."""

    def __init__(self, values: SnmpTable) -> None:
        self.values = values
        self.requests = 0

    async def get(self, wanted: Sequence[str]) -> dict[str, SnmpValue]:
        self.requests += 1
        return {oid: self.values.get(oid) for oid in wanted}

    async def walk_all(self, roots: Iterable[str]) -> dict[str, SnmpValue]:
        self.requests += 1
        return {
            oid: v for oid, v in self.values.items() if any(oid.startswith(r + ".") for r in roots)
        }


def poll(kind: HotspotKind, stem: str, **options: object) -> tuple[object, FakeSnmp]:
    device = DeviceInfo(
        DeviceKey("lib", "ap"),
        "hotspot",
        options=HotspotOptions.model_validate({"host": "127.0.0.1", **options}),
    )
    snmp = FakeSnmp(values_of(stem))
    reading = asyncio.run(kind.poll(device, snmp, None))  # type: ignore[arg-type]
    return reading, snmp


def test_poll_fetches_what_the_detected_vendor_needs() -> None:
    reading, _ = poll(hotspot_kind(), "unifi-ap")
    assert isinstance(reading, HotspotReading)
    assert (reading.vendor, reading.clients, reading.model) == ("unifi", 25, "UAP-AC-Pro")


def test_poll_with_an_unknown_vendor_fails_before_any_request() -> None:
    kind = hotspot_kind()
    snmp = FakeSnmp(values_of("unifi-ap"))
    device = DeviceInfo(
        DeviceKey("lib", "ap"), "hotspot", options=HotspotOptions(host="ap", vendor="ubnt")
    )
    with pytest.raises(UnknownVendorError):
        asyncio.run(kind.poll(device, snmp, None))  # type: ignore[arg-type]
    assert snmp.requests == 0


class BrokenVendor(HotspotVendor):
    name = "broken"

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        return sys_object_id.startswith("1.3.6.1.4.1.26928")

    def clients(self, values: SnmpTable) -> int | None:
        raise RuntimeError("vendor bug")


class ClaimsEverythingBadly(HotspotVendor):
    name = "flaky"

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        raise RuntimeError("matcher bug")

    def clients(self, values: SnmpTable) -> int | None:
        return 1


def test_a_broken_vendor_costs_its_count_not_the_reading(caplog: pytest.LogCaptureFixture) -> None:
    kind = hotspot_kind()
    kind.extend(KindExtension("hotspot", "flaky", ClaimsEverythingBadly()))
    kind.extend(KindExtension("hotspot", "broken", BrokenVendor()))
    reading, _ = poll(kind, "radios-as-ethernet")
    assert isinstance(reading, HotspotReading)
    assert reading.vendor == "broken"
    assert reading.clients is None
    assert reading.uptime_seconds == pytest.approx(198_025.0)
    messages = [r.getMessage() for r in caplog.records]
    assert any("'flaky' failed in matches()" in m for m in messages)
    assert any("'broken' failed in clients()" in m for m in messages)
    # Without a handler the vendor's error is not swallowed.
    with pytest.raises(RuntimeError, match="vendor bug"):
        build_reading(values_of("radios-as-ethernet"), BrokenVendor(), previous=None, now=0)


# -- extensions and third-party vendors ----------------------------------------


class AcmeVendor(HotspotVendor):
    """A third-party vendor for the HiveOS-like recording."""

    name = "acme"
    title = "Acme HiveOS"
    walk_roots = ("1.3.6.1.2.1.2.2.1.8",)

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        return sys_object_id.startswith("1.3.6.1.4.1.26928.")

    def clients(self, values: SnmpTable) -> int | None:
        return 42


class AcmePlugin:
    @hookimpl
    def ocrfleet_kind_extensions(self) -> Sequence[KindExtension]:
        return [KindExtension("hotspot", "acme", AcmeVendor())]


def test_a_third_party_vendor_plugin_is_registered_through_the_hook() -> None:
    plugins = catalog(AcmePlugin())
    kind = plugins.kinds["hotspot"]
    assert isinstance(kind, HotspotKind)
    assert kind.vendor_names == ("unifi", "mikrotik", "cisco-wlc", "acme", "generic")
    contribution = {c.plugin: c.extensions for c in plugins.contributions}
    assert any(exts == ["hotspot:acme"] for exts in contribution.values())
    reading = read("radios-as-ethernet", kind=kind)
    assert (reading.vendor, reading.clients) == ("acme", 42)
    # The bundled vendors still win their own devices.
    assert read("unifi-ap", kind=kind).vendor == "unifi"
    assert "Acme HiveOS" in kind.describe(reading)


class NotAVendorPlugin:
    @hookimpl
    def ocrfleet_kind_extensions(self) -> Sequence[KindExtension]:
        return [KindExtension("hotspot", "acme", object())]


def test_an_extension_that_is_not_a_vendor_is_refused_at_start_up() -> None:
    with pytest.raises(PluginConflictError, match=r"cannot extend kind 'hotspot'.*HotspotVendor"):
        catalog(NotAVendorPlugin())


def test_extend_refuses_what_does_not_fit() -> None:
    kind = hotspot_kind()
    with pytest.raises(TypeError, match="not str"):
        kind.extend(KindExtension("hotspot", "x", "a string"))
    with pytest.raises(TypeError, match="kind 'printer'"):
        kind.extend(KindExtension("printer", "acme", AcmeVendor()))
    with pytest.raises(TypeError, match="differs from its vendor's name 'acme'"):
        kind.extend(KindExtension("hotspot", "acme2", AcmeVendor()))
    with pytest.raises(PluginConflictError, match="'unifi' is already taken"):
        kind.extend(KindExtension("hotspot", "unifi", _named("unifi")))
    with pytest.raises(PluginConflictError, match="'generic'"):
        kind.extend(KindExtension("hotspot", "generic", _named("generic")))
    with pytest.raises(TypeError, match="lower-case"):
        kind.extend(KindExtension("hotspot", "Big Vendor", _named("Big Vendor")))
    assert "acme" not in kind.vendor_names


def _named(name: str) -> HotspotVendor:
    vendor = AcmeVendor()
    vendor.name = name
    return vendor


def test_kinds_from_two_catalogs_do_not_share_vendors() -> None:
    first = hotspot_kind(AcmePlugin())
    second = hotspot_kind()
    assert "acme" in first.vendor_names
    assert "acme" not in second.vendor_names


# -- metrics and probe ---------------------------------------------------------


def view(reading: object, failed: bool = False) -> DeviceView:
    info = DeviceInfo(DeviceKey("lib", "ap"), "hotspot")
    failure = PollFailure("timeout", 1.0, 2.0) if failed else None
    return DeviceView(
        info=info,
        presence=Presence(Availability.UNKNOWN, not failed, 1.0),
        last_seen=1.0,
        reading=reading,
        reading_at=1.0,
        usage=Usage(),
        failure=failure,
    )


def by_name(samples: Iterable[Sample]) -> dict[tuple[str, tuple[str, ...]], float]:
    return {(s.name, s.labels): s.value for s in samples}


def test_samples_of_an_answering_hotspot() -> None:
    kind: DeviceKind = hotspot_kind()
    samples = by_name(kind.samples(view(read("unifi-ap"))))
    assert samples[("ocrfleet_hotspot_uptime_seconds", ())] == pytest.approx(86523.0)
    assert samples[("ocrfleet_hotspot_restarts_total", ())] == 0.0
    assert samples[("ocrfleet_hotspot_clients", ())] == 25.0
    assert samples[("ocrfleet_hotspot_info", ("unifi", "UAP-AC-Pro"))] == 1.0
    assert samples[("ocrfleet_hotspot_interface_up", ("eth0", "uplink"))] == 1.0
    assert samples[("ocrfleet_hotspot_interface_up", ("ath4", "radio"))] == 1.0
    interfaces = {labels for name, labels in samples if name == "ocrfleet_hotspot_interface_up"}
    assert ("wds0", "other") not in interfaces and ("br0", "other") not in interfaces
    specs = {spec.name for spec in kind.metric_specs}
    assert {name for name, _ in samples} <= specs


def test_no_client_sample_without_a_count() -> None:
    samples = by_name(hotspot_kind().samples(view(read("generic-ap"))))
    assert not any(name == "ocrfleet_hotspot_clients" for name, _ in samples)


def test_a_hotspot_that_stopped_answering_keeps_only_its_counter_and_info() -> None:
    reading = replace(read("unifi-ap"), restarts=2)
    samples = by_name(hotspot_kind().samples(view(reading, failed=True)))
    assert samples == {
        ("ocrfleet_hotspot_restarts_total", ()): 2.0,
        ("ocrfleet_hotspot_info", ("unifi", "UAP-AC-Pro")): 1.0,
    }
    assert list(hotspot_kind().samples(view(None))) == []


def test_describe_is_a_readable_table() -> None:
    kind = hotspot_kind()
    text = kind.describe(read("radios-as-ethernet"))
    lines = text.splitlines()
    assert lines[0] == "vendor    generic (standard MIBs only (no client count))"
    assert "uptime    2d 7h 0m (hrSystemUptime)" in lines
    assert "clients   no count (vendor)" in lines
    header = next(line for line in lines if line.startswith("ifIndex"))
    assert header.split() == ["ifIndex", "name", "ifType", "role", "admin", "oper", "metric"]
    row = next(line for line in lines if line.split()[:2] == ["9", "wifi1.1"])
    assert row.split() == ["9", "wifi1.1", "6", "radio", "up", "down", "yes"]
    assert kind.describe("not a reading") == "'not a reading'"


# -- the uplink ----------------------------------------------------------------------

UPLINK_FIXTURES = Path(__file__).parent / "fixtures" / "snmp" / "hotspot-uplinks"
GENERIC = GenericVendor()


def uplink_values(stem: str) -> dict[str, SnmpValue]:
    return read_snmprec(UPLINK_FIXTURES / f"{stem}.snmprec")


def read_uplink(
    stem: str, option: str | int | None = None, previous: HotspotReading | None = None
) -> HotspotReading:
    kind = hotspot_kind()
    values = uplink_values(stem)
    vendor = kind.select_vendor(
        "auto", str(values.get(oids.SYS_OBJECT_ID)), _text(values.get(oids.SYS_DESCR))
    )
    return build_reading(values, vendor, previous=previous, now=1.0, uplink_interface=option)


def test_the_uplink_option_takes_a_name_or_an_index_and_refuses_the_rest() -> None:
    base = {"host": "127.0.0.1"}
    assert HotspotOptions.model_validate({**base, "uplink_interface": 3}).uplink_interface == 3
    named = HotspotOptions.model_validate({**base, "uplink_interface": "pppoe-out1"})
    assert named.uplink_interface == "pppoe-out1"
    assert HotspotOptions.model_validate(base).uplink_interface is None
    for bad, said in (
        (True, "an interface name (text) or an ifIndex"),
        (2.0, "an interface name (text) or an ifIndex"),
        (0, "ifIndex 0 is out of range"),
        ("  ", "must not be empty"),
        ("x" * 256, "longer than 255"),
    ):
        with pytest.raises(ValidationError, match=re.escape(said)) as caught:
            HotspotOptions.model_validate({**base, "uplink_interface": bad})
        assert caught.value.errors()[0]["loc"][0] == "uplink_interface"
    with pytest.raises(ValidationError, match="'wlan0' is also listed in radio_interfaces"):
        HotspotOptions.model_validate(
            {**base, "uplink_interface": "wlan0", "radio_interfaces": ["wlan0"]}
        )


def test_mikrotik_reads_its_pppoe_session_by_default() -> None:
    up = read_uplink("router-pppoe").uplink
    assert up == Uplink("up", "interface", "pppoe-out1", 5, detail="ifOperStatus up(1)")
    down = read_uplink("router-line-down").uplink
    assert down is not None and (down.state, down.index) == ("down", 5)
    assert down.detail == "ifOperStatus lowerLayerDown(7)"
    # ether1 when there is no session (a cAP as it comes): the fixture of the AP.
    ap = read("mikrotik-wap").uplink
    assert ap is not None and (ap.state, ap.interface, ap.configured) == ("up", "ether1", False)


def test_a_named_uplink_wins_over_the_vendors_default() -> None:
    by_index = read_uplink("router-line-down", 1).uplink
    assert by_index == Uplink(
        "up", "interface", "ether1", 1, configured=True, detail="ifOperStatus up(1)"
    )
    # By ifName, ifDescr or ifAlias, exactly.
    by_alias = read_uplink("router-line-down", "Proximus").uplink
    assert by_alias is not None and (by_alias.interface, by_alias.state) == ("pppoe-out1", "down")


def test_a_named_uplink_the_device_lacks_is_unknown_and_says_what_it_has() -> None:
    missing = read_uplink("openwrt-gateway", "wan9").uplink
    assert missing is not None
    assert (missing.state, missing.missing, missing.configured) == ("unknown", "wan9", True)
    assert missing.detail == (
        "no interface with ifName, ifDescr or ifAlias 'wan9' "
        "(the device has: lo, eth0, eth1, wlan0)"
    )
    by_index = read_uplink("openwrt-gateway", 12).uplink
    assert by_index is not None and by_index.detail.startswith("no ifIndex 12 (")
    # Names are exact: the ifAlias in another case is another name.
    assert read_uplink("openwrt-gateway", "vdsl proximus").uplink.missing  # type: ignore[union-attr]


def test_unifi_takes_its_isolated_flag_and_no_flag_is_unknown() -> None:
    isolated = read_uplink("unifi-isolated").uplink
    assert isolated is not None and (isolated.state, isolated.source) == ("down", "vendor")
    # eth0 without a cable while meshing: the AP is not isolated, so up.
    meshed = read_uplink("unifi-connected").uplink
    assert meshed is not None and (meshed.state, meshed.source) == ("up", "vendor")
    assert read("unifi-ap").uplink == Uplink("up", "vendor", detail="the vendor's MIB says up")
    # Firmware that does not answer the flag: nothing tells (eth0 is not guessed).
    silent = {k: v for k, v in values_of("unifi-ap").items() if k != UNIFI_AP_SYSTEM_ISOLATED}
    assert read("unifi-ap", values=silent).uplink is None
    # The generic vendor and the Cisco controller have no default.
    assert read("generic-ap").uplink is None and read("cisco-wlc").uplink is None
    # A name in the options goes before the vendor's flag.
    named = read_uplink("unifi-isolated", "eth0").uplink
    assert named is not None and (named.state, named.source) == ("up", "interface")


def test_an_interface_switched_off_is_down_and_testing_unknown_or_dormant_is_unknown() -> None:
    values = uplink_values("router-pppoe")
    vendor = MikrotikVendor()
    off = {**values, f"{oids.IF_ADMIN_STATUS}.5": 2}
    reading = build_reading(off, vendor, previous=None, now=1.0)
    assert reading.uplink is not None and reading.uplink.state == "down"
    assert reading.uplink.detail == "ifAdminStatus down (switched off)"
    unknown = {**values, f"{oids.IF_OPER_STATUS}.5": 4}
    reading = build_reading(unknown, vendor, previous=None, now=1.0)
    assert reading.uplink is not None and reading.uplink.state == "unknown"
    # A dial-on-demand or LTE line idling (dormant) is not a line that is down.
    dormant = {**values, f"{oids.IF_OPER_STATUS}.5": 5}
    reading = build_reading(dormant, vendor, previous=None, now=1.0)
    assert reading.uplink is not None and reading.uplink.state == "unknown"
    # An interface running its tests says nothing of the line behind it.
    testing = {**values, f"{oids.IF_OPER_STATUS}.5": 3}
    reading = build_reading(testing, vendor, previous=None, now=1.0)
    assert reading.uplink is not None and reading.uplink.state == "unknown"
    assert reading.uplink.detail == "ifOperStatus testing(3)"
    lower_down = {**values, f"{oids.IF_OPER_STATUS}.5": 7}
    reading = build_reading(lower_down, vendor, previous=None, now=1.0)
    assert reading.uplink is not None and reading.uplink.state == "down"


def test_of_two_interfaces_with_the_name_the_same_one_is_read_every_poll() -> None:
    # Two "wan" interfaces (HiveOS-like duplicates); the first poll takes the
    # lower ifIndex, and later polls keep to it while it has the name.
    values = uplink_values("openwrt-gateway")
    twice = {**values, f"{oids.IF_NAME}.2": "wan", f"{oids.IF_NAME}.3": "wan"}
    first = build_reading(twice, GENERIC, previous=None, now=1.0, uplink_interface="wan")
    assert first.uplink is not None and first.uplink.index == 2
    kept = replace(first, uplink=replace(first.uplink, index=3))
    again = build_reading(twice, GENERIC, previous=kept, now=2.0, uplink_interface="wan")
    assert again.uplink is not None and again.uplink.index == 3
    # Renamed away: looked up again.
    moved = {**twice, f"{oids.IF_NAME}.3": "eth1"}
    found = build_reading(moved, GENERIC, previous=kept, now=3.0, uplink_interface="wan")
    assert found.uplink is not None and found.uplink.index == 2


def test_the_uplink_costs_no_request_of_its_own() -> None:
    # UniFi's flag rides in the request for its model; the rest is in the
    # interface walk every poll makes.
    _, unifi = poll(hotspot_kind(), "unifi-ap")
    _, unifi_named = poll(hotspot_kind(), "unifi-ap", uplink_interface="eth0")
    assert unifi.requests == unifi_named.requests == 3


def test_the_uplink_as_a_metric_and_an_internet_check() -> None:
    kind = hotspot_kind()
    up, down = read_uplink("router-pppoe"), read_uplink("router-line-down")
    assert by_name(kind.samples(view(up)))[("ocrfleet_hotspot_uplink_up", ())] == 1.0
    assert by_name(kind.samples(view(down)))[("ocrfleet_hotspot_uplink_up", ())] == 0.0
    assert kind.internet_check(view(up)) == InternetCheck(
        ok=True,
        checked_at=1.0,
        detail="up (pppoe-out1, ifIndex 5, vendor's default, ifOperStatus up(1))",
        source=CheckSource.UPLINK,
    )
    check = kind.internet_check(view(down))
    assert check is not None and (check.ok, check.error) == (False, "uplink_down")
    assert check.source is CheckSource.UPLINK and check.latency is None
    # Unknown, nothing tells, not answering, not a reading: no check and no series.
    for reading, failed in (
        (read_uplink("openwrt-gateway", "wan9"), False),
        (read("generic-ap"), False),
        (down, True),
        ("garbage", False),
    ):
        assert kind.internet_check(view(reading, failed=failed)) is None
        assert not any(
            n == "ocrfleet_hotspot_uplink_up"
            for n, _ in by_name(kind.samples(view(reading, failed=failed)))
        )


def test_the_card_tells_the_desk_about_the_uplink() -> None:
    kind = hotspot_kind()
    down = kind.status_card(view(read_uplink("router-line-down")))
    assert down.tone == "critical"
    assert english(down.condition) == "On, but no internet — check the modem or router, or call IT"
    missing = kind.status_card(view(read_uplink("openwrt-gateway", "wan9")))
    assert (english(missing.condition), missing.tone) == (
        "Its internet connection cannot be checked — tell IT",
        "warning",
    )
    # Up is how it should be: the card keeps to what needs doing.
    up = kind.status_card(view(read_uplink("router-pppoe")))
    assert (up.condition, up.tone) == ("", "ok")


def test_describe_shows_the_uplink() -> None:
    kind = hotspot_kind()
    lines = kind.describe(read_uplink("openwrt-gateway", "VDSL Proximus")).splitlines()
    assert "uplink    down (eth1, ifIndex 3, uplink_interface, ifOperStatus down(2))" in lines
    assert "uplink    unknown" in kind.describe(read("generic-ap")).splitlines()
