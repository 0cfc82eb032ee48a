"""What the printer plugin's findings say: plain Dutch and English, never a MIB name.

Every finding the printer's rules can produce (each condition, each kind of
supply low and empty, trays and covers named or not, the forecast reminder,
the printer that does not answer) is put into words with the plugin's real
catalog, as a Flemish front desk reads it, and as an English reader does.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest

from ocrfleet.alerts.rules import AlertRule, Finding, RuleContext
from ocrfleet.cli.common import load_catalog
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n import tools
from ocrfleet.i18n.catalogs import Catalogs, packaged_catalog
from ocrfleet.state import FleetState
from ocrfleet_printer import oids, plugin
from ocrfleet_printer.forecast import PrinterSupplyForecastRule
from ocrfleet_printer.kind import PrinterKind, PrinterOptions
from ocrfleet_printer.parse import parse_reading
from ocrfleet_printer.reading import Alert, Cover, PrinterReading, Supply, SupplyState, Tray
from ocrfleet_printer.rules import (
    PrinterConditionRule,
    PrinterConditionSettings,
    PrinterSupplyLowRule,
    SupplyLowSettings,
)
from ocrfleet_printer.words import (
    cover_name,
    supply_forecast,
    supply_words,
    tray_in_sentence,
    tray_name,
)
from tests.support.rules import findings, rule_context
from tests.support.snmprec import read_snmprec
from tests.support.words import BRUSSELS, assert_plain_dutch, speaker

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
PACKAGE = Path(plugin.__file__).resolve().parent
PRINTER = DeviceKey("lib", "printer-01")
NOW = datetime(2026, 10, 5, 10, 0, tzinfo=BRUSSELS).timestamp()  # a Monday, open
CATALOGS = Catalogs([packaged_catalog("ocrfleet_printer")])
DUTCH = speaker("nl", CATALOGS)
ENGLISH = speaker("en", CATALOGS)


@cache
def reading(name: str) -> PrinterReading:
    return parse_reading(read_snmprec(FIXTURES / f"{name}.snmprec"))


def context(r: PrinterReading | None, now: float = NOW, *, fail: bool = False) -> RuleContext:
    info = DeviceInfo(PRINTER, "printer", options=PrinterOptions(host="192.0.2.10"))
    state = FleetState([info], {})
    if r is not None:
        state.record_reading(PRINTER, r, now - 60)
    if fail:
        state.record_poll_failure(PRINTER, "timeout", now)
    return rule_context(state, now, kind=PrinterKind())


# -- the catalog ---------------------------------------------------------------------


def test_every_message_has_dutch_words() -> None:
    assert tools.check(PACKAGE) == []


def test_the_plugin_registers_its_catalog() -> None:
    [catalog] = plugin.ocrfleet_message_catalogs()
    assert catalog.domain == "ocrfleet_printer"
    assert catalog.po_file("nl").exists()
    assert load_catalog().message_catalogs["ocrfleet_printer"] == catalog


# -- conditions ----------------------------------------------------------------------


def tray(index: str, name: str, state: SupplyState, status: str | None = None) -> Tray:
    fraction = {"empty": 0.0, "low": 0.05, "ok": 0.8}.get(state)
    return Tray(
        index, name or f"tray {index[-1]}", name, "", 250, 0, fraction, state, status, frozenset()
    )


def cover(index: str, name: str, is_open: bool = True) -> Cover:
    status = "coverOpen" if is_open else "coverClosed"
    return Cover(index, name or f"cover {index[-1]}", name, status, is_open)


def variants() -> Iterable[PrinterReading]:
    """Readings whose trays, covers, supplies and alerts take each path of the words."""
    jammed, colour, paper = reading("jammed"), reading("colour_mfp"), reading("low_paper")
    yield jammed  # one open cover, alert texts
    yield colour  # one low tray, a low cartridge, a closed cover, an alert
    yield paper  # one empty and one low tray
    yield reading("mono_laser")
    yield reading("brother_style")  # only a bypass tray is empty; unknown levels
    yield dataclasses.replace(
        paper,
        trays=(tray("1.1", "Tray 1", "empty"), tray("1.2", "Paper Tray 2", "empty")),
        covers=(cover("1.1", "Rear Cover"), cover("1.2", "Door B")),
        alerts=(),
    )
    yield dataclasses.replace(
        paper,
        trays=(tray("1.1", "", "low"), tray("1.2", "Bypass Tray", "empty")),
        covers=(cover("1.1", "Door C"),),
    )
    yield dataclasses.replace(
        paper,
        trays=(tray("1.1", "Cassette", "empty"), tray("1.2", "MANUAL TRAY", "empty")),
        covers=(cover("1.1", "Top Cover"),),
    )
    yield dataclasses.replace(
        jammed,
        covers=(cover("1.1", "Duplex Unit"),),
        alerts=(
            Alert(
                "1.1", "criticalBinaryChangeEvent", "generalPrinter", "subunitMotorFailure", "SC542"
            ),
            Alert(
                "1.2", "warningBinaryChangeEvent", "output", "subunitAlmostFull", "Bin full soon"
            ),
        ),
    )
    # The alert table names the tray and the cover: a jam at tray 2, tray 1 empty,
    # the rear cover open while the front one is too.
    yield dataclasses.replace(
        paper,
        trays=(tray("1.1", "Tray 1", "ok"), tray("1.2", "Tray 2", "ok")),
        covers=(cover("1.1", "Front Cover"), cover("1.2", "Rear Cover")),
        alerts=(
            Alert("1.1", "criticalBinaryChangeEvent", "input", "jam", "Jam in tray 2", 2),
            Alert("1.2", "criticalBinaryChangeEvent", "input", "inputMediaSupplyEmpty", "", 1),
            Alert("1.3", "warningBinaryChangeEvent", "input", "subunitAlmostEmpty", "", 2),
            Alert("1.4", "criticalBinaryChangeEvent", "cover", "coverOpen", "Open", 2),
        ),
    )
    ink = dataclasses.replace(supply_of(colour, "Toner Cartridge TK-55Y"), type="inkCartridge")
    yield dataclasses.replace(colour, supplies=(ink, *colour.supplies[:2]))  # mixed toner and ink


def supply_of(r: PrinterReading, label: str) -> Supply:
    [found] = [s for s in r.supplies if s.label == label]
    return found


def test_every_condition_in_dutch() -> None:
    everything = PrinterConditionSettings(conditions=list(oids.ERROR_STATE_BITS))
    summaries: set[str] = set()
    for r in variants():
        full = dataclasses.replace(r, conditions=frozenset(oids.ERROR_STATE_BITS))
        found = findings(PrinterConditionRule().evaluate(context(full), everything))
        assert {f.labels["condition"] for f in found} == set(oids.ERROR_STATE_BITS)
        for finding in found:
            summary, _ = assert_plain_dutch(finding, CATALOGS)
            summaries.add(summary)
            assert finding.detail.startswith(
                f"hrPrinterDetectedErrorState: {finding.labels['condition']}"
            )
    # Trays and covers by the names people use, from the printer's own.
    for expected in (
        "Papier vastgelopen in printer printer-01 — papier verwijderen",
        "Papier vastgelopen in lade 2 van printer printer-01 — papier verwijderen",
        "Achterklep van printer printer-01 staat open — klep sluiten",
        "Lade 1 van printer printer-01 is leeg — papier bijvullen",
        "Lade 2 van printer printer-01 bijna leeg — papier bijvullen",
        "Printer printer-01 heeft geen papier meer — papier bijvullen",
        "Voorklep van printer printer-01 staat open — klep sluiten",
        "Klep C van printer printer-01 staat open — klep sluiten",
        "Bovenklep van printer printer-01 staat open — klep sluiten",
        "Een klep van printer printer-01 staat open — klep sluiten",
        "Gele toner van printer printer-01 bijna op (nog 8 %)",
        "Printer printer-01 heeft een technieker nodig — bel de ICT-dienst",
        "Uitvoerlade van printer printer-01 bijna vol — afdrukken wegnemen",
    ):
        assert expected in summaries, sorted(summaries)


def test_a_condition_quotes_what_the_printer_says() -> None:
    full = dataclasses.replace(reading("jammed"), conditions=frozenset({"jammed"}))
    [jam] = findings(PrinterConditionRule().evaluate(context(full), PrinterConditionSettings()))
    assert DUTCH.say(jam.description) == (
        "Open de printer waar het scherm aangeeft, trek het vastgelopen papier er voorzichtig "
        "uit (ook afgescheurde stukjes) en sluit de printer weer. Blijft de melding, bel dan de "
        "ICT-dienst. De printer meldt: “Paper jam behind the front door”."
    )
    assert "prtAlertTable: criticalBinaryChangeEvent mediaPath jam" in jam.detail


def test_an_empty_tray_is_named_as_people_name_it() -> None:
    r = dataclasses.replace(
        reading("low_paper"),
        conditions=frozenset({"noPaper"}),
        trays=(tray("1.1", "TRAY2", "empty"), tray("1.2", "MP Tray", "empty")),
    )
    [finding] = findings(PrinterConditionRule().evaluate(context(r), PrinterConditionSettings()))
    assert DUTCH.say(finding.summary) == "Lade 2 van printer printer-01 is leeg — papier bijvullen"
    assert ENGLISH.say(finding.summary) == "Tray 2 of printer printer-01 is empty — add paper"


@pytest.mark.parametrize(
    ("name", "english", "dutch", "inside"),
    [
        ("Tray 2", "Tray 2", "Lade 2", "lade 2"),
        ("TRAY1", "Tray 1", "Lade 1", "lade 1"),
        ("Paper Tray 3", "Tray 3", "Lade 3", "lade 3"),
        ("", "Tray 4", "Lade 4", "lade 4"),  # no name: the row number
        ("Bypass Tray", "Bypass tray", "Handinvoer", "de handinvoer"),
        ("Multi-Purpose Tray", "Bypass tray", "Handinvoer", "de handinvoer"),
        ("Rear Feeder", "Tray “Rear Feeder”", "Lade “Rear Feeder”", "lade “Rear Feeder”"),
    ],
)
def test_tray_names(name: str, english: str, dutch: str, inside: str) -> None:
    named = tray_name(tray("1.4", name, "empty"))
    assert (ENGLISH.say(named), DUTCH.say(named)) == (english, dutch)
    assert DUTCH.say(tray_in_sentence(tray("1.4", name, "empty"))) == inside


def test_the_alert_table_says_which_tray() -> None:
    r = dataclasses.replace(
        reading("colour_mfp"),  # Tray 2 low, the bypass tray empty; an input alert on row 2
        conditions=frozenset({"lowPaper", "jammed"}),
        alerts=(
            *reading("colour_mfp").alerts,
            Alert("1.16", "criticalBinaryChangeEvent", "input", "jam", "", 2),
        ),
    )
    settings = PrinterConditionSettings(conditions=["lowPaper", "jammed"])
    found = findings(PrinterConditionRule().evaluate(context(r), settings))
    assert sorted(ENGLISH.say(f.summary) for f in found) == [
        "Paper jam in tray 2 of printer printer-01 — remove the paper",
        "Tray 2 of printer printer-01 almost empty — add paper",
    ]


@pytest.mark.parametrize(
    ("name", "dutch"),
    [
        ("Front Door", "Voorklep"),
        ("Rear Interlock", "Achterklep"),
        ("Right Side Cover", "Rechterklep"),
        ("Left Cover", "Linkerklep"),
        ("Door B", "Klep B"),
        ("Duplex Unit", "Klep “Duplex Unit”"),
    ],
)
def test_cover_names(name: str, dutch: str) -> None:
    assert DUTCH.say(cover_name(cover("1.1", name))) == dutch


# -- supplies ------------------------------------------------------------------------

COLOURS = (None, "black", "cyan", "magenta", "yellow", "light cyan", "photo black", "red")


def every_supply() -> list[Supply]:
    """A supply of every type, consumed and receptacle, in every colour that applies, at 0."""
    supplies: list[Supply] = []
    for number, type_name in oids.SUPPLY_TYPE_NAMES.items():
        receptacle = number in oids.RECEPTACLE_TYPES
        for colour in COLOURS if type_name in ("toner", "ink", "opc", "developer") else (None,):
            supplies.append(
                Supply(
                    index=f"1.{len(supplies) + 1}",
                    label=f"Part {len(supplies) + 1}",
                    description=f"Part {len(supplies) + 1}",
                    type=type_name,
                    supply_class="receptacle" if receptacle else "consumed",
                    class_reported=False,
                    unit="percent",
                    max_capacity=100,
                    level=0,
                    remaining_fraction=0.0,
                    state="full" if receptacle else "empty",
                    colour=colour,
                )
            )
    # Agents without a type: the description tells (some Xerox, Epson).
    for description, receptacle in (
        ("Black Toner, PN 006R01509", False),
        ("Drum Cartridge (R1)", False),
        ("Waste Toner Container", True),
        ("Ink Absorber (waste)", True),
        ("Maintenance Box", True),
        ("Fuser, PN unknown", False),
        ("Roller Kit", False),
    ):
        supplies.append(
            dataclasses.replace(
                supplies[0],
                index=f"1.{len(supplies) + 1}",
                label=description,
                description=description,
                type="unknown",
                supply_class="receptacle" if receptacle else "consumed",
                state="full" if receptacle else "empty",
            )
        )
    return supplies


def test_every_supply_low_and_empty_in_dutch() -> None:
    supplies = every_supply()
    r = dataclasses.replace(reading("mono_laser"), supplies=tuple(supplies))
    found = findings(
        PrinterSupplyLowRule().evaluate(context(r), SupplyLowSettings(low={"default": 1.0}))
    )
    assert len(found) == 2 * len(supplies)  # low (nearly full) and empty (full) each
    summaries = set()
    for finding in found:
        summary, description = assert_plain_dutch(finding, CATALOGS)
        summaries.add(summary)
        assert "prtMarkerSuppliesType" in finding.detail
        # The printer's own name for it, for whoever orders a new one.
        assert finding.labels["supply"] in description, description
    for expected in (
        "Zwarte toner van printer printer-01 op — cartridge vervangen",
        "Gele toner van printer printer-01 bijna op (nog 0 %)",
        "Cyaan inkt van printer printer-01 op — cartridge vervangen",
        "Fotozwarte inkt van printer printer-01 op — cartridge vervangen",
        "Toner (red) van printer printer-01 op — cartridge vervangen",
        "Magenta drum van printer printer-01 versleten — laten vervangen",
        "Resttonerbak van printer printer-01 vol — vervangen of leegmaken",
        "Inktopvangbak van printer printer-01 bijna vol (nog 0 % plaats)",
        "Nietjes van printer printer-01 op — bijvullen",
        "Fuser van printer printer-01 versleten — laten vervangen",
        "Onderdeel “Roller Kit” van printer printer-01 versleten — laten vervangen",
        "Opvangbak “Maintenance Box” van printer printer-01 vol — vervangen of leegmaken",
    ):
        assert expected in summaries, sorted(summaries)


def test_the_english_names_of_supplies() -> None:
    names = {ENGLISH.say(supply_words(s).name) for s in every_supply()}
    assert {"Black toner", "Light cyan ink", "Yellow drum", "Waste toner box", "Staples"} <= names


# -- the forecast --------------------------------------------------------------------


def test_the_forecast_reminder_in_dutch() -> None:
    rule = PrinterSupplyForecastRule()
    base = reading("colour_mfp")
    found: list[Finding] = []
    for hour in range(0, 24 * 3):  # no schedule: every hour is an opening hour
        at = NOW + hour * 3600.0
        supplies = tuple(
            dataclasses.replace(s, remaining_fraction=max(0.0, s.remaining_fraction - 0.004 * hour))
            if s.remaining_fraction is not None
            else s
            for s in base.supplies
        )
        found = findings(
            rule.evaluate(
                context(dataclasses.replace(base, supplies=supplies), at), rule.settings_model()
            )
        )
    assert found
    for finding in found:
        summary, description = assert_plain_dutch(finding, CATALOGS)
        assert "openingsdag" in summary, summary
        assert "openingsuur" in description, description
    summaries = {DUTCH.say(f.summary) for f in found}
    assert any(s.startswith("Gele toner van printer printer-01 op binnen") for s in summaries)
    assert any(s.startswith("Resttonerbak van printer printer-01 vol binnen") for s in summaries)


@pytest.mark.parametrize("days", [1, 2, 10])
def test_the_forecast_words_of_each_family(days: int) -> None:
    day = date(2026, 10, 26)
    for supply in every_supply():
        summary, description = supply_forecast(
            supply_words(supply), "printer-01", days, 0.3, 0.005, day
        )
        dutch, english = DUTCH.say(summary), ENGLISH.say(summary)
        assert dutch != english
        assert ("één openingsdag" in dutch) == (days == 1), dutch
        assert f"{days} openingsdagen" in dutch or days == 1, dutch
        assert "26 okt 2026" in DUTCH.say(description), DUTCH.say(description)
        assert "0,5 %" in DUTCH.say(description)


# -- does not answer -----------------------------------------------------------------


def test_a_printer_that_does_not_answer_in_dutch() -> None:
    rule: AlertRule = load_catalog().rules["printer_unreachable"]
    [finding] = findings(
        rule.evaluate(context(reading("mono_laser"), fail=True), rule.settings_model())
    )
    summary, _ = assert_plain_dutch(finding, CATALOGS, technical=False)
    assert summary == "Printer printer-01 reageert niet"
    assert "timeout" not in summary


def test_no_translation_is_broken(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    test_every_condition_in_dutch()
    test_every_supply_low_and_empty_in_dutch()
    assert "is broken" not in caplog.text


def test_titles_in_dutch() -> None:
    assert DUTCH.say(PrinterConditionRule.title) == (
        "Printerproblemen (papier, papierstoringen, kleppen)"
    )
    assert DUTCH.say(PrinterSupplyLowRule.title) == "Printerbenodigdheden bijna op"
    assert DUTCH.say(PrinterSupplyForecastRule.title) == (
        "Printerbenodigdheden binnenkort te bestellen"
    )
    assert DUTCH.say(PrinterKind.title) == "Printer"
