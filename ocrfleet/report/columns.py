"""The report's columns, shared by every format so csv, md and html say the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ocrfleet.i18n.text import Catalog, Words
from ocrfleet.kinds import FigureSpec
from ocrfleet.report.model import MonthReport, SiteFigures
from ocrfleet.report.words import Unit, Value

_ = Catalog("ocrfleet")

# Severities in words; one a plugin invents is shown as it is.
SEVERITY_WORDS: dict[str, Words] = {
    "critical": _("critical"),
    "warning": _("warning"),
    "info": _("info"),
}


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the csv header for scripts (--csv-keys): stable, lower-case
    title: Words
    unit: Unit
    value: Callable[[SiteFigures], Value]
    # A figure below what the guide or the site asks: shown marked.
    short: Callable[[SiteFigures], bool] | None = None
    # Columns added after the csv's first release come after the older ones,
    # so a script that reads the csv by position keeps working.
    appended: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    title: Words
    columns: tuple[Column, ...]
    # A sentence under the table, saying what a column compares with.
    footnote: Words = ""


def sections(report: MonthReport) -> list[Section]:
    use = (
        Column("sessions", _("Sessions"), Unit.COUNT, lambda s: s.sessions),
        Column("usage_hours", _("Usage hours"), Unit.HOURS, lambda s: s.usage_hours),
        Column("open_hours", _("Open hours"), Unit.HOURS, lambda s: s.open_hours),
        Column("utilisation_pct", _("Utilisation"), Unit.PERCENT, lambda s: s.utilisation),
    )
    seats = (
        Column("seats", _("Computers"), Unit.COUNT, lambda s: s.seats, appended=True),
        Column(
            "usable_seats_avg",
            _("Usable on average while open"),
            Unit.DECIMAL,
            lambda s: s.usable_seats,
            short=lambda s: s.seats_short,
            appended=True,
        ),
        Column(
            "seats_required", _("Required"), Unit.COUNT, lambda s: s.seats_required, appended=True
        ),
        Column(
            "usable_seat_pct",
            _("Open time with a usable computer"),
            Unit.PERCENT,
            lambda s: s.usable_seat_share,
        ),
        Column(
            "unreserved_seat_pct",
            _("Open time with a computer free without reservation"),
            Unit.PERCENT,
            lambda s: s.unreserved_seat_share,
            short=lambda s: _below(s.unreserved_seat_share, 1.0),
        ),
        Column(
            "seat_availability_pct",
            _("Computer availability"),
            Unit.PERCENT,
            lambda s: s.seat_availability,
        ),
    )
    turns = (
        Column(
            "sessions_over_limit_pct",
            _("Sessions over the time limit"),
            Unit.PERCENT,
            lambda s: s.over_limit_share,
            appended=True,
        ),
        Column(
            "all_seats_busy_hours",
            _("Hours with every computer taken"),
            Unit.HOURS,
            lambda s: s.all_seats_busy_hours,
            appended=True,
        ),
        Column(
            "longest_all_seats_busy_hours",
            _("Longest stretch with every computer taken"),
            Unit.HOURS,
            lambda s: s.longest_all_seats_busy_hours,
            appended=True,
        ),
    )
    turns_note = _(
        "Sessions over the time limit: of the sessions on computers with a time limit, the "
        "share that lasted as long as the limit or longer, whether or not others were waiting; "
        "sessions whose end was lost (a computer switched off at the wall) are not counted. "
        "While every computer "
        "that works is taken, a visitor who comes in has to wait: the longest such stretch "
        "of a day is the longest a visitor may have waited."
    )
    internet = (
        Column(
            "internet_pct",
            _("Internet available while open"),
            Unit.PERCENT,
            lambda s: s.internet_availability,
            short=lambda s: _below(s.internet_availability, 1.0),
            appended=True,
        ),
        Column(
            "internet_slow_hours",
            _("Hours with slow internet"),
            Unit.HOURS,
            lambda s: s.internet_degraded_hours,
            appended=True,
        ),
        Column(
            "internet_down_hours",
            _("Hours without internet"),
            Unit.HOURS,
            lambda s: s.internet_down_hours,
            short=lambda s: (s.internet_down_hours or 0.0) > 0.0,
            appended=True,
        ),
    )
    internet_note = _(
        "Internet: checked from inside each site by its computers (and the server when it "
        "stands there). Availability counts the open time its state was known; hours "
        "without internet are an outage of the line, not of the computers, which are "
        "counted above as they were."
    )
    equipment = tuple(
        availability_column(report, kind) for kind in report.availability_kinds
    ) + tuple(_figure(spec) for spec in report.figures)
    alerts = (
        Column("alerts_fired", _("Alerts"), Unit.COUNT, lambda s: s.alerts_fired),
        *(_severity(severity) for severity in report.severities),
    )
    maintenance = (
        Column(
            "maintained_devices",
            _("Devices with monthly maintenance"),
            Unit.COUNT,
            lambda s: s.maintained_devices,
            appended=True,
        ),
        Column(
            "maintenance_entries",
            _("Maintenance done"),
            Unit.COUNT,
            lambda s: s.maintenance.entries,
        ),
        Column(
            "maintenance_minutes",
            _("Minutes logged"),
            Unit.COUNT,
            lambda s: s.maintenance.minutes,
        ),
        Column(
            "maintenance_asked_minutes",
            _("Minutes the guide asks"),
            Unit.COUNT,
            lambda s: s.maintenance_asked_minutes,
            appended=True,
        ),
        Column(
            "maintenance_pct",
            _("Share of the guide's norm"),
            Unit.PERCENT,
            lambda s: s.maintenance_share,
            short=lambda s: _below(s.maintenance_share, 1.0),
            appended=True,
        ),
    )
    seats_note = _(
        "Required: the computers a site must keep usable, as configured for it; for the "
        "municipality, the guide's norm of public computers. The guide also asks that at "
        "least one computer is always free to use without a reservation."
    )
    maintenance_note = _(
        "The guide asks for about {minutes} minutes of technical maintenance per device "
        "each month.",
        minutes=report.monthly_minutes,
    )
    return [
        Section(_("Use"), use),
        Section(_("Computers during opening hours"), seats, seats_note),
        Section(_("Fair turns"), turns, turns_note),
        Section(_("Internet during opening hours"), internet, internet_note),
        Section(_("Equipment"), equipment),
        Section(_("Alerts"), alerts),
        Section(_("Maintenance"), maintenance, maintenance_note),
    ]


def all_columns(report: MonthReport) -> list[Column]:
    """The csv's columns: every section's, older ones first."""
    recorded = Column(
        "days_recorded", _("Days recorded"), Unit.COUNT, lambda s: s.minutes.days_recorded
    )
    columns = [column for section in sections(report) for column in section.columns]
    return [c for c in columns if not c.appended] + [recorded] + [c for c in columns if c.appended]


def _below(value: float | None, asked: float) -> bool:
    """Below what is asked; no value (nothing to divide by) is not."""
    return value is not None and value < asked


def availability_column(report: MonthReport, kind: str) -> Column:
    return Column(
        f"availability_pct_{kind}",
        _("{kind}: available while open", kind=report.kind_title(kind)),
        Unit.PERCENT,
        lambda s: s.availability(kind),
    )


def _figure(spec: FigureSpec) -> Column:
    return Column(spec.name, spec.title, Unit.COUNT, lambda s: s.figure(spec))


def _severity(severity: str) -> Column:
    return Column(
        f"alerts_{severity}",
        _("Alerts: {severity}", severity=SEVERITY_WORDS.get(severity, severity)),
        Unit.COUNT,
        lambda s: s.alerts_of(severity),
    )
