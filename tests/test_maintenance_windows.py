"""Maintenance windows: which alerts they cover, on which days and hours, in which zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ocrfleet.alerts.windows import MaintenanceWindows
from ocrfleet.config.alerting import MaintenanceWindowConfig
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule

BRUSSELS = ZoneInfo("Europe/Brussels")
SCHEDULES = {
    "lib": SiteSchedule(OpeningHours(), "Europe/Brussels"),
    "hall": SiteSchedule(OpeningHours(), "Europe/Brussels"),
    "annex": SiteSchedule(OpeningHours(), "America/New_York"),
}
LIB_PC = {"site": "lib", "device": "pc-01", "kind": "pc", "category": "hardware"}


def _windows(*configs: dict[str, Any]) -> MaintenanceWindows:
    return MaintenanceWindows(
        [MaintenanceWindowConfig.model_validate(c) for c in configs], SCHEDULES
    )


def _at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = BRUSSELS) -> float:
    """A moment in March 2026; the 2nd is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=zone).timestamp()


def test_a_window_holds_on_its_days_and_hours_only() -> None:
    windows = _windows({"name": "updates", "days": ["mon", "wed"], "hours": "10:00-12:00"})
    assert windows.suppressed_by(LIB_PC, _at(2, 10)) == "maintenance window updates"
    assert windows.suppressed_by(LIB_PC, _at(2, 11, 59)) is not None
    assert windows.suppressed_by(LIB_PC, _at(4, 11)) is not None  # Wednesday
    assert windows.suppressed_by(LIB_PC, _at(2, 9, 59)) is None
    assert windows.suppressed_by(LIB_PC, _at(2, 12)) is None
    assert windows.suppressed_by(LIB_PC, _at(3, 11)) is None  # Tuesday


def test_without_days_a_window_holds_every_day() -> None:
    windows = _windows({"hours": "06:00-07:00"})
    assert all(windows.suppressed_by(LIB_PC, _at(day, 6, 30)) for day in range(2, 9))


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    windows = _windows({"name": "backup", "days": ["tue"], "hours": "22:00-02:00"})
    assert windows.suppressed_by(LIB_PC, _at(3, 22)) is not None  # Tuesday evening
    assert windows.suppressed_by(LIB_PC, _at(4, 1, 59)) is not None  # Wednesday night
    assert windows.suppressed_by(LIB_PC, _at(3, 1)) is None  # Monday's, not Tuesday's
    assert windows.suppressed_by(LIB_PC, _at(4, 2)) is None
    assert windows.suppressed_by(LIB_PC, _at(4, 22)) is None  # Wednesday evening
    assert windows.suppressed_by(LIB_PC, _at(3, 21, 59)) is None


def test_a_window_ending_at_midnight() -> None:
    windows = _windows({"days": ["mon"], "hours": "23:00-24:00"})
    assert windows.suppressed_by(LIB_PC, _at(2, 23, 59)) is not None
    assert windows.suppressed_by(LIB_PC, _at(3, 0, 0)) is None


def test_hours_are_read_in_the_time_zone_of_the_alerts_site() -> None:
    windows = _windows({"hours": "09:00-10:00"})
    annex_pc = {**LIB_PC, "site": "annex"}
    brussels_nine = _at(2, 9, 30)
    new_york_nine = _at(2, 9, 30, ZoneInfo("America/New_York"))
    assert windows.suppressed_by(LIB_PC, brussels_nine) is not None
    assert windows.suppressed_by(annex_pc, brussels_nine) is None
    assert windows.suppressed_by(annex_pc, new_york_nine) is not None
    assert windows.suppressed_by(LIB_PC, new_york_nine) is None


def test_the_day_is_the_sites_local_day() -> None:
    # Monday 01:00 in Brussels is still Sunday in New York.
    windows = _windows({"days": ["mon"], "hours": "00:00-24:00"})
    monday_early = _at(2, 1)
    assert windows.suppressed_by(LIB_PC, monday_early) is not None
    assert windows.suppressed_by({**LIB_PC, "site": "annex"}, monday_early) is None


def test_sites_and_devices_narrow_a_window() -> None:
    windows = _windows(
        {"name": "lib only", "sites": ["lib"], "hours": "00:00-24:00"},
        {"name": "hall pc", "devices": ["hall/pc-02"], "hours": "00:00-24:00"},
    )
    now = _at(2, 12)
    assert windows.suppressed_by(LIB_PC, now) == "maintenance window lib only"
    assert windows.suppressed_by({"site": "hall", "device": "pc-02"}, now) == (
        "maintenance window hall pc"
    )
    assert windows.suppressed_by({"site": "hall", "device": "pc-01"}, now) is None
    assert windows.suppressed_by({"site": "hall"}, now) is None


def test_labels_must_match_a_value_or_one_of_a_list() -> None:
    windows = _windows(
        {"match": {"kind": "pc"}, "hours": "00:00-24:00"},
        {"match": {"category": ["network", "paper"], "site": "hall"}, "hours": "00:00-24:00"},
    )
    now = _at(2, 12)
    assert windows.suppressed_by(LIB_PC, now) == "maintenance window [0]"
    assert windows.suppressed_by({**LIB_PC, "kind": "laptop"}, now) is None
    assert windows.suppressed_by({"site": "hall", "category": "paper"}, now) == (
        "maintenance window [1]"
    )
    assert windows.suppressed_by({"site": "hall", "category": "jam"}, now) is None
    assert windows.suppressed_by({"site": "hall"}, now) is None  # no category at all


def test_an_alert_without_a_known_site_is_never_in_a_window() -> None:
    windows = _windows({"hours": "00:00-24:00"})
    now = _at(2, 12)
    assert windows.suppressed_by({"alertname": "norm"}, now) is None
    assert windows.suppressed_by({"site": "elsewhere"}, now) is None


def test_no_windows_hold_nothing() -> None:
    assert _windows().suppressed_by(LIB_PC, _at(2, 12)) is None
