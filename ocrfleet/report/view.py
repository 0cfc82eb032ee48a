"""The report put into one reader's words: the tables and sentences md and html both show.

Everything a person reads is decided here, once, so the Markdown and the
HTML (and the PDF printed from it) never say different things. A template
gets a `ReportView` and only lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Catalog, Day, Number
from ocrfleet.norms.figures import ADULTS_PER_DEVICE
from ocrfleet.report.charts import bar_chart, column_chart
from ocrfleet.report.columns import Column, Section, availability_column, sections
from ocrfleet.report.model import MonthReport, SiteFigures
from ocrfleet.report.words import Unit, Value, Wording

_ = Catalog("ocrfleet")
_n = _.plural

# How many rules the "most frequent alerts" table lists.
TOP_RULES = 10
HTML_LANGUAGES = {"nl": "nl-BE", "en": "en"}


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    numeric: bool = False
    # Below what the guide or the site asks: shown marked.
    short: bool = False
    # How it changed since the month before ("+12 %"), shown beside the value.
    change: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    total: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    footnote: str = ""

    @property
    def numeric(self) -> tuple[bool, ...]:
        """Per column: whether it holds figures (aligned right)."""
        return tuple(
            any(len(row.cells) > i and row.cells[i].numeric for row in self.rows)
            for i in range(len(self.header))
        )


@dataclass(frozen=True, slots=True)
class SitePart:
    """One site's page in the html: its name, its chart of sessions per day."""

    name: str
    chart: Markup
    caption: str


@dataclass(frozen=True)
class ReportView:
    language: str  # the html `lang`
    title: str
    made: str
    scope: str
    notes: tuple[str, ...]
    legend: str
    summary: Table
    comparison: Table
    tables: tuple[Table, ...]
    norms_title: str
    norms: tuple[str, ...]
    renewals: Table | None
    alerts: Table | None
    utilisation_title: str
    utilisation_chart: Markup
    sites: tuple[SitePart, ...]


def report_view(report: MonthReport, speaker: Speaker) -> ReportView:
    words = Wording(speaker)
    month = speaker.month(report.month.first_day)
    return ReportView(
        language=HTML_LANGUAGES.get(speaker.language, speaker.language),
        title=words.say(
            _(
                "{municipality}: public computer rooms, {month}",
                municipality=report.municipality,
                month=month,
            )
        ),
        made=words.say(_("Made on {moment}", moment=speaker.moment(report.generated_at))),
        scope=words.say(_n("{n} site", "{n} sites", "n", n=len(report.sites))),
        notes=tuple(words.say(note) for note in report.notes),
        legend=words.say(_("Figures in bold are below what the guide or the site asks.")),
        summary=_summary(report, words),
        comparison=_comparison(report, words),
        tables=tuple(_table(report, words, s) for s in sections(report) if s.columns),
        norms_title=words.say(_("The guide's norms")),
        norms=tuple(_norms(report, words)),
        renewals=_renewals(report, words),
        alerts=_alerts(report, words),
        utilisation_title=words.say(_("Utilisation during opening hours")),
        utilisation_chart=_utilisation_chart(report, words),
        sites=tuple(_site_part(words, row) for row in report.sites),
    )


def row_name(report: MonthReport, row: SiteFigures, words: Wording) -> str:
    if row is report.total or row is report.previous_total:
        return words.say(_("{municipality} total", municipality=row.name))
    return row.name


def _rows(report: MonthReport) -> tuple[SiteFigures, ...]:
    return (*report.sites, report.total)


# -- tables -------------------------------------------------------------------


def _table(report: MonthReport, words: Wording, section: Section) -> Table:
    header = (words.say(_("Site")), *(words.say(c.title) for c in section.columns))
    rows = tuple(
        Row(
            (Cell(row_name(report, row, words)), *(_cell(words, c, row) for c in section.columns)),
            total=row is report.total,
        )
        for row in _rows(report)
    )
    return Table(words.say(section.title), header, rows, words.say(section.footnote))


def _cell(words: Wording, column: Column, row: SiteFigures) -> Cell:
    short = column.short is not None and column.short(row)
    return Cell(words.value(column.value(row), column.unit), numeric=True, short=short)


def _measures(report: MonthReport) -> list[Column]:
    """What the month is compared with the month before on."""
    return [
        Column("sessions", _("Sessions"), Unit.COUNT, lambda s: s.sessions),
        Column("usage_hours", _("Usage hours"), Unit.HOURS, lambda s: s.usage_hours),
        Column("utilisation_pct", _("Utilisation"), Unit.PERCENT, lambda s: s.utilisation),
        Column(
            "seat_availability_pct",
            _("Computer availability"),
            Unit.PERCENT,
            lambda s: s.seat_availability,
        ),
        *(availability_column(report, kind) for kind in report.availability_kinds),
        Column("alerts_fired", _("Alerts"), Unit.COUNT, lambda s: s.alerts_fired),
    ]


def _summary(report: MonthReport, words: Wording) -> Table:
    """The municipality's month against the month before, measure by measure."""
    speaker = words.speaker
    now, before = report.total, report.previous_total
    header = (
        "",
        speaker.month(report.month.first_day),
        speaker.month(report.previous_month.first_day),
        words.say(_("Change")),
    )
    rows = []
    for measure in _measures(report):
        value = measure.value(now)
        then: Value = measure.value(before) if before is not None else None
        rows.append(
            Row(
                (
                    Cell(words.say(measure.title)),
                    Cell(words.value(value, measure.unit), numeric=True),
                    Cell(words.value(then, measure.unit), numeric=True),
                    Cell(words.change(value, then, measure.unit), numeric=True),
                )
            )
        )
    title = words.say(_("The month at a glance"))
    return Table(title, header, tuple(rows))


def _comparison(report: MonthReport, words: Wording) -> Table:
    """Each site's month, with its change since the month before beside each value."""
    measures = [m for m in _measures(report) if not m.key.startswith("availability_pct_")]
    header = (words.say(_("Site")), *(words.say(m.title) for m in measures))
    rows = []
    for row in _rows(report):
        before = report.before(row)
        cells = [Cell(row_name(report, row, words))]
        for measure in measures:
            value = measure.value(row)
            then = measure.value(before) if before is not None else None
            cells.append(
                Cell(
                    words.value(value, measure.unit),
                    numeric=True,
                    change=words.change(value, then, measure.unit),
                )
            )
        rows.append(Row(tuple(cells), total=row is report.total))
    month = words.speaker.month(report.previous_month.first_day)
    title = words.say(_("Compared with {month}", month=month))
    footnote = words.say(
        _(
            "Beside each figure, its change since {month}: percentages change in percentage "
            "points (pp), the other figures by a percentage of their value.",
            month=month,
        )
    )
    return Table(title, header, tuple(rows), footnote)


def _alerts(report: MonthReport, words: Wording) -> Table | None:
    rules = report.alerts_by_rule()[:TOP_RULES]
    if not rules:
        return None
    header = (words.say(_("Alert")), words.say(_("Times")))
    rows = tuple(
        Row((Cell(words.say(report.rule_title(rule))), Cell(words.count(n), numeric=True)))
        for rule, n in rules
    )
    return Table(words.say(_("Most frequent alerts")), header, rows)


# -- the guide's norms --------------------------------------------------------


def _norms(report: MonthReport, words: Wording) -> list[str]:
    lines = []
    norm = report.device_norm
    if norm is not None:
        usable = report.total.usable_seats
        lines.append(
            words.say(
                _n(
                    "The guide asks for at least {required} public computer: one per {per} "
                    "adults ({adults} adults) or one in every village core ({cores}), whichever "
                    "is more. Configured: {configured}; usable on average while open: {usable}.",
                    "The guide asks for at least {required} public computers: one per {per} "
                    "adults ({adults} adults) or one in every village core ({cores}), whichever "
                    "is more. Configured: {configured}; usable on average while open: {usable}.",
                    "required",
                    required=norm.required,
                    per=Number(ADULTS_PER_DEVICE),
                    adults=Number(norm.adults),
                    cores=Number(norm.village_cores),
                    configured=Number(norm.configured),
                    usable="-" if usable is None else words.decimal(usable),
                )
            )
        )
        if usable is not None and usable < norm.required:
            lines.append(words.say(_("Fewer computers were usable than the guide asks.")))
    total = report.total
    if total.maintenance_asked_minutes:
        share = total.maintenance_share or 0.0
        lines.append(
            words.say(
                _n(
                    "Technical maintenance: {logged} hours logged of the {asked} hours the "
                    "guide asks for {devices} device ({share}).",
                    "Technical maintenance: {logged} hours logged of the {asked} hours the "
                    "guide asks for {devices} devices ({share}).",
                    "devices",
                    logged=words.decimal(total.maintenance.minutes / 60),
                    asked=words.decimal(total.maintenance_asked_minutes / 60),
                    devices=total.maintained_devices,
                    share=words.percent(share, 0),
                )
            )
        )
    lines.append(
        words.say(
            _(
                "The guide asks to replace devices every {years} years.",
                years=Number(report.renewal_years, 1),
            )
        )
    )
    if not report.renewals:
        lines.append(words.say(_("No device is due for renewal.")))
    if report.undated_devices:
        lines.append(
            words.say(
                _n(
                    "{n} device has no purchase date, so its renewal cannot be planned.",
                    "{n} devices have no purchase date, so their renewal cannot be planned.",
                    "n",
                    n=report.undated_devices,
                )
            )
        )
    return lines


def _renewals(report: MonthReport, words: Wording) -> Table | None:
    if not report.renewals:
        return None
    header = (
        words.say(_("Device")),
        words.say(_("Kind")),
        words.say(_("Site")),
        words.say(_("Bought")),
        words.say(_("Due for renewal")),
    )
    rows = []
    for renewal in report.renewals:
        device = f"{renewal.device} ({renewal.model})" if renewal.model else renewal.device
        due = _day(words, renewal.due)
        if renewal.overdue:
            due = words.say(_("{day} (overdue)", day=Day(renewal.due)))
        rows.append(
            Row(
                (
                    Cell(device),
                    Cell(words.say(report.kind_title(renewal.kind))),
                    Cell(report.site_name(renewal.site)),
                    Cell(_day(words, renewal.bought)),
                    Cell(due, short=renewal.overdue),
                )
            )
        )
    return Table(words.say(_("Devices due for renewal")), header, tuple(rows))


def _day(words: Wording, day: date) -> str:
    return words.speaker.day(day)


# -- charts -------------------------------------------------------------------


def _utilisation_chart(report: MonthReport, words: Wording) -> Markup:
    rows: Sequence[tuple[str, float | None, str]] = [
        (row_name(report, row, words), row.utilisation, words.value(row.utilisation, Unit.PERCENT))
        for row in _rows(report)
    ]
    title = words.say(_("Computer time in use over computer time open, per site"))
    # The chart escapes every word it is given.
    return Markup(bar_chart(rows, title))


def _site_part(words: Wording, row: SiteFigures) -> SitePart:
    def day_label(day: int, sessions: int) -> str:
        return words.say(
            _n("day {day}: {n} session", "day {day}: {n} sessions", "n", day=day, n=sessions)
        )

    title = words.say(_("{site}: sessions per day", site=row.name))
    chart = column_chart(row.sessions_per_day, title, day_label)
    caption = words.say(
        _n(
            "{n} session, {hours} usage hours, utilisation {utilisation}",
            "{n} sessions, {hours} usage hours, utilisation {utilisation}",
            "n",
            n=row.sessions,
            hours=words.decimal(row.usage_hours),
            utilisation=words.value(row.utilisation, Unit.PERCENT),
        )
    )
    return SitePart(row.name, Markup(chart), caption)
