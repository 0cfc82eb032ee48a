"""What a month's report says, before any rendering; ratios are None when there is no base.

Nothing here is in a language yet: names of rules and kinds are kept as
`Words`, dates as dates, so each reader gets the report in their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ocrfleet.history.days import Month
from ocrfleet.history.reader import AlertCount, InternetMinutes, MaintenanceDone, SiteMinutes
from ocrfleet.i18n.text import Words
from ocrfleet.kinds import Aggregation, FigureSpec


@dataclass(frozen=True)
class SiteFigures:
    site: str
    name: str
    sessions: int = 0
    usage_seconds: float = 0.0
    minutes: SiteMinutes = field(default_factory=SiteMinutes)
    # kind -> (device minutes while open, of which up), kinds that are not seats
    kinds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    increases: Mapping[str, float] = field(default_factory=dict)
    peaks: Mapping[str, float] = field(default_factory=dict)
    alerts: tuple[AlertCount, ...] = ()
    maintenance: MaintenanceDone = field(default_factory=MaintenanceDone)
    # Sessions started on each day of the month, day 1 first.
    sessions_per_day: tuple[int, ...] = ()
    # From the configuration: seats (public PCs and laptops), the seats the
    # site must keep usable (`min_usable_seats`; for the total, the guide's
    # norm of public devices), and the devices that get monthly maintenance.
    seats: int = 0
    seats_required: int | None = None
    maintained_devices: int = 0
    # The guide's technical maintenance: monthly_minutes x maintained devices.
    maintenance_asked_minutes: int = 0
    # Set for a total: the sum of its sites' averages (their opening hours differ).
    usable_seats_sum: float | None = None
    # Fair turns: sessions on seats with a session_limit, and of those the ones
    # that lasted longer than it.
    sessions_limited: int = 0
    sessions_over_limit: int = 0
    # The site's internet during opening hours (docs/internet.md).
    internet: InternetMinutes = field(default_factory=InternetMinutes)

    @property
    def usage_hours(self) -> float:
        return self.usage_seconds / 3600.0

    @property
    def open_hours(self) -> float | None:
        """None, not zero, when the recorder never ran: the hours are unknown."""
        return self.minutes.open / 60.0 if self.minutes.days_recorded else None

    @property
    def utilisation(self) -> float | None:
        """Seat time in use over seat time open."""
        return _ratio(self.minutes.seats_in_use, self.minutes.seats)

    @property
    def usable_seat_share(self) -> float | None:
        """Share of open time with at least one seat up."""
        return _ratio(self.minutes.with_usable_seat, self.minutes.open)

    @property
    def unreserved_seat_share(self) -> float | None:
        """Share of open time with a seat up that needs no reservation (the guide's rule)."""
        return _ratio(self.minutes.with_unreserved_seat, self.minutes.open)

    @property
    def seat_availability(self) -> float | None:
        """Seat time up over seat time open."""
        return _ratio(self.minutes.seats_usable, self.minutes.seats)

    @property
    def usable_seats(self) -> float | None:
        """Seats up on average while the site was open (a total: summed over its sites)."""
        if self.usable_seats_sum is not None:
            return self.usable_seats_sum
        return _ratio(self.minutes.seats_usable, self.minutes.open)

    @property
    def seats_short(self) -> bool:
        """Fewer seats usable on average than required."""
        usable, required = self.usable_seats, self.seats_required
        return usable is not None and required is not None and usable < required

    @property
    def maintenance_share(self) -> float | None:
        """Maintenance minutes logged over what the guide asks."""
        return _ratio(self.maintenance.minutes, self.maintenance_asked_minutes)

    @property
    def over_limit_share(self) -> float | None:
        """Share of the sessions with a limit that lasted longer than it."""
        return _ratio(self.sessions_over_limit, self.sessions_limited)

    @property
    def all_seats_busy_hours(self) -> float | None:
        """Open hours with every computer that was up in use; None when never recorded."""
        return self.minutes.all_seats_busy / 60.0 if self.minutes.days_recorded else None

    @property
    def longest_all_seats_busy_hours(self) -> float | None:
        """The longest stretch of a day with every computer in use: how long a visitor may wait."""
        return self.minutes.longest_all_seats_busy / 60.0 if self.minutes.days_recorded else None

    @property
    def internet_availability(self) -> float | None:
        """Opening time with internet (slow included) over the time its state was known."""
        return self.internet.availability

    @property
    def internet_degraded_hours(self) -> float | None:
        return self.internet.degraded / 60.0 if self.internet.known else None

    @property
    def internet_down_hours(self) -> float | None:
        return self.internet.down / 60.0 if self.internet.known else None

    def availability(self, kind: str) -> float | None:
        total, up = self.kinds.get(kind, (0.0, 0.0))
        return _ratio(up, total)

    def figure(self, spec: FigureSpec) -> float | None:
        source = self.increases if spec.aggregation is Aggregation.INCREASE else self.peaks
        return source.get(spec.name)

    def alerts_of(self, severity: str) -> int:
        return sum(a.fired for a in self.alerts if a.severity == severity)

    @property
    def alerts_fired(self) -> int:
        return sum(a.fired for a in self.alerts)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True, slots=True)
class Renewal:
    """A device the guide says to replace soon (or already): every `renewal_years`."""

    site: str
    device: str
    kind: str
    model: str
    bought: date
    due: date
    overdue: bool


@dataclass(frozen=True, slots=True)
class PublicDevices:
    """The guide's norm of public devices: one per 2,500 adults, or one per village core."""

    adults: int
    village_cores: int
    by_population: int
    required: int
    configured: int


@dataclass(frozen=True)
class MonthReport:
    municipality: str
    month: Month
    generated_at: float
    sites: tuple[SiteFigures, ...]
    total: SiteFigures
    availability_kinds: tuple[str, ...]
    figures: tuple[FigureSpec, ...]
    severities: tuple[str, ...]
    notes: tuple[Words, ...] = ()
    # The month before, site by site in the same order, and its total.
    previous: tuple[SiteFigures, ...] = ()
    previous_total: SiteFigures | None = None
    # The guide's norms: devices (only for a report of every site), renewal.
    device_norm: PublicDevices | None = None
    renewals: tuple[Renewal, ...] = ()
    undated_devices: int = 0  # devices without a purchase date: no renewal date
    renewal_years: float = 5.0
    monthly_minutes: int = 60
    # Plain names for people: a rule's `title`, a kind's; ids are the fallback.
    rule_titles: Mapping[str, Words] = field(default_factory=dict)
    kind_titles: Mapping[str, Words] = field(default_factory=dict)

    @property
    def previous_month(self) -> Month:
        if self.month.month == 1:
            return Month(self.month.year - 1, 12)
        return Month(self.month.year, self.month.month - 1)

    def before(self, row: SiteFigures) -> SiteFigures | None:
        """The same site's (or the total's) figures of the month before."""
        if row is self.total:
            return self.previous_total
        for now, then in zip(self.sites, self.previous, strict=False):
            if now is row:
                return then
        return None

    def rule_title(self, rule: str) -> Words:
        return self.rule_titles.get(rule) or rule

    def kind_title(self, kind: str) -> Words:
        return self.kind_titles.get(kind) or kind

    def site_name(self, site: str) -> str:
        return next((row.name for row in self.sites if row.site == site), site)

    def alerts_by_rule(self) -> list[tuple[str, int]]:
        """Rules by how often they fired over the report's sites, most first."""
        counts: dict[str, int] = {}
        for alert in self.total.alerts:
            counts[alert.rule] = counts.get(alert.rule, 0) + alert.fired
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def combine(
    site: str, name: str, parts: Sequence[SiteFigures], extra_alerts: Sequence[AlertCount]
) -> SiteFigures:
    """The sum of several sites' figures; peaks take the highest site's."""
    minutes = SiteMinutes(
        days_recorded=max((p.minutes.days_recorded for p in parts), default=0),
        sampled=sum(p.minutes.sampled for p in parts),
        open=sum(p.minutes.open for p in parts),
        seats=sum(p.minutes.seats for p in parts),
        seats_usable=sum(p.minutes.seats_usable for p in parts),
        seats_in_use=sum(p.minutes.seats_in_use for p in parts),
        with_usable_seat=sum(p.minutes.with_usable_seat for p in parts),
        with_unreserved_seat=sum(p.minutes.with_unreserved_seat for p in parts),
        all_seats_busy=sum(p.minutes.all_seats_busy for p in parts),
        longest_all_seats_busy=max((p.minutes.longest_all_seats_busy for p in parts), default=0.0),
    )
    kinds: dict[str, tuple[float, float]] = {}
    increases: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for part in parts:
        for kind, (total, up) in part.kinds.items():
            before = kinds.get(kind, (0.0, 0.0))
            kinds[kind] = (before[0] + total, before[1] + up)
        for figure, value in part.increases.items():
            increases[figure] = increases.get(figure, 0.0) + value
        for figure, value in part.peaks.items():
            peaks[figure] = max(peaks.get(figure, 0.0), value)
    alerts: dict[tuple[str, str], int] = {}
    for alert in [a for p in parts for a in p.alerts] + list(extra_alerts):
        alerts[(alert.rule, alert.severity)] = (
            alerts.get((alert.rule, alert.severity), 0) + alert.fired
        )
    length = max((len(p.sessions_per_day) for p in parts), default=0)
    per_day = tuple(
        sum(p.sessions_per_day[i] for p in parts if i < len(p.sessions_per_day))
        for i in range(length)
    )
    usable = [u for u in (p.usable_seats for p in parts) if u is not None]
    return SiteFigures(
        site=site,
        name=name,
        sessions=sum(p.sessions for p in parts),
        usage_seconds=sum(p.usage_seconds for p in parts),
        minutes=minutes,
        kinds=kinds,
        increases=increases,
        peaks=peaks,
        alerts=tuple(AlertCount(r, s, n) for (r, s), n in sorted(alerts.items())),
        maintenance=MaintenanceDone(
            sum(p.maintenance.entries for p in parts), sum(p.maintenance.minutes for p in parts)
        ),
        sessions_per_day=per_day,
        seats=sum(p.seats for p in parts),
        maintained_devices=sum(p.maintained_devices for p in parts),
        maintenance_asked_minutes=sum(p.maintenance_asked_minutes for p in parts),
        usable_seats_sum=sum(usable) if usable else None,
        sessions_limited=sum(p.sessions_limited for p in parts),
        sessions_over_limit=sum(p.sessions_over_limit for p in parts),
        internet=InternetMinutes(
            known=sum(p.internet.known for p in parts),
            up=sum(p.internet.up for p in parts),
            degraded=sum(p.internet.degraded for p in parts),
            down=sum(p.internet.down for p in parts),
        ),
    )
