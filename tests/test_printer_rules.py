"""The printer plugin's alert rules: conditions, supply levels, the supply forecast and swaps.

Readings come from the recorded agents in tests/fixtures/snmp/printers,
parsed as a poll would, or are derived from them with other levels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.app.keeping import StateKeeper
from ocrfleet.cli.common import load_catalog
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.models import Config
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n.readers import english_utc
from ocrfleet.i18n.text import Words
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.kept import KeptStateStore
from ocrfleet_printer.forecast import (
    FORECAST_METRIC,
    PrinterSupplyForecastRule,
    SupplyForecastSettings,
)
from ocrfleet_printer.kind import PrinterKind, PrinterOptions
from ocrfleet_printer.opening import OpeningTime
from ocrfleet_printer.parse import parse_reading
from ocrfleet_printer.reading import PrinterReading, SupplyState
from ocrfleet_printer.rules import (
    PrinterConditionRule,
    PrinterConditionSettings,
    PrinterSupplyLowRule,
    SupplyLowSettings,
)
from tests.support.rules import rule_context
from tests.support.snmprec import read_snmprec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
BRUSSELS = ZoneInfo("Europe/Brussels")
HOUR = 3600.0
DAY = 86400.0
PRINTER = DeviceKey("lib", "printer-01")
PRINTER_KIND = PrinterKind()
BLACK = "Black Toner Cartridge AC-42K"
WEEKDAYS = ["09:00-17:00"]
OFFICE_HOURS = OpeningHours(mon=WEEKDAYS, tue=WEEKDAYS, wed=WEEKDAYS, thu=WEEKDAYS, fri=WEEKDAYS)


def say(words: Words) -> str:
    """Words as an English reader reads them."""
    return english_utc().speaker().say(words)


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).timestamp()


# Monday 5 October 2026, opening time.
MONDAY = brussels(2026, 10, 5, 9, 0)


@cache
def reading(name: str) -> PrinterReading:
    return parse_reading(read_snmprec(FIXTURES / f"{name}.snmprec"))


def with_level(r: PrinterReading, label: str, fraction: float) -> PrinterReading:
    """The reading with one supply at another level, as the printer would state it."""
    supplies = []
    for supply in r.supplies:
        if supply.label == label:
            state: SupplyState = "empty" if fraction == 0 else "low" if fraction <= 0.1 else "ok"
            supply = dataclasses.replace(
                supply,
                level=round(fraction * (supply.max_capacity or 100)),
                remaining_fraction=fraction,
                state=state,
            )
        supplies.append(supply)
    assert [s.label for s in supplies].count(label) == 1
    return dataclasses.replace(r, supplies=tuple(supplies))


def config(**maintenance: Any) -> Config:
    return Config.model_validate(
        {
            "municipality": {"name": "Testdorp", "adult_population": 5000},
            "sites": [{"id": "lib", "name": "Library", "village_core": "Testdorp"}],
            "maintenance": maintenance,
        }
    )


def printer(
    schedule: SiteSchedule | None = None, sleep_hours: list[str] | None = None
) -> DeviceInfo:
    return DeviceInfo(
        PRINTER,
        "printer",
        model="Mono laser",
        options=PrinterOptions(host="192.0.2.10", sleep_hours=sleep_hours),
        schedule=schedule,
    )


class Fleet:
    """One printer in FleetState, and RuleContexts of it."""

    def __init__(self, info: DeviceInfo | None = None, cfg: Config | None = None) -> None:
        self.info = info or printer()
        self.state = FleetState([self.info], {})
        self.config = cfg or config()

    def read(self, r: PrinterReading, at: float) -> None:
        self.state.record_reading(PRINTER, r, at)

    def fail(self, at: float) -> None:
        self.state.record_poll_failure(PRINTER, "timeout", at)

    def context(self, now: float) -> RuleContext:
        return rule_context(self.state, now, config=self.config, kind=PRINTER_KIND)


def run(
    rule: AlertRule, fleet: Fleet, now: float, settings: RuleSettings | None = None
) -> list[Finding | MaintenanceEvidence]:
    return list(rule.evaluate(fleet.context(now), settings or rule.settings_model()))


def findings(results: Iterable[Finding | MaintenanceEvidence]) -> dict[str, Finding]:
    return {r.subject: r for r in results if isinstance(r, Finding)}


# -- registration ------------------------------------------------------------------------


def test_the_printer_plugin_registers_its_rules() -> None:
    catalog = load_catalog()
    for name in (
        "printer_unreachable",
        "printer_condition",
        "printer_supply_low",
        "printer_supply_forecast",
    ):
        assert catalog.rule_owner[name] == "printer"
    assert catalog.rules["printer_supply_forecast"].rule_type == "reminder"


def test_printer_unreachable_while_the_site_is_open() -> None:
    fleet = Fleet()
    fleet.read(reading("mono_laser"), MONDAY)
    fleet.fail(MONDAY + 60)
    [finding] = findings(
        run(load_catalog().rules["printer_unreachable"], fleet, MONDAY + 60)
    ).values()
    assert say(finding.summary) == "Printer printer-01 does not answer"
    assert finding.labels["category"] == "hardware"
    assert finding.labels["reason"] == "timeout"


def test_no_printer_unreachable_in_its_sleep_hours_while_the_site_is_open() -> None:
    schedule = SiteSchedule(OFFICE_HOURS)
    fleet = Fleet(printer(schedule, sleep_hours=["08:30-09:30"]))
    fleet.read(reading("mono_laser"), MONDAY - 3600)
    fleet.fail(MONDAY + 60)  # 09:01, the site open since 09:00
    assert schedule.is_open(MONDAY + 60)
    status = fleet.context(MONDAY + 60).statuses[PRINTER]
    assert (status.state.value, status.reason) == ("scheduled_off", "sleep_hours")
    assert not run(load_catalog().rules["printer_unreachable"], fleet, MONDAY + 60)
    fleet.fail(MONDAY + 3600)  # 10:00: awake by now, and still silent
    [finding] = run(load_catalog().rules["printer_unreachable"], fleet, MONDAY + 3600)
    assert isinstance(finding, Finding) and finding.labels["reason"] == "timeout"


# -- conditions --------------------------------------------------------------------------


def test_conditions_of_a_jammed_printer() -> None:
    fleet = Fleet()
    fleet.read(reading("jammed"), MONDAY)
    found = findings(run(PrinterConditionRule(), fleet, MONDAY))
    assert sorted(found) == ["lib/printer-01/doorOpen", "lib/printer-01/jammed"]
    jam = found["lib/printer-01/jammed"]
    assert say(jam.summary) == "Paper jam in printer printer-01 — remove the paper"
    # What the printer's alert table says about it goes with the description.
    assert say(jam.description).endswith("The printer says: “Paper jam behind the front door”.")
    assert jam.detail.startswith("hrPrinterDetectedErrorState: jammed")
    door = found["lib/printer-01/doorOpen"]
    assert say(door.summary) == "Front cover of printer printer-01 is open — close it"
    assert jam.labels == {
        "site": "lib",
        "device": "printer-01",
        "kind": "printer",
        "condition": "jammed",
        "category": "jam",
    }
    assert jam.severity is None  # the rule's own: warning
    assert found["lib/printer-01/doorOpen"].labels["category"] == "hardware"
    settings = PrinterConditionSettings()
    assert (settings.for_, settings.resolve_after) == (120, 60)
    assert PrinterConditionRule.default_severity is Severity.WARNING


def test_which_conditions_alert_is_configurable() -> None:
    fleet = Fleet()
    fleet.read(reading("low_paper"), MONDAY)
    assert run(PrinterConditionRule(), fleet, MONDAY) == []
    settings = PrinterConditionSettings(conditions=["lowPaper", "inputTrayEmpty"])
    found = findings(run(PrinterConditionRule(), fleet, MONDAY, settings))
    assert {f.labels["condition"]: f.labels["category"] for f in found.values()} == {
        "lowPaper": "paper",
        "inputTrayEmpty": "paper",
    }
    with pytest.raises(ValidationError, match="unknown printer condition 'papierstau'"):
        PrinterConditionSettings(conditions=["papierstau"])


def test_offline_and_service_requested_are_critical() -> None:
    fleet = Fleet()
    conditions = frozenset({"offline", "serviceRequested", "noToner"})
    fleet.read(dataclasses.replace(reading("mono_laser"), conditions=conditions), MONDAY)
    found = findings(run(PrinterConditionRule(), fleet, MONDAY))
    assert {f.labels["condition"]: f.severity for f in found.values()} == {
        "offline": Severity.CRITICAL,
        "serviceRequested": Severity.CRITICAL,
        "noToner": None,
    }
    assert found["lib/printer-01/noToner"].labels["category"] == "toner"


def test_no_conditions_from_a_printer_that_is_down_or_does_not_report_them() -> None:
    fleet = Fleet()
    fleet.read(reading("jammed"), MONDAY)
    fleet.fail(MONDAY + 60)
    # The jam belongs to the last reading; the printer now does not answer.
    assert run(PrinterConditionRule(), fleet, MONDAY + 60) == []
    fleet = Fleet()
    fleet.read(reading("special_values"), MONDAY)  # no hrPrinterDetectedErrorState
    assert run(PrinterConditionRule(), fleet, MONDAY) == []


# -- supply levels -----------------------------------------------------------------------


def test_low_toner_per_type_threshold() -> None:
    fleet = Fleet()
    fleet.read(reading("colour_mfp"), MONDAY)
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY))
    # Yellow at 8 % is low (tonerCartridge: 10 %); the waste box with 6 % room
    # is above the default 5 %; magenta at 23 % is fine.
    assert list(found) == ["lib/printer-01/Toner Cartridge TK-55Y/low"]
    low = found["lib/printer-01/Toner Cartridge TK-55Y/low"]
    assert say(low.summary) == "Yellow toner of printer printer-01 almost empty (8% left)"
    assert "Toner Cartridge TK-55Y" in say(low.description)
    assert "prtMarkerSuppliesType tonerCartridge" in low.detail
    assert low.labels == {
        "site": "lib",
        "device": "printer-01",
        "kind": "printer",
        "supply": "Toner Cartridge TK-55Y",
        "supply_type": "tonerCartridge",
        "colour": "yellow",
        "category": "toner",
        "level": "low",
    }
    assert low.severity is None


def test_waste_receptacle_nearly_full_at_its_threshold() -> None:
    fleet = Fleet()
    fleet.read(reading("colour_mfp"), MONDAY)
    settings = SupplyLowSettings(low={"wasteToner": 0.1, "tonerCartridge": 0.05})
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY, settings))
    assert list(found) == ["lib/printer-01/Waste Toner Box/nearly_full"]
    box = found["lib/printer-01/Waste Toner Box/nearly_full"]
    assert say(box.summary) == ("Waste toner box of printer printer-01 almost full (6% room left)")
    assert box.labels["category"] == "supplies"


def test_empty_is_its_own_critical_finding_and_stays_low() -> None:
    fleet = Fleet()
    fleet.read(with_level(reading("mono_laser"), BLACK, 0.0), MONDAY)
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY))
    assert sorted(found) == [f"lib/printer-01/{BLACK}/empty", f"lib/printer-01/{BLACK}/low"]
    empty = found[f"lib/printer-01/{BLACK}/empty"]
    assert empty.severity is Severity.CRITICAL
    assert say(empty.summary) == ("Black toner of printer printer-01 empty — replace the cartridge")
    assert found[f"lib/printer-01/{BLACK}/low"].severity is None


def test_special_levels_never_fire() -> None:
    everything = SupplyLowSettings(low={"default": 1.0})
    fleet = Fleet()
    fleet.read(reading("special_values"), MONDAY)
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY, everything))
    # With every threshold at 100 %, exactly the supplies with a stated level
    # fire; other (-1), unknown (-2, no capacity) and out-of-range levels do not.
    assert {f.labels["supply"] for f in found.values()} == {
        "Cyan Ink Cartridge 991C HighYield",
        "Transfer Belt",
        "Ink Absorber (waste)",
        "Waste Ink Pad",
        "supply 10",
    }
    fleet = Fleet()
    # A level 0 with an unknown capacity (a Brother's empty slot) is no "empty".
    fleet.read(reading("brother_style"), MONDAY)
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY, everything))
    assert {f.labels["supply"] for f in found.values()} == {"Drum Unit"}


def test_a_full_waste_pad_is_critical() -> None:
    fleet = Fleet()
    fleet.read(reading("special_values"), MONDAY)
    found = findings(run(PrinterSupplyLowRule(), fleet, MONDAY))
    assert sorted(found) == [
        "lib/printer-01/Waste Ink Pad/full",
        "lib/printer-01/Waste Ink Pad/nearly_full",
    ]
    assert found["lib/printer-01/Waste Ink Pad/full"].severity is Severity.CRITICAL


def test_thresholds_must_be_fractions() -> None:
    with pytest.raises(ValidationError, match="is not a fraction"):
        SupplyLowSettings(low={"default": 5})


# -- opening time ------------------------------------------------------------------------


def test_opening_time_skips_nights_weekends_and_closures() -> None:
    opening = OpeningTime(SiteSchedule(OFFICE_HOURS, closed_days=frozenset({date(2026, 10, 7)})))
    # Monday 09:00 to the next Monday 09:00: four days of 8 hours (Wednesday closed).
    assert opening.seconds(MONDAY, MONDAY + 7 * DAY) == 32 * HOUR
    assert opening.seconds(MONDAY + 8 * HOUR, MONDAY + 24 * HOUR) == 0
    # 16 opening hours from Monday 12:00: 5 h Monday, 8 h Tuesday, 3 h Thursday.
    end, days = opening.advance(MONDAY + 3 * HOUR, 16 * HOUR, 30 * DAY) or (0.0, 0)
    assert (end, days) == (brussels(2026, 10, 8, 12, 0), 3)
    assert opening.advance(MONDAY, 0, DAY) == (MONDAY, 0)
    assert opening.advance(MONDAY, 1000 * HOUR, 30 * DAY) is None
    assert OpeningTime(SiteSchedule(OpeningHours())).advance(MONDAY, HOUR, 30 * DAY) is None
    # Without a schedule every hour counts.
    assert OpeningTime(None).seconds(MONDAY, MONDAY + 2 * DAY) == 2 * DAY


# -- forecast ----------------------------------------------------------------------------


RATE = 0.005  # of the cartridge per opening hour: 4 % per 8-hour day


def use_for_a_week(
    rule: PrinterSupplyForecastRule, fleet: Fleet, opening: OpeningTime, start: float = 0.6
) -> list[Finding | MaintenanceEvidence]:
    """Hourly readings Monday 09:00 to Friday 17:00, used only while open."""
    results: list[Finding | MaintenanceEvidence] = []
    base = reading("mono_laser")
    for hour in range(0, 4 * 24 + 8 + 1):
        at = MONDAY + hour * HOUR
        fraction = start - RATE * opening.seconds(MONDAY, at) / HOUR
        fleet.read(with_level(base, BLACK, fraction), at)
        results = run(rule, fleet, at)
    return results


def samples(rule: PrinterSupplyForecastRule) -> dict[tuple[str, ...], float]:
    found = {}
    for sample in rule.samples():
        assert sample.name == FORECAST_METRIC
        found[sample.labels] = sample.value
    return found


def test_forecast_counts_opening_days() -> None:
    schedule = SiteSchedule(OFFICE_HOURS, closed_days=frozenset({date(2026, 10, 14)}))
    fleet = Fleet(printer(schedule))
    rule = PrinterSupplyForecastRule()
    results = use_for_a_week(rule, fleet, OpeningTime(schedule))
    # Friday 17:00, 40 % left at 4 % per opening day: 10 opening days, the
    # second week's Wednesday closed, so empty the Monday after at 17:00.
    [finding] = findings(results).values()
    assert say(finding.summary) == (
        "Black toner of printer printer-01 runs out in about 10 opening days (40% left)"
    )
    assert "around Oct 26, 2026" in say(finding.description)
    assert finding.labels["type"] == "reminder"
    assert finding.labels["category"] == "supplies"
    assert finding.labels["supply"] == BLACK
    friday = brussels(2026, 10, 9, 17, 0)
    empty = brussels(2026, 10, 26, 17, 0)
    assert samples(rule) == {("lib", "printer-01", BLACK): pytest.approx(empty - friday)}
    assert rule.rule_type == "reminder" and rule.default_severity is Severity.INFO


def test_forecast_notice_comes_from_the_maintenance_config() -> None:
    schedule = SiteSchedule(OFFICE_HOURS)
    fleet = Fleet(printer(schedule), config(forecast_notice_days=9))
    rule = PrinterSupplyForecastRule()
    assert findings(use_for_a_week(rule, fleet, OpeningTime(schedule))) == {}
    # The metric is there all the same.
    assert list(samples(rule)) == [("lib", "printer-01", BLACK)]


def test_no_forecast_without_enough_history() -> None:
    schedule = SiteSchedule(OFFICE_HOURS)
    fleet = Fleet(printer(schedule))
    rule = PrinterSupplyForecastRule()
    base = reading("mono_laser")
    for hour in range(8):  # Monday only: less than min_span (2 days)
        fleet.read(with_level(base, BLACK, 0.1 - 0.01 * hour), MONDAY + hour * HOUR)
        assert run(rule, fleet, MONDAY + hour * HOUR) == []
    assert samples(rule) == {}


def test_forecast_needs_consumption() -> None:
    schedule = SiteSchedule(OFFICE_HOURS)
    fleet = Fleet(printer(schedule))
    rule = PrinterSupplyForecastRule()
    settings = SupplyForecastSettings()
    base = with_level(reading("mono_laser"), BLACK, 0.3)
    for hour in range(0, 4 * 24 + 9):
        fleet.read(base, MONDAY + hour * HOUR)
        assert run(rule, fleet, MONDAY + hour * HOUR, settings) == []
    assert samples(rule) == {}


def test_a_cartridge_swap_is_evidence_and_restarts_the_history() -> None:
    schedule = SiteSchedule(OFFICE_HOURS)
    fleet = Fleet(printer(schedule))
    rule = PrinterSupplyForecastRule()
    use_for_a_week(rule, fleet, OpeningTime(schedule), start=0.28)  # 8 % by Friday
    assert list(samples(rule)) == [("lib", "printer-01", BLACK)]
    swapped = brussels(2026, 10, 12, 9, 0)
    fleet.read(with_level(reading("mono_laser"), BLACK, 1.0), swapped)
    results = run(rule, fleet, swapped)
    evidence = [r for r in results if isinstance(r, MaintenanceEvidence)]
    assert evidence == [
        MaintenanceEvidence(
            evidence_id=f"lib/printer-01:{BLACK}:{int(swapped)}",
            device=PRINTER,
            task="supply_replaced",
            note="toner black 8% -> 100%",
            at=swapped,
        )
    ]
    # The old trend is gone: no forecast, no reminder, no metric.
    assert findings(results) == {}
    assert samples(rule) == {}
    # The same reading evaluated again is no second swap.
    assert run(rule, fleet, swapped + 15) == []


def test_a_small_rise_is_no_swap() -> None:
    fleet = Fleet()
    rule = PrinterSupplyForecastRule()
    base = reading("mono_laser")
    fleet.read(with_level(base, BLACK, 0.3), MONDAY)
    run(rule, fleet, MONDAY)
    fleet.read(with_level(base, BLACK, 0.95), MONDAY + HOUR)
    # From 30 %, above swap_from (25 %): a refill or a recalibration, not a new cartridge.
    assert run(rule, fleet, MONDAY + HOUR) == []


def test_forecast_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="swap_to must be above swap_from"):
        SupplyForecastSettings(swap_from=0.9, swap_to=0.5)
    assert SupplyForecastSettings.model_validate({"window": "7d"}).window == 7 * DAY


def test_the_forecast_history_survives_a_restart_through_the_store(tmp_path: Path) -> None:
    schedule = SiteSchedule(OFFICE_HOURS, closed_days=frozenset({date(2026, 10, 14)}))
    fleet = Fleet(printer(schedule))
    before = PrinterSupplyForecastRule()
    [expected] = findings(use_for_a_week(before, fleet, OpeningTime(schedule))).values()
    store = KeptStateStore(StoreConnections(tmp_path / "store.sqlite"))
    keeper = StateKeeper(store, {("rule", before.name): before}, {})
    keeper.save(MONDAY)
    store.close()

    after = PrinterSupplyForecastRule()  # the daemon restarted
    reopened = KeptStateStore(StoreConnections(tmp_path / "store.sqlite"))
    StateKeeper(reopened, {("rule", after.name): after}, {}).restore()
    reopened.close()
    friday = brussels(2026, 10, 9, 17, 0)
    [finding] = findings(run(after, fleet, friday)).values()
    assert finding.summary == expected.summary
    assert samples(after) == samples(before)
    # Without the kept state, the same evaluation has nothing to say yet.
    fresh = PrinterSupplyForecastRule()
    assert findings(run(fresh, fleet, friday)) == {}


def test_kept_state_a_plugin_cannot_take_back_is_dropped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = KeptStateStore(StoreConnections(tmp_path / "store.sqlite"))
    store.save({("rule", "printer_supply_forecast"): '{"version": 99}'}, MONDAY)
    rule = PrinterSupplyForecastRule()
    StateKeeper(store, {("rule", rule.name): rule}, {("rule", rule.name): "printer"}).restore()
    store.close()
    assert "plugin printer could not take back the kept state of rule" in caplog.text
    assert rule.saved_state() == {"version": 1, "histories": []}
