"""The monthly report as a municipality's coordinator reads it.

In Dutch (Flemish usage) or English; each figure beside last month's; the
guide's norms (seats, maintenance, renewal) checked; names of sites whole,
of rules in plain words, times local with their zone.

The history: Zonnegem (5,000 adults, two village cores) has a service centre
with a long name and a library. October against September, per site:

| | sessions | utilisation | seats up | printer up | alerts |
| --- | --- | --- | --- | --- | --- |
| service centre | 28 / 25 | 45 % / 48 % | 90 % / 100 % | 90 % / 95 % | 3 / 4 |
| library | 10 / 10 | 25 % / 25 % | 100 % / 100 % | | 0 / 0 |

Every session lasts an hour.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import tomli_w

from ocrfleet.cli import report_cmd
from ocrfleet.cli.common import load_catalog
from ocrfleet.cli.main import build_parser
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import load_config
from ocrfleet.history.days import Month
from ocrfleet.history.figures import declared_figures
from ocrfleet.history.reader import HistoryReader
from ocrfleet.i18n.catalogs import Language
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.kinds import DeviceKind, Sample
from ocrfleet.maintenance.ledger import MaintenanceLedger
from ocrfleet.report.build import Fleet, build_report
from ocrfleet.report.csv_format import render_csv
from ocrfleet.report.markdown_format import render_markdown
from ocrfleet.report.model import MonthReport, Renewal
from ocrfleet.report.view import Table, report_view
from ocrfleet.report.words import MINUS, Unit, Wording
from ocrfleet.state import DeviceView
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store

BRUSSELS = ZoneInfo("Europe/Brussels")
LONDON = ZoneInfo("Europe/London")
OCTOBER = Month(2026, 10)
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=BRUSSELS).timestamp()
LONG = "Dienstencentrum De Zonnebloem – Sint-Amandsberg-Oost"
M = MINUS  # a change down: a real minus sign

# Headings and words of the English report that must not be left in the
# Dutch one (whole words, case as written).
ENGLISH = (
    "public computer rooms",
    "Made on",
    "Sessions",
    "Usage hours",
    "Open hours",
    "Utilisation",
    "Computer availability",
    "available while open",
    "Equipment",
    "Alerts",
    "Maintenance",
    "Most frequent alerts",
    "The month at a glance",
    "Compared with",
    "Change",
    "Site",
    "total",
    "The guide",
    "guide's norm",
    "Devices due for renewal",
    "Due for renewal",
    "Bought",
    "Required",
    "Usable on average",
    "Minutes logged",
    "Days recorded",
    "critical",
    "warning",
    "overdue",
    "Per site",
    "sessions per day",
    "October",
    "September",
    "Figures in bold",
)
DUTCH = (
    "Zonnegem: openbare computerruimten, oktober 2026",
    "Gemaakt op 3 nov 2026 12:00 CET",
    "De maand in één oogopslag",
    "Vergeleken met september 2026",
    "Sessies",
    "Bezetting",
    "Meldingen",
    "Onderhoud",
    "Totaal Zonnegem",
    "De normen uit de richtlijnen",
    "Te vervangen toestellen",
)
# What a coordinator must never read: an id of a rule that has a name, a UTC time.
MACHINE = re.compile(r"\bUTC\b|\+00:00|\b\d{4}-\d{2}-\d{2}T")


def speaker(language: Language, zone: ZoneInfo = BRUSSELS) -> Speaker:
    return Speaker(load_catalog().catalogs(), language, zone)


def leftovers(text: str) -> list[str]:
    return [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", text)]


class DoorCounterKind(DeviceKind):
    """A kind nobody maintains monthly: the guide's maintenance norm leaves it out."""

    name: ClassVar[str] = "doorcounter"
    monthly_maintenance: ClassVar[bool] = False

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        return ()


def config_data(store: Path, *, door: bool = False) -> dict[str, Any]:
    library = [
        {"id": "pc-01", "kind": "pc", "purchase_date": "2020-01-10"},
        {"id": "pc-02", "kind": "pc", "reservable": True},
    ]
    if door:
        library.append({"id": "door-01", "kind": "doorcounter"})
    return {
        "municipality": {"name": "Zonnegem", "adult_population": 5000, "language": "nl"},
        "store": {"path": str(store)},
        "sites": [
            {
                "id": "zonnebloem",
                "name": LONG,
                "village_core": "Sint-Amandsberg",
                "min_usable_seats": 2,
                "devices": [
                    {
                        "id": "pc-01",
                        "kind": "pc",
                        "model": "OptiPlex 3080",
                        "purchase_date": "2021-11-15",
                    },
                    {
                        "id": "pc-02",
                        "kind": "pc",
                        "model": "OptiPlex 3070",
                        "purchase_date": "2021-03-01",
                    },
                    {
                        "id": "printer-01",
                        "kind": "printer",
                        "purchase_date": "2024-05-01",
                        "options": {"host": "printer-01.zonnegem.local"},
                    },
                    {
                        "id": "wifi-01",
                        "kind": "hotspot",
                        "options": {"host": "wifi.zonnegem.local"},
                    },
                ],
            },
            {
                "id": "bib",
                "name": "Bibliotheek",
                "village_core": "Zonnegem",
                "devices": library,
            },
        ],
    }


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=BRUSSELS).timestamp()


def seed(path: Path) -> None:
    Store(StoreConnections(path)).close()
    db = sqlite3.connect(path, isolation_level=None)
    sessions = []
    for month, site, count, hour in ((10, "zonnebloem", 28, 10), (9, "zonnebloem", 25, 10)):
        sessions += [
            (site, f"{month}-{d}", at(month, d, hour), at(month, d, hour + 1))
            for d in range(1, count + 1)
        ]
    for month in (10, 9):
        sessions += [
            ("bib", f"{month}-{d}", at(month, d, 14), at(month, d, 15)) for d in range(1, 11)
        ]
    db.executemany(
        "INSERT INTO sessions (site, device, session_id, started_at, ended_at) "
        "VALUES (?, 'pc-01', ?, ?, ?)",
        sessions,
    )
    db.executemany(
        "INSERT INTO site_daily (site, day, sampled_minutes, open_minutes, seat_minutes, "
        "seat_minutes_usable, seat_minutes_in_use, minutes_with_usable_seat, "
        "minutes_with_unreserved_seat) VALUES (?, ?, 1440, ?, ?, ?, ?, ?, ?)",
        [
            # site, day, open, seats, usable, in use, with usable, with unreserved
            ("zonnebloem", "2026-10-05", 600, 1200, 1080, 540, 600, 600),
            ("zonnebloem", "2026-09-05", 600, 1200, 1200, 576, 600, 600),
            ("bib", "2026-10-05", 480, 960, 960, 240, 480, 480),
            ("bib", "2026-09-05", 480, 960, 960, 240, 480, 480),
        ],
    )
    db.executemany(
        "INSERT INTO kind_daily (site, day, kind, device_minutes, device_minutes_up) "
        "VALUES ('zonnebloem', ?, 'printer', 600, ?)",
        [("2026-10-05", 540), ("2026-09-05", 570)],
    )
    db.execute(
        "INSERT INTO device_daily (site, device, day, figure, kind, first_value, last_value, "
        "increase) VALUES ('zonnebloem', 'printer-01', '2026-10-05', 'printer_pages', "
        "'printer', 0, 1234, 1234)"
    )
    events = [
        ("printer_condition", "warning", at(10, 12, 9)),
        ("printer_condition", "warning", at(10, 13, 9)),
    ]
    events += [("printer_unreachable", "critical", at(10, 20, 9))]
    events += [("printer_unreachable", "critical", at(9, d, 9)) for d in (2, 3, 4, 5)]
    db.executemany(
        "INSERT INTO alert_events (key, rule, site, device, severity, status, at) "
        "VALUES ('k', ?, 'zonnebloem', NULL, ?, 'firing', ?)",
        events,
    )
    db.executemany(
        "INSERT INTO maintenance_log (site, device, task, done_at, minutes, source) "
        "VALUES (?, ?, ?, ?, ?, 'cli')",
        [
            ("zonnebloem", "pc-01", "monthly", at(10, 2, 10), 60),
            ("zonnebloem", "printer-01", "monthly", at(10, 9, 10), 30),
            ("bib", "pc-01", "monthly", at(10, 16, 10), 45),
            # Replaced under the same id: its five years start again.
            ("bib", "pc-01", "renewal", datetime(2025, 6, 1, tzinfo=BRUSSELS).timestamp(), None),
        ],
    )
    db.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    seed(path)
    return path


# Fixed words, as a rule may give them (a Text from its catalog is usual).
RULE_TITLES = {
    "printer_unreachable": "Toestellen onbereikbaar",
    "printer_condition": "Printerproblemen",
}


def october(store: Path, *, site: str | None = None) -> MonthReport:
    kinds = {**load_catalog().kinds, "doorcounter": DoorCounterKind()}
    loaded = load_config(config_data(store, door=True), kinds)
    connections = StoreConnections(store)
    try:
        fleet = Fleet.of(loaded.devices, kinds, {}, MaintenanceLedger(connections).view())
        fleet = dataclasses.replace(fleet, rule_titles=RULE_TITLES)
        return build_report(
            HistoryReader(connections),
            loaded.config,
            OCTOBER,
            NOW,
            availability_kinds=["printer"],
            site=site,
            figures=declared_figures(kinds),
            fleet=fleet,
        )
    finally:
        connections.close()


def table_line(text: str, first_cell: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(f"| {first_cell} |")]
    assert len(found) == 1, (first_cell, found)
    return found[0]


def part(text: str, heading: str) -> str:
    """The Markdown under `heading`, up to the next heading of its level or higher."""
    level = heading.split(" ", 1)[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n#{{1,{len(level)}}} ", after, maxsplit=1)[0]


def shown(table: Table, total: bool = False, name: str = "") -> list[str]:
    """A row of a table as a reader sees it: each value, its change in brackets."""
    rows = [r for r in table.rows if r.total == total and (total or r.cells[0].text == name)]
    assert len(rows) == 1
    return [f"{c.text} ({c.change})" if c.change else c.text for c in rows[0].cells[1:]]


# -- last month -----------------------------------------------------------------


def test_every_figure_beside_last_month_in_flemish_notation(store: Path) -> None:
    view = report_view(october(store), speaker("nl"))
    m = MINUS
    assert shown(view.comparison, name=LONG) == [
        "28 (+12 %)",
        "28,0 (+12 %)",
        f"45,0 % ({m}3 pp)",
        f"90,0 % ({m}10 pp)",
        f"3 ({m}25 %)",
    ]
    assert shown(view.comparison, name="Bibliotheek") == [
        "10 (0 %)",
        "10,0 (0 %)",
        "25,0 % (0 pp)",
        "100,0 % (0 pp)",
        "0 (-)",  # nothing to compare with: no percentage
    ]
    assert shown(view.comparison, total=True) == [
        "38 (+9 %)",
        "38,0 (+9 %)",
        f"36,1 % ({m}1,7 pp)",
        f"94,4 % ({m}5,6 pp)",
        f"3 ({m}25 %)",
    ]


def test_the_month_at_a_glance(store: Path) -> None:
    text = render_markdown(october(store), speaker("en"))
    glance = part(text, "## The month at a glance")
    assert "|  | October 2026 | September 2026 | Change |" in glance
    assert table_line(glance, "Sessions") == "| Sessions | 38 | 35 | +9% |"
    assert table_line(glance, "Utilisation") == f"| Utilisation | 36.1% | 37.8% | {M}1.7 pp |"
    assert table_line(glance, "Printer: available while open") == (
        f"| Printer: available while open | 90.0% | 95.0% | {M}5 pp |"
    )
    assert table_line(glance, "Alerts") == f"| Alerts | 3 | 4 | {M}25% |"
    comparison = part(text, "## Compared with September 2026")
    assert table_line(comparison, "Zonnegem total") == (
        f"| Zonnegem total | 38 (+9%) | 38.0 (+9%) | 36.1% ({M}1.7 pp) | 94.4% ({M}5.6 pp) "
        f"| 3 ({M}25%) |"
    )


def test_january_is_compared_with_december_of_the_year_before(store: Path) -> None:
    report = october(store)
    january = dataclasses.replace(report, month=Month(2027, 1))
    assert january.previous_month == Month(2026, 12)


def test_a_last_month_partly_deleted_is_said(store: Path) -> None:
    data = config_data(store)
    data["store"]["retention"] = 40 * 86400.0  # back to 24 September
    kinds = load_catalog().kinds
    loaded = load_config(data, kinds)
    connections = StoreConnections(store)
    try:
        report = build_report(HistoryReader(connections), loaded.config, OCTOBER, NOW)
    finally:
        connections.close()
    notes = [speaker("en").say(note) for note in report.notes]
    assert (
        "History is kept for 40 days: parts of last month have been deleted, so the "
        "comparison with it is incomplete."
    ) in notes


# -- the guide's norms ------------------------------------------------------------


def test_maintenance_logged_against_the_guide(store: Path) -> None:
    report = october(store)
    service, library = report.sites
    # Every device but the door counter gets monthly maintenance: 60 minutes each.
    assert (service.maintained_devices, service.maintenance_asked_minutes) == (4, 240)
    assert (library.maintained_devices, library.maintenance_asked_minutes) == (2, 120)
    assert report.total.maintenance_asked_minutes == 360
    assert report.total.maintenance_share == pytest.approx(135 / 360)
    text = render_markdown(report, speaker("en"))
    maintenance = part(text, "## Maintenance")
    assert (
        "| Site | Devices with monthly maintenance | Maintenance done | Minutes logged "
        "| Minutes the guide asks | Share of the guide's norm |"
    ) in maintenance
    # Below the norm: marked.
    assert table_line(maintenance, LONG) == f"| {LONG} | 4 | 2 | 90 | 240 | **37.5%** |"
    assert (
        table_line(maintenance, "Bibliotheek") == "| Bibliotheek | 2 | 1 | 45 | 120 | **37.5%** |"
    )
    assert table_line(maintenance, "Zonnegem total") == (
        "| Zonnegem total | 6 | 3 | 135 | 360 | **37.5%** |"
    )
    norms = part(text, "## The guide's norms")
    assert (
        "- Technical maintenance: 2.2 hours logged of the 6.0 hours the guide asks for "
        "6 devices (38%)."
    ) in norms


def test_no_maintenance_logged_is_marked_and_no_base_is_not(store: Path) -> None:
    kinds = load_catalog().kinds
    loaded = load_config(config_data(store), kinds)
    connections = StoreConnections(store)
    try:
        august = build_report(
            HistoryReader(connections),
            loaded.config,
            Month(2026, 8),
            NOW,
            fleet=Fleet.of(loaded.devices, kinds, {}),
        )
    finally:
        connections.close()
    maintenance = report_view(august, speaker("en")).tables[-1]
    # Nothing logged of the 240 minutes asked: 0 %, marked.
    assert shown(maintenance, name=LONG)[-2:] == ["240", "0.0%"]
    assert [r.cells[-1].short for r in maintenance.rows] == [True, True, True]
    # No computer time open: no share to judge, so nothing is marked.
    seats = report_view(august, speaker("en")).tables[1]
    assert not any(cell.short for row in seats.rows for cell in row.cells)


@pytest.mark.parametrize(
    ("now", "before", "unit", "en", "nl"),
    [
        (28, 25, Unit.COUNT, "+12%", "+12 %"),
        (25, 28, Unit.COUNT, f"{M}11%", f"{M}11 %"),
        (1001, 1000, Unit.COUNT, "0%", "0 %"),  # rounded to nothing: no sign
        (5, 0, Unit.COUNT, "-", "-"),  # growth from nothing has no percentage
        (None, 3, Unit.HOURS, "-", "-"),
        (0.45, 0.48, Unit.PERCENT, f"{M}3 pp", f"{M}3 pp"),
        (0.5, 0.375, Unit.PERCENT, "+12.5 pp", "+12,5 pp"),
        (0.3, 0.3, Unit.PERCENT, "0 pp", "0 pp"),
    ],
)
def test_how_a_change_reads(
    now: float | None, before: float | None, unit: Unit, en: str, nl: str
) -> None:
    assert Wording(speaker("en")).change(now, before, unit) == en
    assert Wording(speaker("nl")).change(now, before, unit) == nl


def test_devices_due_for_renewal(store: Path) -> None:
    report = october(store)
    # As the month ends: pc-02 was due in March; pc-01 is due within the
    # 90 days' notice. The library's pc-01 was replaced last year; the
    # printer is young.
    assert report.renewals == (
        Renewal(
            "zonnebloem", "pc-02", "pc", "OptiPlex 3070", date(2021, 3, 1), date(2026, 3, 1), True
        ),
        Renewal(
            "zonnebloem",
            "pc-01",
            "pc",
            "OptiPlex 3080",
            date(2021, 11, 15),
            date(2026, 11, 15),
            False,
        ),
    )
    assert report.undated_devices == 3  # wifi-01, the library's pc-02 and door-01
    english = speaker("en")
    text = render_markdown(report, english)
    pc = english.say(report.kind_title("pc"))  # the pc plugin's word
    renewals = part(text, "### Devices due for renewal")
    assert "| Device | Kind | Site | Bought | Due for renewal |" in renewals
    assert table_line(renewals, "pc-02 (OptiPlex 3070)") == (
        f"| pc-02 (OptiPlex 3070) | {pc} | {LONG} | Mar 1, 2021 | **Mar 1, 2026 (overdue)** |"
    )
    assert table_line(renewals, "pc-01 (OptiPlex 3080)") == (
        f"| pc-01 (OptiPlex 3080) | {pc} | {LONG} | Nov 15, 2021 | Nov 15, 2026 |"
    )
    norms = part(text, "## The guide's norms")
    assert "- The guide asks to replace devices every 5 years." in norms
    assert "- 3 devices have no purchase date, so their renewal cannot be planned." in norms
    library = october(store, site="bib")
    assert library.renewals == () and library.undated_devices == 2
    assert "- No device is due for renewal." in render_markdown(library, english)


def test_seats_usable_against_the_site_and_the_guide(store: Path) -> None:
    report = october(store)
    service, library = report.sites
    assert (service.seats, service.usable_seats, service.seats_required) == (2, 1.8, 2)
    assert service.seats_short and not library.seats_short
    assert report.device_norm is not None
    assert (report.device_norm.required, report.device_norm.configured) == (2, 4)
    assert report.total.usable_seats == pytest.approx(3.8)
    text = render_markdown(report, speaker("en"))
    seats = part(text, "## Computers during opening hours")
    assert seats.startswith("\n| Site | Computers | Usable on average while open | Required |")
    assert table_line(seats, LONG).startswith(f"| {LONG} | 2 | **1.8** | 2 | 100.0% |")
    assert table_line(seats, "Bibliotheek").startswith("| Bibliotheek | 2 | 2.0 | - |")
    assert table_line(seats, "Zonnegem total").startswith("| Zonnegem total | 4 | 3.8 | 2 |")
    assert (
        "- The guide asks for at least 2 public computers: one per 2,500 adults "
        "(5,000 adults) or one in every village core (2), whichever is more. "
        "Configured: 4; usable on average while open: 3.8."
    ) in part(text, "## The guide's norms")
    # One site's report does not judge the municipality.
    assert october(store, site="bib").device_norm is None


# -- words ------------------------------------------------------------------------


def test_the_dutch_report_is_dutch(store: Path) -> None:
    text = render_markdown(october(store), speaker("nl"))
    for word in DUTCH:
        assert word in text, word
    assert leftovers(text) == []
    assert not MACHINE.search(text)
    for rule in RULE_TITLES:
        assert rule not in text
    assert "| Printerproblemen | 2 |" in text and "| Toestellen onbereikbaar | 1 |" in text


def test_figures_in_flemish_notation(store: Path) -> None:
    report = october(store)
    equipment = next(
        t for t in report_view(report, speaker("nl")).tables if t.title == "Apparatuur"
    )
    printer, pages, _peak = shown(equipment, name=LONG)
    assert (printer, pages) == ("90,0 %", "1.234")
    english = next(t for t in report_view(report, speaker("en")).tables if t.title == "Equipment")
    assert shown(english, name=LONG)[:2] == ["90.0%", "1,234"]


def test_the_csv_header_is_translated_and_its_values_stay_numbers(store: Path) -> None:
    report = october(store)
    dutch = list(csv.reader(io.StringIO(render_csv(report, speaker("nl")))))
    header, service, _library, total = dutch
    assert header[:6] == [
        "Maand",
        "Locatie-id",
        "Locatie",
        "Sessies",
        "Gebruiksuren",
        "Openingsuren",
    ]
    assert leftovers(",".join(header)) == []
    assert service[:6] == ["2026-10", "zonnebloem", LONG, "28", "28.00", "10.00"]
    assert total[2] == "Totaal Zonnegem"
    keys = list(csv.DictReader(io.StringIO(render_csv(report, speaker("nl"), keys=True))))
    assert keys[0]["printer_pages"] == "1234"  # no thousands separator
    assert keys[0]["utilisation_pct"] == "45.0" and keys[0]["usable_seats_avg"] == "1.8"
    assert keys[2]["maintenance_pct"] == "37.5" and keys[2]["seats_required"] == "2"


# -- the command ------------------------------------------------------------------


def run(argv: list[str], now: float = NOW) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(["report", *argv])
    return report_cmd.run(args, clock=ManualClock(now))


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.fixture
def config_file(tmp_path: Path, store: Path) -> Path:
    return write_config(tmp_path, config_data(store))


def test_the_language_is_the_municipalitys_unless_asked(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config_file), "--month", "2026-10"]) == 0
    dutch = capsys.readouterr().out
    assert dutch.startswith("# Zonnegem: openbare computerruimten, oktober 2026")
    assert "_Gemaakt op 3 nov 2026 12:00 CET · 2 locaties_" in dutch
    assert run(["-c", str(config_file), "--month", "2026-10", "--language", "en"]) == 0
    english = capsys.readouterr().out
    assert english.startswith("# Zonnegem: public computer rooms, October 2026")
    assert "_Made on Nov 3, 2026 12:00 CET · 2 sites_" in english


def test_one_sites_report_is_in_its_language_and_zone(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = config_data(store)
    data["sites"][1].update(language="en", timezone="Europe/London")
    path = write_config(tmp_path, data)
    assert run(["-c", str(path), "--month", "2026-10", "--site", "bib"]) == 0
    out = capsys.readouterr().out
    assert "_Made on Nov 3, 2026 11:00 GMT · 1 site_" in out
    assert run(["-c", str(path), "--month", "2026-10", "--site", "bib", "--language", "nl"]) == 0
    assert "_Gemaakt op 3 nov 2026 11:00 GMT · 1 locatie_" in capsys.readouterr().out


def test_the_commands_dutch_report_names_rules_in_words(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", str(config_file), "--month", "2026-10", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert '<html lang="nl-BE">' in page
    assert LONG in page and not MACHINE.search(page)
    rules = load_catalog().rules
    seeded = ("printer_condition", "printer_unreachable")
    for rule in seeded:
        title = rules[rule].title
        if title:
            assert rule not in page, rule
            assert speaker("nl").say(title) in page
        else:
            # A rule without a title is named by its id, rather than not at all.
            assert rule in page
    assert rules["printer_condition"].title  # the plugin's rules have plain names
