"""The daemon's other collectors written directly (FamilyWriter, RowsFamily).

The reference is prometheus_client's encoder for the same Accept header over
the same collectors: the daemon's whole registry with realistic maintenance,
norms, alerts and traps, and collectors of odd families that must be left to
prometheus_client.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
    SummaryMetricFamily,
    UnknownMetricFamily,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar

from ocrfleet.app import App
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.maintenance.ledger import MONTHLY_TASK, RENEWAL_TASK
from ocrfleet.metrics.exposition import (
    Exposition,
    Family,
    RowsFamily,
    SeriesText,
    format_value,
)
from ocrfleet.metrics.fleet import FleetCollector
from ocrfleet.snmp.traps_metrics import TrapResult
from ocrfleet.state import Availability
from ocrfleet_agent.payloads import Health
from tests.support.daemon import catalog

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Brussels")).timestamp()
DAY = 86400.0
# What Prometheus 3 sends, the formats Prometheus 2 and curl get, and
# escapings that rename (written by prometheus_client alone).
ACCEPTS = [
    "",
    "text/plain;version=0.0.4",
    "application/openmetrics-text; version=1.0.0",
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
    "application/openmetrics-text;version=1.0.0;escaping=dots",
    "text/plain;version=1.0.0;escaping=values",
]


class _Chain(Collector):
    def __init__(self, *collectors: Collector) -> None:
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


def _without_process(body: bytes) -> bytes:
    # ProcessCollector's figures move between two scrapes; it writes plain families.
    return b"".join(
        line
        for line in body.splitlines(keepends=True)
        if not line.split(b"{")[0]
        .split(b" ")[-1 if line.startswith(b"#") else 0]
        .startswith(b"process_")
        and not line.startswith((b"# HELP process_", b"# TYPE process_"))
    )


def _config(store: Path) -> dict[str, Any]:
    hours = {d: ["09:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    sites = []
    for number in range(3):
        devices: list[dict[str, Any]] = []
        for i in range(8):
            device: dict[str, Any] = {"id": f"pc-{i:02d}", "kind": "pc"}
            if i % 3:
                device["purchase_date"] = f"20{19 + i}-0{1 + i}-1{i}"
            if i == 7:
                device["reservable"] = True
            devices.append(device)
        devices.append(
            {
                "id": "mfp",
                "kind": "printer",
                "purchase_date": "2020-02-29",
                "options": {"host": "127.0.0.1", "snmp": {"version": "2c", "community": "x"}},
            }
        )
        sites.append(
            {
                "id": f"site-{number}",
                "name": f'Room "{number}"',
                "village_core": f"Core {number % 2}",
                "opening_hours": hours,
                "min_usable_seats": 2,
                "devices": devices,
            }
        )
    return {
        "municipality": {"name": "Testdorp", "adult_population": 12_345},
        "sites": sites,
        "mqtt": {"host": "127.0.0.1"},
        "http": {"listen": "127.0.0.1", "port": 0},
        "store": {"path": str(store)},
        "snmp": {"traps": {"enabled": True, "listen": "127.0.0.1", "port": 0}},
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """A daemon never started: its state, ledger, alerts and every collector, with data."""
    plugins = catalog()
    loaded = load_config(
        _config(tmp_path / "s.sqlite"), plugins.kinds, plugins.rules, plugins.channel_types
    )
    clock = ManualClock(NOW)
    daemon = App(loaded, plugins, clock=clock)
    try:
        state = daemon.state
        for i, device in enumerate(loaded.devices):
            if device.kind == "pc" and i % 5:
                health = Health(
                    ts=NOW - 60,
                    cpu_ratio=0.01 * i,
                    memory_used_ratio=0.5,
                    disk_free_bytes=(i + 1) * 10**10,
                    uptime_seconds=3600.5 * i,
                    os='Windows "11"\\ Pro',
                    agent_version="0.1.0",
                )
                state.record_reading(device.key, health, NOW - 60)
            if i % 7 == 0:
                state.record_availability(device.key, Availability.OFFLINE, NOW - 300)
            if i % 4 == 0:
                daemon.alerting.ledger.record(
                    device.key, MONTHLY_TASK, NOW - (10 + i) * DAY, 30, "", "test"
                )
            if i % 9 == 0:
                daemon.alerting.ledger.record(
                    device.key, RENEWAL_TASK, NOW - 400 * DAY, None, "", "test"
                )
            daemon.alerting.ledger.record(device.key, "cleaning", NOW - i * DAY, None, "", "test")
        daemon.alerting.evaluate()
        assert daemon.traps is not None
        daemon.traps.stats.count(TrapResult.POLLED)
        daemon.traps.stats.count_device(DeviceKey("site-1", "mfp"), "linkDown")
        daemon.traps.stats.count_device(DeviceKey("site-0", "mfp"), "coldStart")
        yield daemon
    finally:
        daemon.http.stop()


def _reference(app: App, accept: str) -> bytes:
    encoder, _ = choose_encoder(accept)
    fleet = FleetCollector(lambda: app.state, app.catalog.kinds, app._plugin_of_kind, app.clock)
    return encoder(_Chain(fleet, app.registry))


@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_daemons_registry_is_written_as_prometheus_client_writes_it(
    app: App, accept: str
) -> None:
    exposition = Exposition(app.registry, app.fleet_metrics)
    for _ in range(2):  # the second time from what the first one kept
        body, content_type = exposition.render(accept)
        assert content_type == choose_encoder(accept)[1]
        assert _without_process(body) == _without_process(_reference(app, accept))
    if "dots" in accept or "values" in accept:
        return  # names renamed: the comparison above is all there is
    text = body.decode()
    # Not trivial: every family the per-device collectors give is there.
    for name in (
        'ocrfleet_maintenance_due{device="pc-00",site="site-0",task="monthly"}',
        "ocrfleet_maintenance_last_timestamp_seconds{",
        "ocrfleet_device_age_seconds{",
        "ocrfleet_device_renewal_due_timestamp_seconds{",
        "ocrfleet_norm_devices_usable{",
        "ocrfleet_norm_unreserved_seats_usable{",
        "ocrfleet_alert_firing{",
        'ocrfleet_snmp_device_traps_total{device="mfp",site="site-1",trap="linkDown"} 1.0',
        "ocrfleet_site_open{",
        "ocrfleet_mqtt_messages_rejected_total{",
    ):
        assert name in text, name


def test_a_scrape_follows_what_changed_since_the_last(app: App) -> None:
    exposition = Exposition(app.registry, app.fleet_metrics)
    accept = "text/plain;version=0.0.4"
    exposition.render(accept)
    # A month on: ages grow, reminders come due; a ledger entry and a trap more.
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(31 * DAY)
    app.alerting.ledger.record(DeviceKey("site-2", "pc-03"), "cleaning", NOW + DAY, None, "", "t")
    app.alerting.evaluate()  # reads the ledger again
    assert app.traps is not None
    app.traps.stats.count_device(DeviceKey("site-2", "mfp"), "linkUp")
    app.state.record_availability(DeviceKey("site-0", "pc-01"), Availability.OFFLINE, NOW)
    body = exposition.render(accept)[0]
    assert _without_process(body) == _without_process(_reference(app, accept))
    assert b'ocrfleet_snmp_device_traps_total{device="mfp",site="site-2",trap="linkUp"} 1.0' in body
    last = (
        'ocrfleet_maintenance_last_timestamp_seconds{device="pc-03",site="site-2",task="cleaning"}'
    )
    assert f"{last} {format_value(NOW + DAY)}\n".encode() in body
    # A device gone with a reload takes its series along.
    app.traps.stats.forget_all_but({DeviceKey("site-0", "mfp")})
    body = exposition.render(accept)[0]
    assert b'trap="linkDown"' not in body
    assert _without_process(body) == _without_process(_reference(app, accept))


def test_the_daemons_exposition_passes_promtool(app: App, promtool: str) -> None:
    for accept in ("text/plain;version=0.0.4", ACCEPTS[3]):
        body = Exposition(app.registry, app.fleet_metrics).render(accept)[0]
        checked = subprocess.run(
            [promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False
        )
        output = (checked.stdout + checked.stderr).decode()
        if accept.startswith("text/plain"):
            assert checked.returncode == 0, output
            assert output.splitlines() == []
        else:
            # promtool reads the text format only; OpenMetrics must still parse as such.
            assert "# EOF" in body.decode()


# -- families left to prometheus_client ---------------------------------------


class Odd(Collector):
    """Every kind of family a collector may give, plain or not."""

    def collect(self) -> Iterator[Metric]:
        plain = GaugeMetricFamily(
            "odd_plain", 'Help with "quotes", \\ and\nnewline.', labels=("b", "a")
        )
        plain.add_metric(['x"y', "back\\slash\nnl"], 1.5)
        plain.add_metric(["ünïcödé", ""], -0.0)
        plain.add_metric(["inf", "nan"], math.inf)
        plain.add_metric(["-inf", "nan"], math.nan)
        plain.add_metric(["big", "x"], 1234567.0)
        plain.add_metric(["int", "x"], 3)
        yield plain
        yield GaugeMetricFamily("odd_empty", "No samples.", labels=("a",))
        yield GaugeMetricFamily("odd_unit_seconds", "With a unit.", value=2.0, unit="seconds")
        created = CounterMetricFamily("odd_created", "Created.", labels=("a",), created=5.0)
        created.add_metric(["x"], 4.0, created=6.0)
        yield created
        counter = CounterMetricFamily("odd_things_total", "Counted.", value=7.0)
        yield counter
        stamped = GaugeMetricFamily("odd_stamped", "Timestamped.", labels=("a",))
        stamped.add_metric(["x"], 1.0, timestamp=1234.5)
        yield stamped
        histogram = HistogramMetricFamily("odd_histogram", "Histogram.", labels=("a",))
        histogram.add_metric(["x"], [("0.5", 1.0), ("+Inf", 3.0)], 2.5)
        yield histogram
        exemplars = HistogramMetricFamily("odd_exemplars", "Exemplars.")
        exemplars.add_metric(
            [], [("1.0", 1.0, Exemplar({"trace": "t"}, 0.5)), ("+Inf", 2.0)], sum_value=1.5
        )
        yield exemplars
        yield GaugeHistogramMetricFamily(
            "odd_gauge_histogram", "Gauge histogram.", buckets=[("+Inf", 1.0)], gsum_value=2.0
        )
        yield SummaryMetricFamily("odd_summary", "Summary.", count_value=2, sum_value=3.0)
        yield InfoMetricFamily("odd_build", "Info.", value={"version": "1"})
        yield StateSetMetricFamily("odd_state", "State set.", value={"a": True, "b": False})
        yield UnknownMetricFamily("odd_unknown", "Unknown.", value=1.0)
        dotted = GaugeMetricFamily("odd.dotted", "A UTF-8 name.", labels=("a.b",))
        dotted.add_metric(["x"], 1.0)
        yield dotted
        reserved = GaugeMetricFamily("odd_reserved", "A label name.", labels=("__a",))
        reserved.add_metric(["x"], 1.0)
        yield reserved
        rows = SeriesText(Family("odd_rows", 'Rows "help"\n.', "counter", ("z", "a")))
        yield rows.family_of([(("1", 'q"\\'), 2.0), (("2", "x\ny"), 0.0)])
        dotted_rows = SeriesText(Family("odd.rows", "Rows with a UTF-8 name.", "gauge", ("a",)))
        yield dotted_rows.family_of([(("x",), 1.0)])


@pytest.mark.parametrize("accept", [*ACCEPTS, "application/openmetrics-text;version=2.0.0"])
def test_families_of_every_kind_come_out_as_prometheus_client_writes_them(accept: str) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Odd())
    body, content_type = Exposition(registry).render(accept)
    encoder, expected_type = choose_encoder(accept)
    assert (body, content_type) == (encoder(registry), expected_type)


def test_rows_give_prometheus_client_the_samples_its_families_would() -> None:
    series = SeriesText(Family("ocrfleet_thing", "Things.", "counter", ("site", "task")))
    rows = [(("a", "x"), 1.0), (("b", "y"), 2.5)]
    family = series.family_of(rows)
    expected = CounterMetricFamily("ocrfleet_thing", "Things.", labels=("site", "task"))
    for values, value in rows:
        expected.add_metric(list(values), value)
    assert isinstance(family, RowsFamily)
    assert family == expected
    assert family.samples == expected.samples


def test_rows_keep_only_the_series_of_the_last_scrape() -> None:
    series = SeriesText(Family("ocrfleet_thing", "Things.", "gauge", ("device",)))
    first = series.lines([(("a",), 1.0), (("b",), 0.0)])
    assert first == 'ocrfleet_thing{device="a"} 1.0\nocrfleet_thing{device="b"} 0.0\n'
    assert series.lines([(("c",), 2.0)]) == 'ocrfleet_thing{device="c"} 2.0\n'
    # What was kept for a and b is gone: c alone is remembered.
    assert series.lines([]) == ""
    assert series.lines([(("a",), -1.0)]) == 'ocrfleet_thing{device="a"} -1.0\n'


def test_rows_are_for_gauges_and_counters() -> None:
    with pytest.raises(ValueError, match="odd_histogram: only gauges and counters"):
        SeriesText(Family("odd_histogram", "Histogram.", "histogram", ()))
