"""The report's columns, shared by every format so csv, md and html say the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ocrfleet.kinds import FigureSpec
from ocrfleet.report.model import MonthReport, SiteFigures

Value = float | int | None


class Unit(StrEnum):
    COUNT = "count"
    HOURS = "hours"
    PERCENT = "percent"  # the value is a ratio, 0-1


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the csv header: stable, lower-case
    title: str
    unit: Unit
    value: Callable[[SiteFigures], Value]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    columns: tuple[Column, ...]


def sections(report: MonthReport) -> list[Section]:
    use = (
        Column("sessions", "Sessions", Unit.COUNT, lambda s: s.sessions),
        Column("usage_hours", "Usage hours", Unit.HOURS, lambda s: s.usage_hours),
        Column("open_hours", "Open hours", Unit.HOURS, lambda s: s.open_hours),
        Column("utilisation_pct", "Utilisation", Unit.PERCENT, lambda s: s.utilisation),
    )
    seats = (
        Column(
            "usable_seat_pct",
            "Open time with a usable seat",
            Unit.PERCENT,
            lambda s: s.usable_seat_share,
        ),
        Column(
            "unreserved_seat_pct",
            "Open time with an unreserved seat",
            Unit.PERCENT,
            lambda s: s.unreserved_seat_share,
        ),
        Column(
            "seat_availability_pct",
            "Seat availability",
            Unit.PERCENT,
            lambda s: s.seat_availability,
        ),
    )
    equipment = tuple(_availability(kind) for kind in report.availability_kinds) + tuple(
        _figure(spec) for spec in report.figures
    )
    care = (
        Column("alerts_fired", "Alerts", Unit.COUNT, lambda s: s.alerts_fired),
        *(_severity(severity) for severity in report.severities),
        Column(
            "maintenance_entries", "Maintenance done", Unit.COUNT, lambda s: s.maintenance.entries
        ),
        Column(
            "maintenance_minutes",
            "Maintenance minutes",
            Unit.COUNT,
            lambda s: s.maintenance.minutes,
        ),
    )
    return [
        Section("Use", use),
        Section("Seats during opening hours", seats),
        Section("Equipment", equipment),
        Section("Alerts and maintenance", care),
    ]


def all_columns(report: MonthReport) -> list[Column]:
    recorded = Column(
        "days_recorded", "Days recorded", Unit.COUNT, lambda s: s.minutes.days_recorded
    )
    return [column for section in sections(report) for column in section.columns] + [recorded]


def _availability(kind: str) -> Column:
    return Column(
        f"availability_pct_{kind}",
        f"{kind} up while open",
        Unit.PERCENT,
        lambda s: s.availability(kind),
    )


def _figure(spec: FigureSpec) -> Column:
    return Column(spec.name, spec.title, Unit.COUNT, lambda s: s.figure(spec))


def _severity(severity: str) -> Column:
    return Column(
        f"alerts_{severity}", f"Alerts: {severity}", Unit.COUNT, lambda s: s.alerts_of(severity)
    )


def plain(value: Value, unit: Unit) -> str:
    """For csv: a plain number, percentages 0-100 with one decimal; empty for no value."""
    if value is None:
        return ""
    if unit is Unit.PERCENT:
        return f"{value * 100:.1f}"
    if unit is Unit.HOURS:
        return f"{value:.2f}"
    return str(round(value))


def pretty(value: Value, unit: Unit) -> str:
    """For people: thousands separated, percentages with a sign; a dash for no value."""
    if value is None:
        return "-"
    if unit is Unit.PERCENT:
        return f"{value * 100:.1f} %"
    if unit is Unit.HOURS:
        return f"{value:,.1f}"
    return f"{round(value):,}"
