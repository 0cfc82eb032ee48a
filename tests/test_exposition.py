"""/metrics written directly (FleetRenderer + Exposition) against prometheus_client.

The reference is what the daemon served before: generate_latest over a
registry holding FleetCollector first and the other collectors after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind, MetricSpec, Sample
from ocrfleet.metrics.exposition import (
    MAX_LABEL_VALUE,
    Exposition,
    Family,
    clean_label_value,
    escape_label_value,
    format_value,
)
from ocrfleet.metrics.fleet import FleetCollector
from ocrfleet.metrics.fleetrender import FleetRenderer
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import Availability, DeviceView, FleetState
from ocrfleet_agent.payloads import Health
from ocrfleet_hotspot.kind import HotspotKind
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_printer.parse import parse_reading
from tests.support.daemon import catalog
from tests.support.snmprec import read_snmprec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp"
BRUSSELS = ZoneInfo("Europe/Brussels")
# A Monday at 10:00, the library open; 22:00 the same day, closed.
OPEN = datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS).timestamp()
CLOSED = datetime(2026, 3, 2, 22, 0, tzinfo=BRUSSELS).timestamp()
PRINTERS = [
    "brother_style",
    "colour_mfp",
    "jammed",
    "low_paper",
    "mono_laser",
    "special_values",  # supply descriptions that are not UTF-8
]
HOTSPOTS = ["cisco-wlc", "generic-ap", "mikrotik-wap", "radios-as-ethernet", "unifi-ap"]
TEXT = "text/plain"
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
# What Prometheus 3 sends.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


# -- the fleet ----------------------------------------------------------------


class Other(Collector):
    """Stands for the daemon's other collectors, which stay on prometheus_client."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("ocrfleet_other_thing", "Something else.", value=3.0)


def _printer(device_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": "printer",
        "options": {"host": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}},
        **extra,
    }


def _hotspot(device_id: str) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": "hotspot",
        "options": {"host": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}},
    }


def _loaded(kinds: Any = None) -> LoadedConfig:
    weekdays = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    pcs = [{"id": f"pc-{i:02d}", "kind": "pc"} for i in range(6)]
    return load_config(
        {
            "municipality": {"name": "Testdorp", "adult_population": 5000},
            "sites": [
                {
                    "id": "lib",
                    "name": "Library",
                    "village_core": "Testdorp",
                    "opening_hours": weekdays,
                    "devices": [
                        *pcs,
                        {"id": "laptop-01", "kind": "laptop", "reservable": True},
                        {"id": "pc-quoted", "kind": "pc", "model": 'Dell "Opti\\Plex"\nx'},
                        *[_printer(f"prn-{name}") for name in PRINTERS[:3]],
                        *[_hotspot(f"ap-{name}") for name in HOTSPOTS[:3]],
                    ],
                },
                {
                    "id": "hall",
                    "name": "Town hall",
                    "village_core": "Testdorp",
                    "devices": [
                        {"id": "pc-01", "kind": "pc", "model": "Lenovo M70q"},
                        {"id": "pc-never", "kind": "pc"},
                        *[_printer(f"prn-{name}") for name in PRINTERS[3:]],
                        _printer("prn-never"),
                        *[_hotspot(f"ap-{name}") for name in HOTSPOTS[3:]],
                    ],
                },
            ],
            "mqtt": {"host": "127.0.0.1"},
        },
        kinds if kinds is not None else catalog().kinds,
    )


def _health(i: int, at: float) -> Health:
    return Health(
        ts=at,
        cpu_ratio=0.01 * i,
        memory_used_ratio=0.3 + 0.05 * i,
        disk_free_bytes=(i + 1) * 10**10 + 12345,  # big numbers: Go's exponent form
        uptime_seconds=3600.5 * i,
        os="Windows 11 Pro 23H2" if i % 2 else 'Ubuntu "24.04" \\ LTS',
        agent_version="0.1.0",
        frozen=(True, False, None)[i % 3],
        eid_reader_present=(None, True, False)[i % 3],
    )


def _hotspot_reading(kind: HotspotKind, name: str) -> object:
    values = read_snmprec(FIXTURES / "hotspots" / f"{name}.snmprec")
    object_id = values.get("1.3.6.1.2.1.1.2.0")
    descr = values.get("1.3.6.1.2.1.1.1.0")
    vendor = kind.select_vendor(
        "auto",
        str(object_id or ""),
        descr.decode("latin-1") if isinstance(descr, bytes) else str(descr or ""),
    )
    return build_reading(values, vendor, previous=None, now=1000.0)


class Fleet:
    """A FleetState like a working day's: PCs in use, printers and hotspots polled."""

    def __init__(self, kinds: dict[str, DeviceKind] | None = None) -> None:
        self.kinds: dict[str, DeviceKind] = kinds if kinds is not None else dict(catalog().kinds)
        self.loaded = _loaded(self.kinds)
        timeouts = {
            d.key: self.kinds[d.kind].heartbeat_timeout(d.options) for d in self.loaded.devices
        }
        self.timeouts = timeouts
        self.state = FleetState(self.loaded.devices, timeouts)
        self.clock = ManualClock(OPEN)
        t = OPEN - 600
        for i, device in enumerate(self.loaded.devices):
            key = device.key
            if device.kind in ("pc", "laptop") and device.id != "pc-never":
                self.state.record_reading(key, _health(i, t + i), t + i)
                self.state.restore_usage(key, None, i * 3)
            elif device.kind == "printer" and device.id != "prn-never":
                name = device.id.removeprefix("prn-")
                reading = parse_reading(read_snmprec(FIXTURES / "printers" / f"{name}.snmprec"))
                self.state.record_reading(key, reading, t + i)
            elif device.kind == "hotspot":
                hotspot = self.kinds["hotspot"]
                assert isinstance(hotspot, HotspotKind)
                answer = _hotspot_reading(hotspot, device.id.removeprefix("ap-"))
                self.state.record_reading(key, answer, t + i)
        lib = DeviceKey("lib", "pc-00")
        # Sessions: one open, one finished (a duration histogram), one still open elsewhere.
        self.state.record_session(
            lib, SessionEvent(SessionEventType.START, "s1", OPEN - 500), new_session=True
        )
        self.state.record_session(
            lib, SessionEvent(SessionEventType.END, "s1", OPEN - 500, OPEN - 100), True
        )
        self.state.record_session(
            DeviceKey("lib", "laptop-01"),
            SessionEvent(SessionEventType.START, "s2", OPEN - 50),
            new_session=True,
        )
        self.state.record_session(
            DeviceKey("hall", "pc-01"),
            SessionEvent(SessionEventType.END, "s3", OPEN - 9000, OPEN - 10),
            new_session=True,
        )
        # Down in different ways: offline, silent printers (asleep or not), a silent hotspot.
        self.state.record_availability(DeviceKey("lib", "pc-02"), Availability.OFFLINE, OPEN - 30)
        self.state.record_poll_failure(DeviceKey("lib", "prn-jammed"), "timeout", OPEN - 20)
        self.state.record_poll_failure(DeviceKey("hall", "prn-mono_laser"), "auth", OPEN - 20)
        self.state.record_poll_failure(DeviceKey("hall", "ap-unifi-ap"), "timeout", OPEN - 20)
        self.renderer = FleetRenderer(lambda: self.state, self.kinds, _plugin, self.clock)
        self.rest = CollectorRegistry(auto_describe=False)
        self.rest.register(Other())

    def reference(self, accept: str = TEXT) -> bytes:
        """What the daemon served before: prometheus_client over FleetCollector + the rest."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(FleetCollector(lambda: self.state, self.kinds, _plugin, self.clock))
        registry.register(Other())
        encoder, _ = choose_encoder(accept)
        return encoder(registry)

    def scrape(self, accept: str = TEXT) -> bytes:
        body, content_type = Exposition(self.rest, self.renderer).render(accept)
        assert content_type == choose_encoder(accept)[1]
        return body

    def key(self, site: str, device: str) -> DeviceKey:
        return DeviceKey(site, device)


def _plugin(kind: str) -> str:
    return f"ocrfleet-{kind}"


def _families(body: bytes, openmetrics: bool = False) -> list[tuple[str, str, str, list[Any]]]:
    parse = openmetrics_families if openmetrics else text_string_to_metric_families
    return [
        # repr: exact, and NaN equals NaN.
        (f.name, f.type, f.documentation, [(s.name, s.labels, repr(s.value)) for s in f.samples])
        for f in parse(body.decode())
    ]


def _series(body: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
    }


def _value(body: bytes, name: str, **labels: str) -> float | None:
    return _series(body).get((name, frozenset(labels.items())))


# -- the same output ----------------------------------------------------------


def test_a_realistic_fleet_renders_exactly_as_prometheus_client_does() -> None:
    fleet = Fleet()
    new, old = fleet.scrape(), fleet.reference()
    assert _families(new) == _families(old)
    assert new == old
    families = {name: samples for name, _, _, samples in _families(new)}
    # The fixture fleet is not trivial: every kind, every core family has samples.
    assert len(_series(new)) > 500
    for name in (
        "ocrfleet_device_up",
        "ocrfleet_device_state",
        "ocrfleet_seat_in_use",
        "ocrfleet_pc_in_use",
        "ocrfleet_sessions",
        "ocrfleet_site_seats_in_use",
        "ocrfleet_site_pcs_in_use",
        "ocrfleet_session_duration_seconds",
        "ocrfleet_pc_agent_info",
        "ocrfleet_printer_supply_state",
        "ocrfleet_printer_condition",
        "ocrfleet_hotspot_interface_up",
        "ocrfleet_hotspot_restarts",
        "ocrfleet_other_thing",
    ):
        assert families[name], name
    assert _value(new, "ocrfleet_printer_status", site="lib", device="prn-jammed",
                  kind="printer", status="unreachable") == 1.0  # fmt: skip
    # The newline, a control character, is replaced; quote and backslash are escaped.
    assert _value(new, "ocrfleet_device_info", site="lib", device="pc-quoted", kind="pc",
                  model='Dell "Opti\\Plex"\ufffdx', reservable="false") == 1.0  # fmt: skip


@pytest.mark.parametrize(
    "accept",
    [
        "",
        TEXT,
        "text/plain;version=0.0.4",
        OPENMETRICS,
        "application/openmetrics-text",
        PROMETHEUS_ACCEPT,
        # Escapings that rename: not written directly, so prometheus_client does it all.
        "application/openmetrics-text;version=1.0.0;escaping=dots",
        "text/plain;version=1.0.0;escaping=values",
    ],
)
def test_every_format_prometheus_may_ask_for(accept: str) -> None:
    fleet = Fleet()
    new, old = fleet.scrape(accept), fleet.reference(accept)
    openmetrics = choose_encoder(accept)[1].startswith("application/openmetrics-text")
    assert new == old
    if "dots" not in accept:  # prometheus_client cannot parse its own dots-escaped names
        assert _families(new, openmetrics) == _families(old, openmetrics)
    assert new.endswith(b"# EOF\n") is openmetrics


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.125, "0.125"),
        (123456.0, "123456.0"),
        (1234567.0, "1.234567e+06"),
        (1.8e9, "1.8e+09"),
        (2**63 - 1, "9.223372036854776e+18"),
        (1e-7, "1e-07"),
        (-1234567.0, "-1234567.0"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
        (True, "1.0"),
        (3, "3.0"),
    ],
)
def test_values_are_written_as_go_writes_floats(value: float, text: str) -> None:
    assert format_value(value) == text


def test_label_values_are_escaped_as_the_format_says() -> None:
    # A newline is a control character: it is replaced before escaping.
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\ufffdd'
    family = Family("x_thing", "Help with \\ and \n.", "gauge", ("site", "a_label"))
    line = family.line(("s", escape_label_value('say "hi"\\')), 1.5)
    # Labels sorted by name, as prometheus_client writes them.
    assert line == 'x_thing{a_label="say \\"hi\\"\\\\",site="s"} 1.5\n'
    assert family.text_header == b"# HELP x_thing Help with \\\\ and \\n.\n# TYPE x_thing gauge\n"
    (parsed,) = text_string_to_metric_families(family.text_header.decode() + line)
    assert parsed.documentation == "Help with \\ and \n."
    assert parsed.samples[0].labels == {"site": "s", "a_label": 'say "hi"\\'}


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Windows 11 Pro", "Windows 11 Pro"),
        ("ünïcödé ✓", "ünïcödé ✓"),
        ("a\x1b[2Jb", "a\ufffd[2Jb"),
        (
            "nul\x00 tab\t cr\r del\x7f c1\x85\x9b",
            "nul\ufffd tab\ufffd cr\ufffd del\ufffd c1\ufffd\ufffd",
        ),
        # Not printable, but no control character: kept.
        ("no\u00a0break", "no\u00a0break"),
        ("x" * MAX_LABEL_VALUE, "x" * MAX_LABEL_VALUE),
        ("x" * (MAX_LABEL_VALUE + 1), "x" * (MAX_LABEL_VALUE - 1) + "…"),
    ],
)
def test_label_values_lose_control_characters_and_excess_length(value: str, cleaned: str) -> None:
    assert clean_label_value(value) == cleaned


# -- what a kind may give ------------------------------------------------------


class OddKind(DeviceKind):
    """Label values that need escaping, odd values, a counter, too few labels."""

    name: ClassVar[str] = "odd"
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_odd_value", "Odd values.", labels=("what",)),
        MetricSpec("ocrfleet_odd_events_total", "Events.", type="counter"),
        MetricSpec("ocrfleet_odd_pair", "Two labels.", labels=("a", "b")),
        MetricSpec("ocrfleet_odd_never", "Declared, never given."),
    )

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        yield Sample("ocrfleet_odd_value", float("nan"), ('quote " back \\ nl \n',))
        yield Sample("ocrfleet_odd_value", float("inf"), ("ünïcödé ✓",))
        yield Sample("ocrfleet_odd_value", -0.0, ("",))
        yield Sample("ocrfleet_odd_value", 12345678901234.0, ("big",))
        yield Sample("ocrfleet_odd_events_total", 7)
        yield Sample("ocrfleet_odd_pair", 1.0, ("only-a",))


class FailingKind(DeviceKind):
    """A plugin bug: samples() raises for some devices."""

    name: ClassVar[str] = "flaky"
    metric_specs: ClassVar[Sequence[MetricSpec]] = (MetricSpec("ocrfleet_flaky_value", "Value."),)

    def __init__(self) -> None:
        self.broken = {"flaky-1"}

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        yield Sample("ocrfleet_flaky_value", 1.0)
        if device.info.id in self.broken:
            raise RuntimeError("plugin bug")


def _small(kinds: dict[str, DeviceKind], devices: list[tuple[str, str]]) -> Fleet:
    fleet = Fleet.__new__(Fleet)
    fleet.kinds = kinds
    infos = [DeviceInfo(DeviceKey("lib", device), kind) for device, kind in devices]
    fleet.state = FleetState(infos, {})
    for info in infos:
        fleet.state.record_reading(info.key, object(), OPEN - 60)
    fleet.clock = ManualClock(OPEN)
    fleet.renderer = FleetRenderer(lambda: fleet.state, kinds, _plugin, fleet.clock)
    fleet.rest = CollectorRegistry(auto_describe=False)
    fleet.rest.register(Other())
    return fleet


class ControlKind(DeviceKind):
    """A device's free text with escape sequences, NUL and C1 codes, and far too long."""

    name: ClassVar[str] = "ctl"
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_ctl_info", "Free text.", labels=("os",)),
    )

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        yield Sample("ocrfleet_ctl_info", 1.0, ("Win\x1b[31m\x00\x9b" + "y" * 400,))


def test_control_characters_of_a_kind_never_reach_the_exposition() -> None:
    fleet = _small({"ctl": ControlKind()}, [("ctl-1", "ctl")])
    for accept in (TEXT, OPENMETRICS):
        new, old = fleet.scrape(accept), fleet.reference(accept)
        assert new == old
        text = new.decode()
        assert all(ch.isprintable() or ch == "\n" for ch in text)
        expected = clean_label_value("Win\x1b[31m\x00\x9b" + "y" * 400)
        assert expected.startswith("Win\ufffd[31m\ufffd\ufffdyyy") and len(expected) == 256
        assert f'os="{expected}"' in text


def test_odd_samples_of_a_kind_come_out_as_prometheus_client_writes_them() -> None:
    fleet = _small({"odd": OddKind()}, [("odd-1", "odd"), ('odd "2"', "odd")])
    new, old = fleet.scrape(), fleet.reference()
    assert new == old
    assert _families(new) == _families(old)
    assert _value(new, "ocrfleet_odd_value", site="lib", device='odd "2"', kind="odd",
                  what="ünïcödé ✓") == float("inf")  # fmt: skip
    assert _value(new, "ocrfleet_odd_events_total", site="lib", device="odd-1", kind="odd") == 7
    new_om, old_om = fleet.scrape(OPENMETRICS), fleet.reference(OPENMETRICS)
    assert new_om == old_om


def test_a_kind_whose_samples_raise_loses_only_that_devices_samples(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = FailingKind()
    fleet = _small({"flaky": flaky}, [("flaky-0", "flaky"), ("flaky-1", "flaky")])
    with caplog.at_level(logging.ERROR):
        new = fleet.scrape()
    assert new == fleet.reference()
    labels = {"site": "lib", "kind": "flaky"}
    assert _value(new, "ocrfleet_flaky_value", device="flaky-0", **labels) == 1.0
    assert _value(new, "ocrfleet_flaky_value", device="flaky-1", **labels) is None
    # The core's samples of that device stay.
    assert _value(new, "ocrfleet_device_up", device="flaky-1", **labels) == 1.0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "ocrfleet-flaky" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    # Nothing about the device changed, but a failure is not cached: fixed, it shows.
    flaky.broken.clear()
    again = fleet.scrape()
    assert _value(again, "ocrfleet_flaky_value", device="flaky-1", **labels) == 1.0
    assert again == fleet.reference()


# -- the cache -----------------------------------------------------------------


def test_an_unchanged_fleet_is_not_rendered_again() -> None:
    fleet = Fleet()
    first = fleet.scrape()
    assert fleet.renderer.rendered == len(fleet.loaded.devices)
    second = fleet.scrape()
    assert fleet.renderer.rendered == 0
    assert second == first == fleet.reference()


def test_a_new_reading_renders_that_device_again() -> None:
    fleet = Fleet()
    fleet.scrape()
    pc = DeviceKey("lib", "pc-03")
    labels = {"site": "lib", "device": "pc-03", "kind": "pc"}
    fleet.state.record_reading(pc, _health(4, OPEN), OPEN)
    printer = DeviceKey("hall", "prn-low_paper")
    # Another recording for the same printer: different supplies and values.
    other = parse_reading(read_snmprec(FIXTURES / "printers" / "colour_mfp.snmprec"))
    fleet.state.record_reading(printer, other, OPEN)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 2
    assert new == fleet.reference()
    assert _value(new, "ocrfleet_pc_cpu_ratio", **labels) == 0.04
    assert _value(new, "ocrfleet_device_last_seen_timestamp_seconds", **labels) == OPEN


def test_a_presence_change_renders_that_device_again() -> None:
    fleet = Fleet()
    fleet.scrape()
    pc = DeviceKey("lib", "pc-04")
    labels = {"site": "lib", "device": "pc-04", "kind": "pc"}
    assert _value(fleet.scrape(), "ocrfleet_device_up", **labels) == 1.0
    fleet.state.record_availability(pc, Availability.OFFLINE, OPEN)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 1
    assert _value(new, "ocrfleet_device_up", **labels) == 0.0
    assert _value(new, "ocrfleet_device_state", state="down", reason="offline", **labels) == 1.0
    assert new == fleet.reference()


def test_a_session_renders_that_device_again_and_counts_per_site() -> None:
    fleet = Fleet()
    fleet.scrape()
    pc = DeviceKey("hall", "pc-01")
    fleet.state.record_session(pc, SessionEvent(SessionEventType.START, "s9", OPEN), True)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 1
    assert _value(new, "ocrfleet_seat_in_use", site="hall", device="pc-01", kind="pc") == 1.0
    assert _value(new, "ocrfleet_site_seats_in_use", site="hall") == 1.0
    # The names before seats were generic, kept for one release.
    assert _value(new, "ocrfleet_pc_in_use", site="hall", device="pc-01", kind="pc") == 1.0
    assert _value(new, "ocrfleet_site_pcs_in_use", site="hall") == 1.0
    assert new == fleet.reference()


def test_a_device_removed_by_a_reload_is_gone() -> None:
    fleet = Fleet()
    fleet.scrape()
    gone = {DeviceKey("lib", "prn-colour_mfp"), DeviceKey("lib", "pc-01")}
    kept = [d for d in fleet.loaded.devices if d.key not in gone]
    fleet.state.replace_devices(kept, fleet.timeouts)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 0
    assert new == fleet.reference()
    devices = {dict(labels).get("device") for _, labels in _series(new)}
    assert "prn-colour_mfp" not in devices
    assert ("lib", "pc-01") not in {
        (dict(labels).get("site"), dict(labels).get("device")) for _, labels in _series(new)
    }
    # The cache lets go of them too.
    assert not gone & set(fleet.renderer._blocks)


def test_the_last_device_of_a_kind_takes_its_families_along() -> None:
    fleet = Fleet()
    fleet.scrape()
    kept = [d for d in fleet.loaded.devices if d.kind != "hotspot"]
    fleet.state.replace_devices(kept, fleet.timeouts)
    new = fleet.scrape()
    assert b"ocrfleet_hotspot" not in new
    assert new == fleet.reference()


def test_the_state_follows_the_clock_without_any_new_input() -> None:
    fleet = Fleet()
    offline = {"site": "lib", "device": "pc-02", "kind": "pc"}
    before = fleet.scrape()
    assert _value(before, "ocrfleet_device_state", state="down", reason="offline",
                  **offline) == 1.0  # fmt: skip
    fleet.clock.set(CLOSED)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 0
    assert new == fleet.reference()
    assert _value(new, "ocrfleet_device_state", state="scheduled_off", reason="closed",
                  **offline) == 1.0  # fmt: skip
    assert _value(new, "ocrfleet_device_state", state="down", reason="offline", **offline) is None


def test_a_new_reading_alone_is_enough_to_render_again() -> None:
    fleet = Fleet()
    pc = DeviceKey("lib", "pc-05")
    at = OPEN + 1.0  # the same float object both times: only the reading differs
    fleet.state.record_reading(pc, _health(1, at), at)
    fleet.scrape()
    fleet.state.record_reading(pc, _health(2, at), at)
    new = fleet.scrape()
    assert fleet.renderer.rendered == 1
    assert _value(new, "ocrfleet_pc_cpu_ratio", site="lib", device="pc-05", kind="pc") == 0.02
    assert new == fleet.reference()


class ShiftingKind(DeviceKind):
    """Samples whose labels and values follow the reading: the renderer keeps labels, not lines."""

    name: ClassVar[str] = "shifting"
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_shifting_value", "Values.", labels=("what",)),
        MetricSpec("ocrfleet_shifting_pair", "Two labels.", labels=("a", "b")),
    )

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        reading = device.reading
        assert isinstance(reading, dict)
        for what, value in reading.items():
            yield Sample("ocrfleet_shifting_value", value, (what,))
        yield Sample("ocrfleet_shifting_pair", 1.0, (str(len(reading)),))  # too few labels


def test_a_new_reading_with_other_labels_and_values_is_written_from_it() -> None:
    fleet = _small({"shifting": ShiftingKind()}, [("s-0", "shifting"), ("s-1", "shifting")])
    key = DeviceKey("lib", "s-0")
    fleet.state.record_reading(DeviceKey("lib", "s-1"), {"a": 1.0}, OPEN)
    fleet.state.record_reading(key, {"a": 0.5}, OPEN)
    fleet.scrape()
    readings: list[dict[str, float]] = [
        {"a": 1.0, "b": 0.0, 'q"\\': 2.5},
        {"a": 1.0, "b": -0.0, 'q"\\': 2.5},  # the same but for the sign of a zero
        {"b": float("nan"), "c": 1234567.0},  # a label gone, one new
        {"a": 1.0, "b": float("nan"), "c": 1234567.0},  # and back
        {},
    ]
    for reading in readings:
        fleet.state.record_reading(key, reading, OPEN)
        new = fleet.scrape()
        assert fleet.renderer.rendered == 1
        assert new == fleet.reference(), reading
    assert _value(new, "ocrfleet_shifting_pair", site="lib", device="s-0", kind="shifting",
                  a="0") == 1.0  # fmt: skip


def test_a_reload_that_changes_a_devices_facts_renders_it_again() -> None:
    fleet = Fleet()
    fleet.scrape()
    pc = DeviceKey("lib", "pc-03")
    devices = [
        DeviceInfo(d.key, d.kind, "Lenovo M90q", reservable=True) if d.key == pc else d
        for d in fleet.loaded.devices
    ]
    fleet.state.replace_devices(devices, fleet.timeouts)
    new = fleet.scrape()
    assert new == fleet.reference()
    assert _value(new, "ocrfleet_device_info", site="lib", device="pc-03", kind="pc",
                  model="Lenovo M90q", reservable="true") == 1.0  # fmt: skip
    assert fleet.renderer.rendered == 1
