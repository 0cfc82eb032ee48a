"""Building a month's report from the history, per site in the site's own time zone."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ocrfleet.alerts.maintenance import local_date, renewal_due
from ocrfleet.alerts.rules import AlertRule, Severity
from ocrfleet.config.models import Config, SiteConfig
from ocrfleet.devices import DeviceInfo
from ocrfleet.history.days import Month
from ocrfleet.history.reader import HistoryReader
from ocrfleet.i18n.text import Catalog, Moment, Number, Words
from ocrfleet.kinds import DeviceKind, FigureSpec
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.norms.figures import norm_figures
from ocrfleet.report.model import MonthReport, PublicDevices, Renewal, SiteFigures, combine
from ocrfleet.turns.seats import past_limit, session_limits

TOTAL_SITE = "*"  # not a valid site id, so a total row can never be taken for a site

_ = Catalog("ocrfleet")
_n = _.plural


@dataclass(frozen=True)
class Fleet:
    """What the configuration and the plugins say about the devices, beside the history."""

    devices: Sequence[DeviceInfo] = ()
    # Kinds whose devices are seats (DeviceKind.is_seat), and kinds nobody
    # maintains monthly (DeviceKind.monthly_maintenance False).
    seat_kinds: frozenset[str] = frozenset()
    unmaintained_kinds: frozenset[str] = frozenset()
    ledger: LedgerView = field(default_factory=LedgerView)
    rule_titles: Mapping[str, Words] = field(default_factory=dict)
    kind_titles: Mapping[str, Words] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        devices: Sequence[DeviceInfo],
        kinds: Mapping[str, DeviceKind],
        rules: Mapping[str, AlertRule],
        ledger: LedgerView | None = None,
    ) -> Fleet:
        return cls(
            devices=tuple(devices),
            seat_kinds=frozenset(name for name, kind in kinds.items() if kind.is_seat),
            unmaintained_kinds=frozenset(
                name for name, kind in kinds.items() if not kind.monthly_maintenance
            ),
            ledger=ledger or LedgerView(),
            rule_titles={name: rule.title or name for name, rule in rules.items()},
            kind_titles={name: kind.title or name for name, kind in kinds.items()},
        )


def build_report(
    reader: HistoryReader,
    config: Config,
    month: Month,
    now: float,
    *,
    availability_kinds: Sequence[str] = (),
    site: str | None = None,
    figures: Sequence[FigureSpec] = (),
    fleet: Fleet | None = None,
) -> MonthReport:
    """The report of `month` for every site, or only `site` (which must be configured).

    `figures` are the kinds' daily figures (history.figures.declared_figures),
    one column each. The month before is read too, for comparison.
    """
    fleet = fleet or Fleet()
    sites = [s for s in config.sites if site is None or s.id == site]
    if not sites:
        raise ValueError(f"unknown site {site!r}")
    previous_month = _previous(month)
    rows = tuple(_site(reader, config, fleet, s, month, now) for s in sites)
    before = tuple(_site(reader, config, fleet, s, previous_month, now) for s in sites)
    total = _total(reader, config, rows, month, whole=site is None)
    previous_total = _total(reader, config, before, previous_month, whole=site is None)
    device_norm = _device_norm(config, fleet) if site is None else None
    if device_norm is not None:
        total = dataclasses.replace(total, seats_required=device_norm.required)
        previous_total = dataclasses.replace(previous_total, seats_required=device_norm.required)
    kinds = sorted(set(availability_kinds) | set(total.kinds) | set(previous_total.kinds))
    found = {a.severity for a in total.alerts}
    severities = [s.value for s in Severity] + sorted(found - {s.value for s in Severity})
    _start, end = month.bounds(ZoneInfo(sites[0].timezone))
    chosen = {s.id for s in sites}
    devices = [d for d in fleet.devices if d.site in chosen]
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
        previous=before,
        previous_total=previous_total,
        device_norm=device_norm,
        renewals=tuple(_renewals(config, fleet, devices, min(now, end))),
        undated_devices=sum(1 for d in devices if d.purchase_date is None),
        renewal_years=config.maintenance.renewal_years,
        monthly_minutes=config.maintenance.monthly_minutes,
        rule_titles=fleet.rule_titles,
        kind_titles=fleet.kind_titles,
    )


def _previous(month: Month) -> Month:
    return Month(month.year - 1, 12) if month.month == 1 else Month(month.year, month.month - 1)


def _site(
    reader: HistoryReader,
    config: Config,
    fleet: Fleet,
    site: SiteConfig,
    month: Month,
    now: float,
) -> SiteFigures:
    zone = ZoneInfo(site.timezone)
    start, end = month.bounds(zone)
    first_day, end_day = month.first_day.isoformat(), month.next().first_day.isoformat()
    per_day = [0] * len(month.days)
    starts = reader.session_starts(site.id, start, end)
    for started in starts:
        per_day[datetime.fromtimestamp(started, zone).day - 1] += 1
    devices = [d for d in fleet.devices if d.site == site.id]
    maintained = sum(1 for d in devices if d.kind not in fleet.unmaintained_kinds)
    limited, over = _sessions_over_limit(reader, config, fleet, site, start, end, now)
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
        seats=sum(1 for d in devices if d.kind in fleet.seat_kinds),
        seats_required=site.min_usable_seats,
        maintained_devices=maintained,
        maintenance_asked_minutes=maintained * config.maintenance.monthly_minutes,
        sessions_limited=limited,
        sessions_over_limit=over,
        internet=reader.internet_minutes(site.id, first_day, end_day),
    )


def _sessions_over_limit(
    reader: HistoryReader,
    config: Config,
    fleet: Fleet,
    site: SiteConfig,
    start: float,
    end: float,
    now: float,
) -> tuple[int, int]:
    """(sessions on seats with a limit, of which lasted it or longer), by the limits configured now.

    Sessions whose end was lost are not counted (HistoryReader.session_lengths).
    """
    limits = {
        key.device: limit for key, limit in session_limits(config).items() if key.site == site.id
    }
    if not limits:
        return 0, 0
    not_seats = {
        d.id for d in fleet.devices if d.site == site.id and d.kind not in fleet.seat_kinds
    }
    limited = over = 0
    for device, seconds in reader.session_lengths(site.id, start, end, now):
        limit = limits.get(device)
        if limit is None or device in not_seats:
            continue
        limited += 1
        over += 1 if past_limit(seconds, limit) else 0
    return limited, over


def _total(
    reader: HistoryReader, config: Config, rows: Sequence[SiteFigures], month: Month, whole: bool
) -> SiteFigures:
    # Alerts of no site (e.g. the municipality's norm) belong to the total of
    # the whole municipality only; the first site's zone draws their month.
    extra = []
    if whole:
        start, end = month.bounds(ZoneInfo(config.zone_of_all()))
        extra = reader.alerts_fired(None, start, end)
    return combine(TOTAL_SITE, config.municipality.name, rows, extra)


def _device_norm(config: Config, fleet: Fleet) -> PublicDevices:
    figures = norm_figures(config, fleet.devices, fleet.seat_kinds)
    return PublicDevices(
        adults=figures.adults,
        village_cores=len(figures.village_cores),
        by_population=figures.devices.by_population,
        required=figures.devices.required,
        configured=figures.devices.configured,
    )


def _renewals(
    config: Config, fleet: Fleet, devices: Sequence[DeviceInfo], when: float
) -> list[Renewal]:
    """Devices whose renewal reminder is on at `when`: due within the notice, or overdue."""
    found = []
    for info in devices:
        due = renewal_due(info, fleet.ledger, config.maintenance)
        if due is None or due.due_at is None or info.purchase_date is None:
            continue
        if not due.is_due(when):
            continue
        found.append(
            Renewal(
                site=info.site,
                device=info.id,
                kind=info.kind,
                model=info.model,
                bought=info.purchase_date,
                due=local_date(info, due.due_at),
                overdue=when >= due.due_at,
            )
        )
    return sorted(found, key=lambda r: (r.due, r.site, r.device))


def _notes(
    config: Config, sites: list[SiteConfig], month: Month, now: float, total: SiteFigures
) -> list[Words]:
    notes: list[Words] = []
    zone = ZoneInfo(sites[0].timezone)
    start, end = month.bounds(zone)
    if now < end:
        notes.append(_("The month is not over: figures up to {moment}.", moment=Moment(now)))
    days = round(config.store.retention / 86400)
    if start < now - config.store.retention:
        notes.append(
            _n(
                "History is kept for {days} day: older parts of this month have been deleted.",
                "History is kept for {days} days: older parts of this month have been deleted.",
                "days",
                days=days,
            )
        )
    elif _previous(month).bounds(zone)[0] < now - config.store.retention:
        notes.append(
            _n(
                "History is kept for {days} day: parts of last month have been deleted, so "
                "the comparison with it is incomplete.",
                "History is kept for {days} days: parts of last month have been deleted, so "
                "the comparison with it is incomplete.",
                "days",
                days=days,
            )
        )
    recorded = total.minutes.days_recorded
    if recorded == 0:
        notes.append(
            _(
                "No daily figures were recorded this month: opening hours, utilisation, "
                "availability and printed pages need the monitoring service running."
            )
        )
    elif recorded < len(month.days) and now >= end:
        notes.append(
            _(
                "Daily figures were recorded on {recorded} of {days} days; time the "
                "monitoring service was not running is not counted.",
                recorded=Number(recorded),
                days=Number(len(month.days)),
            )
        )
    return notes
