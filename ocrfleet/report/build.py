"""Building a month's report from the history, per site in the site's own time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ocrfleet.alerts.rules import Severity
from ocrfleet.config.models import Config, SiteConfig
from ocrfleet.history.days import Month
from ocrfleet.history.reader import HistoryReader
from ocrfleet.kinds import FigureSpec
from ocrfleet.report.model import MonthReport, SiteFigures, combine

TOTAL_SITE = "*"  # not a valid site id, so a total row can never be taken for a site


def build_report(
    reader: HistoryReader,
    config: Config,
    month: Month,
    now: float,
    *,
    availability_kinds: Sequence[str] = (),
    site: str | None = None,
    figures: Sequence[FigureSpec] = (),
) -> MonthReport:
    """The report of `month` for every site, or only `site` (which must be configured).

    `figures` are the kinds' daily figures (history.figures.declared_figures),
    one column each.
    """
    sites = [s for s in config.sites if site is None or s.id == site]
    if not sites:
        raise ValueError(f"unknown site {site!r}")
    rows = tuple(_site(reader, s, month, now) for s in sites)
    # Alerts of no site (e.g. the municipality's norm) belong to the total of
    # the whole municipality only; the first site's zone draws their month.
    extra = []
    if site is None:
        start, end = month.bounds(ZoneInfo(config.sites[0].timezone))
        extra = reader.alerts_fired(None, start, end)
    total = combine(TOTAL_SITE, f"{config.municipality.name} total", rows, extra)
    kinds = sorted(set(availability_kinds) | set(total.kinds))
    found = {a.severity for a in total.alerts}
    severities = [s.value for s in Severity] + sorted(found - {s.value for s in Severity})
    return MonthReport(
        municipality=config.municipality.name,
        month=month,
        generated_at=now,
        sites=rows,
        total=total,
        availability_kinds=tuple(kinds),
        figures=tuple(figures),
        severities=tuple(severities),
        notes=tuple(_notes(config, sites, month, now, total)),
    )


def _site(reader: HistoryReader, site: SiteConfig, month: Month, now: float) -> SiteFigures:
    zone = ZoneInfo(site.timezone)
    start, end = month.bounds(zone)
    first_day, end_day = month.first_day.isoformat(), month.next().first_day.isoformat()
    per_day = [0] * len(month.days)
    starts = reader.session_starts(site.id, start, end)
    for started in starts:
        per_day[datetime.fromtimestamp(started, zone).day - 1] += 1
    return SiteFigures(
        site=site.id,
        name=site.name,
        sessions=len(starts),
        usage_seconds=reader.usage_seconds(site.id, start, end, now),
        minutes=reader.site_minutes(site.id, first_day, end_day),
        kinds=reader.kind_minutes(site.id, first_day, end_day),
        increases=reader.increases(site.id, first_day, end_day),
        peaks=reader.peaks(site.id, first_day, end_day),
        alerts=tuple(reader.alerts_fired(site.id, start, end)),
        maintenance=reader.maintenance_done(site.id, start, end),
        sessions_per_day=tuple(per_day),
    )


def _notes(
    config: Config, sites: list[SiteConfig], month: Month, now: float, total: SiteFigures
) -> list[str]:
    notes = []
    zone = ZoneInfo(sites[0].timezone)
    start, end = month.bounds(zone)
    if now < end:
        upto = datetime.fromtimestamp(now, zone).strftime("%Y-%m-%d %H:%M")
        notes.append(f"The month is not over: figures up to {upto}.")
    if start < now - config.store.retention:
        days = round(config.store.retention / 86400)
        notes.append(
            f"History is kept for {days} days (store.retention): "
            "older parts of this month have been deleted."
        )
    recorded = total.minutes.days_recorded
    if recorded == 0:
        notes.append(
            "No daily figures were recorded this month: opening hours, utilisation, "
            "availability and printed pages need the daemon running."
        )
    elif recorded < len(month.days) and now >= end:
        notes.append(
            f"Daily figures were recorded on {recorded} of {len(month.days)} days; "
            "time the daemon was not running is not counted."
        )
    return notes
