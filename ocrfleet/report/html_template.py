"""The html report's Jinja2 template: the shipped one, or the operator's.

With `[templates] directory` set, the report takes the first file found of
`<directory>/report/report.html.j2` and `<directory>/report.html.j2`; else
the one shipped in ocrfleet/report/templates/. An operator's template may
`{% extends "ocrfleet/report.html.j2" %}` and replace a block of it.

Templates run sandboxed with autoescaping. A template sees the report put
into words (`report`, a ReportView: every text already in the reader's
language), its figures (`data`, the MonthReport), the reader's notation
(`moment`, `day`, `month`, `number`, `percent`, `say`) and `_()` for the
core's words; nothing else. A template that fails is logged with its file and line, and
the shipped one is used instead: a typo must not cost the month's report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
)

from ocrfleet.history.days import Month
from ocrfleet.history.reader import AlertCount, MaintenanceDone, SiteMinutes
from ocrfleet.i18n.catalogs import LANGUAGES, Catalogs
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.notify.sandbox import BoundedSandbox

# One kind of problem, and one way to load and render, for every template.
from ocrfleet.notify.templates import (
    TemplateFailed,
    TemplateProblem,
    load_template,
    render_template,
)
from ocrfleet.report.model import MonthReport, PublicDevices, Renewal, SiteFigures, combine
from ocrfleet.report.view import report_view
from ocrfleet.report.words import Wording

log = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"
# The shipped template's name, for an operator's template that extends it.
SHIPPED = f"ocrfleet/{TEMPLATE}"
# Where an operator's template is looked for in [templates] directory, in order.
OVERRIDES = (f"report/{TEMPLATE}", TEMPLATE)


def operator_template(directory: Path | None) -> Path | None:
    """The operator's report template in `directory`, if there is one."""
    if directory is None:
        return None
    for name in OVERRIDES:
        path = directory / name
        if path.is_file():
            return path
    return None


def environment(directory: Path | None, speaker: Speaker) -> BoundedSandbox:
    loaders: list[BaseLoader] = [
        PrefixLoader({"ocrfleet": PackageLoader("ocrfleet.report", "templates")})
    ]
    if directory is not None:
        loaders.append(FileSystemLoader(directory))
    env = BoundedSandbox(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        # A misspelt name is an error to report, not an empty cell to miss.
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        speaker.gettext, speaker.ngettext, newstyle=False
    )
    return env


def render_page(report: MonthReport, speaker: Speaker, directory: Path | None = None) -> str:
    """The report as html, from the operator's template if it works, else the shipped one."""
    context = template_context(report, speaker)
    chosen = operator_template(directory)
    if chosen is not None and directory is not None:
        name = chosen.relative_to(directory).as_posix()
        try:
            return _render(environment(directory, speaker), name, context)
        except TemplateFailed as exc:
            log.error("report template %s; using the shipped template instead", exc.problem)
    return _render(environment(None, speaker), SHIPPED, context)


def template_context(report: MonthReport, speaker: Speaker) -> dict[str, Any]:
    """What a report template sees (docs/report.md lists it)."""
    words = Wording(speaker)
    return {
        "report": report_view(report, speaker),
        "data": report,
        "moment": speaker.moment,
        "day": speaker.day,
        "month": speaker.month,
        "number": speaker.number,
        "percent": words.percent,
        "say": speaker.say,
    }


def _render(env: BoundedSandbox, name: str, context: dict[str, Any]) -> str:
    template = load_template(env, name, name)
    # A year of sites and charts is long: the sandbox's budget bounds the
    # work, not an output size meant for a notification.
    return render_template(template, context, max_output=None)


def check_report_templates(
    directory: Path | None, catalogs: Catalogs | None = None
) -> list[TemplateProblem]:
    """Problems of the operator's report templates in `directory`, for `check-config`.

    Each template found is compiled and rendered with a sample report in
    every language; an empty list means the report will use them.
    """
    if directory is None:
        return []
    problems: list[TemplateProblem] = []
    for name in OVERRIDES:
        if not (directory / name).is_file():
            continue
        for language in LANGUAGES:
            speaker = Speaker(catalogs or Catalogs(), language, ZoneInfo("Europe/Brussels"))
            try:
                _render(environment(directory, speaker), name, template_context(sample(), speaker))
            except TemplateFailed as exc:
                problems.append(exc.problem)
                break
    return problems


def sample() -> MonthReport:
    """A small made-up report with every part filled, for trying a template."""
    month = Month(2026, 10)
    rows = (
        _sample_site("library", "Library", 120, [AlertCount("device_down", "critical", 2)]),
        _sample_site("centre", "Dienstencentrum De Zonnebloem – Sint-Amandsberg-Oost", 45, []),
    )
    before = (
        _sample_site("library", "Library", 100, []),
        _sample_site("centre", "Dienstencentrum De Zonnebloem – Sint-Amandsberg-Oost", 50, []),
    )
    return MonthReport(
        municipality="Vlaminggem",
        month=month,
        generated_at=month.next().bounds(ZoneInfo("Europe/Brussels"))[0] + 3600,
        sites=rows,
        total=combine("*", "Vlaminggem", rows, []),
        availability_kinds=("printer",),
        figures=(),
        severities=("critical", "warning", "info"),
        notes=("A note.",),
        previous=before,
        previous_total=combine("*", "Vlaminggem", before, []),
        device_norm=PublicDevices(11_793, 4, 5, 5, 6),
        renewals=(
            Renewal(
                "library", "pc-01", "pc", "OptiPlex", date(2021, 11, 2), date(2026, 11, 2), False
            ),
        ),
        undated_devices=1,
    )


def _sample_site(site: str, name: str, sessions: int, alerts: Sequence[AlertCount]) -> SiteFigures:
    return SiteFigures(
        site=site,
        name=name,
        sessions=sessions,
        usage_seconds=sessions * 2700.0,
        minutes=SiteMinutes(20, 28800, 9600, 28800, 27000, 9000, 9600, 9400),
        kinds={"printer": (9600.0, 9000.0)},
        alerts=tuple(alerts),
        maintenance=MaintenanceDone(2, 90),
        sessions_per_day=tuple((sessions + day) // 31 for day in range(31)),
        seats=3,
        seats_required=2,
        maintained_devices=4,
        maintenance_asked_minutes=240,
    )
