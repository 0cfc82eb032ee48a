"""`ocrfleet report`: a month's figures per site from a seeded store, in csv, md and html.

Each site's month runs midnight to midnight in its own time zone: "dorp" is
in London, an hour behind Brussels, so a session at 00:30 on 1 October in
Brussels is still September there.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
import tomli_w

from ocrfleet.cli import report_cmd
from ocrfleet.cli.common import load_catalog
from ocrfleet.cli.main import build_parser
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.demo.runner import demo_store_path
from ocrfleet.devices import DeviceKey
from ocrfleet.history.days import Month
from ocrfleet.history.figures import declared_figures
from ocrfleet.history.reader import HistoryReader
from ocrfleet.history.recorder import HistoryRecorder
from ocrfleet.i18n.catalogs import Catalogs
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.kinds import Aggregation, DeviceKind, FigureSpec, MetricSpec, Sample
from ocrfleet.report.build import TOTAL_SITE, build_report
from ocrfleet.report.csv_format import render_csv as render_csv_in
from ocrfleet.report.html_format import render_html as render_html_in
from ocrfleet.report.markdown_format import render_markdown as render_markdown_in
from ocrfleet.report.model import MonthReport
from ocrfleet.state import DeviceView, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store

BRUSSELS = ZoneInfo("Europe/Brussels")
LONDON = ZoneInfo("Europe/London")
OCTOBER = Month(2026, 10)
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=BRUSSELS).timestamp()
HOUR = 3600.0
# English needs no catalog: the msgids are English.
ENGLISH = Speaker(Catalogs(), "en", BRUSSELS)


def render_csv(report: MonthReport, *, keys: bool = True) -> str:
    return render_csv_in(report, ENGLISH, keys=keys)


def render_markdown(report: MonthReport) -> str:
    return render_markdown_in(report, ENGLISH)


def render_html(report: MonthReport) -> str:
    return render_html_in(report, ENGLISH)


def at(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=zone).timestamp()


def config_data(store: Path) -> dict[str, Any]:
    return {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "store": {"path": str(store)},
        "sites": [
            {
                "id": "lib",
                "name": "Library <main> & co | annex",
                "village_core": "Testdorp",
                "timezone": "Europe/Brussels",
                "devices": [{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}],
            },
            {
                "id": "dorp",
                "name": "Dorp house",
                "village_core": "Dorp",
                "timezone": "Europe/London",
                "devices": [{"id": "pc-01", "kind": "pc"}],
            },
        ],
    }


def seed(path: Path) -> None:
    Store(StoreConnections(path)).close()
    db = sqlite3.connect(path, isolation_level=None)
    sessions = [
        # lib, Brussels: four sessions start in October.
        ("lib", "s1", at(BRUSSELS, 10, 1, 0, 30), at(BRUSSELS, 10, 1, 1, 30)),  # 1 h
        ("lib", "s2", at(BRUSSELS, 10, 5, 10), at(BRUSSELS, 10, 5, 10, 45)),  # 0.75 h
        # Started in September: 1 h of it falls in October, but it is not October's.
        ("lib", "s3", at(BRUSSELS, 9, 30, 23), at(BRUSSELS, 10, 1, 1)),
        ("lib", "s4", at(BRUSSELS, 10, 31, 23, 30), at(BRUSSELS, 11, 1, 0, 30)),  # 0.5 h in
        ("lib", "s5", at(BRUSSELS, 10, 31, 22), None),  # still open: 2 h until month end
        ("lib", "s6", at(BRUSSELS, 11, 2, 10), at(BRUSSELS, 11, 2, 11)),  # November
        # dorp, London: 00:30 in Brussels on 1 October is 23:30 on 30 September.
        ("dorp", "d1", at(BRUSSELS, 10, 1, 0, 30), at(BRUSSELS, 10, 1, 1)),
        ("dorp", "d2", at(LONDON, 10, 10, 10), at(LONDON, 10, 10, 12)),  # 2 h
    ]
    db.executemany(
        "INSERT INTO sessions (site, device, session_id, started_at, ended_at) "
        "VALUES (?, 'pc-01', ?, ?, ?)",
        sessions,
    )
    site_daily = [
        # site, day, sampled, open, seats, usable, in use, with usable, unreserved
        ("lib", "2026-09-30", 1440, 480, 960, 960, 960, 480, 480),
        ("lib", "2026-10-05", 1440, 480, 960, 900, 240, 480, 420),
        ("lib", "2026-10-06", 1440, 480, 960, 960, 480, 480, 480),
        ("lib", "2026-11-01", 1440, 480, 960, 0, 0, 0, 0),
        ("dorp", "2026-10-10", 1440, 240, 240, 120, 60, 120, 120),
    ]
    db.executemany(
        "INSERT INTO site_daily (site, day, sampled_minutes, open_minutes, seat_minutes, "
        "seat_minutes_usable, seat_minutes_in_use, minutes_with_usable_seat, "
        "minutes_with_unreserved_seat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        site_daily,
    )
    db.executemany(
        "INSERT INTO kind_daily (site, day, kind, device_minutes, device_minutes_up) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            ("lib", "2026-10-05", "printer", 480, 480),
            ("lib", "2026-10-06", "printer", 480, 420),
            ("lib", "2026-11-01", "printer", 480, 0),
            ("dorp", "2026-10-10", "hotspot", 240, 180),
        ],
    )
    db.executemany(
        "INSERT INTO device_daily (site, device, day, figure, kind, first_value, last_value, "
        "increase) VALUES ('lib', 'printer-01', ?, 'printer_pages', 'printer', 0, 0, ?)",
        [("2026-09-30", 999), ("2026-10-05", 120), ("2026-10-06", 30)],
    )
    db.executemany(
        "INSERT INTO site_figure_daily (site, day, figure, peak) "
        "VALUES (?, ?, 'wifi_clients_peak', ?)",
        [("lib", "2026-10-05", 6), ("lib", "2026-10-06", 9), ("dorp", "2026-10-10", 4)],
    )
    events = [
        ("lib", "device_down", "critical", "firing", at(BRUSSELS, 10, 3, 10)),
        ("lib", "device_down", "critical", "resolved", at(BRUSSELS, 10, 3, 11)),
        ("lib", "device_down", "critical", "firing", at(BRUSSELS, 10, 9, 10)),
        ("lib", "device_down", "critical", "firing", at(BRUSSELS, 9, 29, 10)),
        ("lib", "printer_condition", "warning", "firing", at(BRUSSELS, 10, 12, 9)),
        ("dorp", "monthly_maintenance", "info", "firing", at(LONDON, 10, 2, 9)),
        (None, "municipality_below_norm", "warning", "firing", at(BRUSSELS, 10, 15, 9)),
    ]
    db.executemany(
        "INSERT INTO alert_events (key, rule, site, device, severity, status, at) "
        "VALUES ('k', ?2, ?1, NULL, ?3, ?4, ?5)",
        events,
    )
    db.executemany(
        "INSERT INTO maintenance_log (site, device, task, done_at, minutes, source) "
        "VALUES (?, 'pc-01', 'monthly', ?, ?, 'cli')",
        [
            ("lib", at(BRUSSELS, 10, 2, 10), 60),
            ("lib", at(BRUSSELS, 10, 20, 10), 30),
            ("lib", at(BRUSSELS, 10, 21, 10), None),
            ("lib", at(BRUSSELS, 9, 20, 10), 60),
            ("dorp", at(LONDON, 10, 8, 10), 45),
        ],
    )
    db.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    seed(path)
    return path


def loaded_config(store: Path) -> LoadedConfig:
    return load_config(config_data(store), load_catalog().kinds)


def october(store: Path, site: str | None = None) -> MonthReport:
    reader = HistoryReader(StoreConnections(store))
    try:
        return build_report(
            reader,
            loaded_config(store).config,
            OCTOBER,
            NOW,
            site=site,
            availability_kinds=["printer"],
            figures=declared_figures(load_catalog().kinds),
        )
    finally:
        reader.close()


# -- figures ------------------------------------------------------------------


def test_site_figures_number_by_number(store: Path) -> None:
    report = october(store)
    lib, dorp = report.sites
    assert (lib.site, dorp.site) == ("lib", "dorp")

    assert lib.sessions == 4
    assert lib.usage_hours == pytest.approx(1 + 0.75 + 1 + 0.5 + 2)
    assert lib.sessions_per_day[0] == 1 and lib.sessions_per_day[4] == 1
    assert lib.sessions_per_day[30] == 2 and sum(lib.sessions_per_day) == 4
    assert lib.minutes.days_recorded == 2
    assert lib.open_hours == 16
    assert lib.utilisation == pytest.approx(720 / 1920)
    assert lib.usable_seat_share == 1.0
    assert lib.unreserved_seat_share == pytest.approx(900 / 960)
    assert lib.seat_availability == pytest.approx(1860 / 1920)
    assert lib.availability("printer") == pytest.approx(900 / 960)
    assert lib.availability("hotspot") is None
    assert lib.increases == {"printer_pages": 150}
    assert lib.peaks == {"wifi_clients_peak": 9}
    assert lib.alerts_of("critical") == 2 and lib.alerts_of("warning") == 1
    assert lib.alerts_fired == 3
    assert (lib.maintenance.entries, lib.maintenance.minutes) == (3, 90)

    assert dorp.sessions == 1
    assert dorp.usage_hours == pytest.approx(2)
    assert dorp.utilisation == 0.25 and dorp.usable_seat_share == 0.5
    assert dorp.availability("hotspot") == 0.75
    assert dorp.increases == {}
    assert (dorp.alerts_fired, dorp.maintenance.entries, dorp.maintenance.minutes) == (1, 1, 45)


def test_the_total_sums_sites_and_adds_the_municipalitys_own_alerts(store: Path) -> None:
    report = october(store)
    total = report.total
    assert (total.site, total.name) == (TOTAL_SITE, "Testdorp")
    assert total.sessions == 5
    assert total.usage_hours == pytest.approx(7.25)
    assert total.open_hours == 20
    assert total.utilisation == pytest.approx(780 / 2160)
    assert total.usable_seat_share == pytest.approx(1080 / 1200)
    assert total.availability("printer") == pytest.approx(900 / 960)
    assert total.availability("hotspot") == 0.75
    assert total.increases == {"printer_pages": 150}
    assert total.peaks == {"wifi_clients_peak": 9}  # the busiest site's peak
    assert (total.alerts_of("critical"), total.alerts_of("warning")) == (2, 2)
    assert total.alerts_fired == 5
    assert (total.maintenance.entries, total.maintenance.minutes) == (4, 135)
    assert report.alerts_by_rule() == [
        ("device_down", 2),
        ("monthly_maintenance", 1),
        ("municipality_below_norm", 1),
        ("printer_condition", 1),
    ]
    assert report.availability_kinds == ("hotspot", "printer")
    assert [ENGLISH.say(note) for note in report.notes] == [
        "Daily figures were recorded on 2 of 31 days; "
        "time the monitoring service was not running is not counted."
    ]


def test_one_site_only(store: Path) -> None:
    report = october(store, site="dorp")
    assert [s.site for s in report.sites] == ["dorp"]
    # The municipality's own alerts are no site's: not in one site's report.
    assert report.total.alerts_fired == 1
    assert report.availability_kinds == ("hotspot", "printer")
    with pytest.raises(ValueError, match="unknown site 'nope'"):
        october(store, site="nope")


def test_a_month_in_progress_and_one_without_daily_figures(store: Path) -> None:
    reader = HistoryReader(StoreConnections(store))
    try:
        config = loaded_config(store).config
        report = build_report(reader, config, Month(2026, 11), NOW)
        empty = build_report(reader, config, Month(2026, 8), NOW)
    finally:
        reader.close()
    assert report.sites[0].sessions == 1
    assert ENGLISH.say(report.notes[0]) == (
        "The month is not over: figures up to Nov 3, 2026 12:00 CET."
    )
    assert empty.total.sessions == 0 and empty.total.open_hours is None
    assert empty.total.utilisation is None
    assert any("No daily figures were recorded" in ENGLISH.say(note) for note in empty.notes)


# -- formats ------------------------------------------------------------------


def test_csv_has_one_row_per_site_and_a_total(store: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(october(store)))))
    assert [row["site"] for row in rows] == ["lib", "dorp", "*"]
    lib, dorp, total = rows
    assert lib["name"] == "Library <main> & co | annex"
    assert total["name"] == "Testdorp total"
    assert lib["month"] == "2026-10"
    assert (lib["sessions"], lib["usage_hours"], lib["open_hours"]) == ("4", "5.25", "16.00")
    assert (lib["utilisation_pct"], lib["seat_availability_pct"]) == ("37.5", "96.9")
    assert (lib["usable_seat_pct"], lib["unreserved_seat_pct"]) == ("100.0", "93.8")
    assert (lib["availability_pct_printer"], lib["availability_pct_hotspot"]) == ("93.8", "")
    assert (lib["printer_pages"], lib["wifi_clients_peak"]) == ("150", "9")
    assert (lib["alerts_fired"], lib["alerts_critical"], lib["alerts_warning"]) == ("3", "2", "1")
    assert (lib["maintenance_entries"], lib["maintenance_minutes"]) == ("3", "90")
    assert lib["days_recorded"] == "2"
    assert (dorp["printer_pages"], dorp["availability_pct_hotspot"]) == ("", "75.0")
    assert (total["sessions"], total["alerts_fired"], total["utilisation_pct"]) == (
        "5",
        "5",
        "36.1",
    )


def test_the_csv_columns_are_stable(store: Path) -> None:
    # The same header for a month with data and one without: scripts can rely on it.
    # Columns added later come after the first release's, so positions hold too.
    header = (
        "month,site,name,sessions,usage_hours,open_hours,utilisation_pct,usable_seat_pct,"
        "unreserved_seat_pct,seat_availability_pct,availability_pct_hotspot,"
        "availability_pct_printer,printer_pages,wifi_clients_peak,alerts_fired,alerts_critical,"
        "alerts_warning,alerts_info,maintenance_entries,maintenance_minutes,days_recorded,"
        "seats,usable_seats_avg,seats_required,"
        "sessions_over_limit_pct,all_seats_busy_hours,longest_all_seats_busy_hours,"
        "internet_pct,internet_slow_hours,internet_down_hours,"
        "maintained_devices,maintenance_asked_minutes,maintenance_pct"
    )
    reader = HistoryReader(StoreConnections(store))
    try:
        config = loaded_config(store).config
        empty = build_report(
            reader,
            config,
            Month(2026, 8),
            NOW,
            availability_kinds=["hotspot", "printer"],
            figures=declared_figures(load_catalog().kinds),
        )
    finally:
        reader.close()
    assert render_csv(october(store)).splitlines()[0] == header
    assert render_csv(empty).splitlines()[0] == header


def test_markdown_tables(store: Path) -> None:
    text = render_markdown(october(store))
    lines = text.splitlines()
    assert lines[0] == "# Testdorp: public computer rooms, October 2026"
    assert "| Site | Sessions | Usage hours | Open hours | Utilisation |" in lines
    assert "| Library <main> & co \\| annex | 4 | 5.2 | 16.0 | 37.5% |" in lines
    assert "| Testdorp total | 5 | 7.2 | 20.0 | 36.1% |" in lines
    # A rule without a title of its own is named by its id.
    assert "| device_down | 2 |" in lines
    # Every table line has the same number of cells as its header.
    for block in text.split("\n\n"):
        table = [line for line in block.splitlines() if line.startswith("|")]
        if table:
            widths = {line.replace("\\|", "").count("|") for line in table}
            assert len(widths) == 1, table


def test_html_is_self_contained_with_figures_and_charts(store: Path) -> None:
    page = render_html(october(store))
    assert page.startswith("<!DOCTYPE html>")
    assert "Library &lt;main&gt; &amp; co | annex" in page
    assert "<main>" not in page
    for figure in ("37.5%", "96.9%", "93.8%", "150", "5.2", "Testdorp total"):
        assert figure in page, figure
    assert page.count("<svg") == 3  # utilisation, and sessions per day of each site
    assert "<title>day 31: 2 sessions</title>" in page
    for chart in re.findall(r"<svg.*?</svg>", page, re.DOTALL):
        ElementTree.fromstring(chart)  # well-formed, so any browser draws it
    assert "@media print" in page
    for external in ("<script", "<link", "src=", "url("):
        assert external not in page


class DoorCounterKind(DeviceKind):
    """A kind no core code knows: its figure must still become a report column."""

    name: ClassVar[str] = "doorcounter"
    metric_specs: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("test_visitors_total", "Visitors through the door.", "counter"),
    )
    figure_specs: ClassVar[tuple[FigureSpec, ...]] = (
        FigureSpec("visitors", "Visitors", "test_visitors_total", Aggregation.INCREASE),
    )

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        if isinstance(device.reading, float):
            yield Sample("test_visitors_total", device.reading)


def test_a_kind_of_a_plugin_gets_a_column_for_its_figure(tmp_path: Path) -> None:
    kinds = {**load_catalog().kinds, "doorcounter": DoorCounterKind()}
    data = config_data(tmp_path / "store.sqlite")
    data["sites"][0]["devices"].append({"id": "door-01", "kind": "doorcounter"})
    loaded = load_config(data, kinds)
    state = FleetState(loaded.devices, {})
    door = DeviceKey("lib", "door-01")
    recorder = HistoryRecorder(StoreConnections(loaded.config.store.path), kinds)
    try:
        for minute, visitors in enumerate((1000.0, 1012.0, 1040.0)):
            now = at(BRUSSELS, 10, 5, 10, minute)
            state.record_reading(door, visitors, now)
            recorder.sample(state.snapshot(now))
    finally:
        recorder.close()
    reader = HistoryReader(StoreConnections(loaded.config.store.path))
    try:
        report = build_report(reader, loaded.config, OCTOBER, NOW, figures=declared_figures(kinds))
    finally:
        reader.close()
    lib, _, _ = csv.DictReader(io.StringIO(render_csv(report)))
    assert lib["visitors"] == "40"
    header = render_csv(report).splitlines()[0]
    assert ",printer_pages,visitors,wifi_clients_peak," in header
    assert "| Site | Pages printed | Visitors | Peak wifi clients |" in render_markdown(report)


# -- the command --------------------------------------------------------------


def run(argv: list[str], now: float = NOW) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(["report", *argv])
    return report_cmd.run(args, clock=ManualClock(now))


@pytest.fixture
def config_file(tmp_path: Path, store: Path) -> Path:
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(config_data(store)))
    return path


@pytest.mark.parametrize("fmt", ["md", "csv", "html"])
def test_the_command_prints_each_format(
    config_file: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config_file), "--month", "2026-10", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "Dorp house" in out
    assert ("36.1" in out) and ("150" in out)


def test_the_command_writes_a_file(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "october.html"
    argv = ["-c", str(config_file), "--month", "2026-10", "--format", "html", "-o", str(target)]
    assert run(argv) == 0
    assert "<svg" in target.read_text()
    assert capsys.readouterr().out == f"report written to {target}\n"
    missing = tmp_path / "no" / "such" / "dir.html"
    assert run([*argv[:-1], str(missing)]) == 1
    assert f"cannot write {missing}" in capsys.readouterr().err


def test_the_command_defaults_to_this_month_so_far(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config_file), "--site", "lib", "--format", "csv", "--csv-keys"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["month"], r["site"], r["sessions"]) for r in rows] == [
        ("2026-11", "lib", "1"),
        ("2026-11", "*", "1"),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2026-13"], "--month '2026-13': month must be 01 to 12"),
        (["--month", "10-2026"], "expected YYYY-MM"),
        (["--month", "2026-12"], "--month 2026-12: is in the future"),
        (["--site", "nope"], "unknown site 'nope' (sites: dorp, lib)"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    config_file: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config_file), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_no_store_says_so_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "never" / "ocrfleet.sqlite"
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(config_data(missing)))
    assert run(["-c", str(path), "--month", "2026-10"]) == 1
    assert f"no history at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_a_damaged_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(config_data(damaged)))
    assert run(["-c", str(path), "--month", "2026-10"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ocrfleet report: cannot read the store:") and "Traceback" not in err


def test_the_demo_fleet_without_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--state-dir", str(tmp_path), "--month", "2026-10"]) == 1
    assert "no history at" in capsys.readouterr().err
    Store(StoreConnections(demo_store_path(tmp_path))).close()  # what a first `ocrfleet run` leaves
    assert run(["--state-dir", str(tmp_path), "--month", "2026-10", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert "Vlaminggem" in page and "<svg" in page
    assert run(["-c", "x.toml", "--state-dir", str(tmp_path)]) == 2
