"""What a month's report says, before any rendering; ratios are None when there is no base."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ocrfleet.history.days import Month
from ocrfleet.history.reader import AlertCount, MaintenanceDone, SiteMinutes
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
    notes: tuple[str, ...] = ()

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
    )
