"""The guide's maintenance norms as reminders, and the due dates they rest on.

- Technical maintenance: about 1 hour per device per month
  (`monthly_maintenance`). Monthly maintenance is due `monthly_interval`
  after it was last logged. A device never maintained is due
  `monthly_interval` after the later of its purchase date and the day the
  daemon first heard from it: a fleet put under watch today gets a month to
  log its first rounds instead of a reminder for every device at once. A
  device with neither date (no purchase date, never seen) is not due.
- Renewal: devices are replaced every 5 years (`renewal_due`). The renewal
  date is `renewal_years` after the purchase date, or after the last
  "renewal" entry in the ledger when that is later (a device replaced under
  the same id); the reminder starts `renewal_notice` before it. Devices
  without a purchase date never get one.

The CLI and the metrics use the same functions, so they always agree with
the reminders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from pydantic import Field

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.config.alerting import MaintenanceConfig
from ocrfleet.config.durations import Duration
from ocrfleet.devices import DeviceInfo
from ocrfleet.i18n.text import Catalog, Day, Number
from ocrfleet.kinds import DeviceKind
from ocrfleet.maintenance.ledger import MONTHLY_TASK, RENEWAL_TASK, LedgerView

# A reminder is no emergency: once a week is enough to be remembered.
REMINDER_REPEAT = 7 * 86400.0
_DAYS_PER_YEAR = 365.2425


def device_zone(info: DeviceInfo) -> tzinfo:
    """The time zone dates of the device are read in: its site's."""
    return ZoneInfo(info.schedule.timezone) if info.schedule is not None else UTC


def start_of_day(day: date, zone: tzinfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def local_date(info: DeviceInfo, when: float) -> date:
    return datetime.fromtimestamp(when, device_zone(info)).date()


def add_years(day: date, years: float) -> date:
    """Whole years by the calendar (29 February becomes 28), the rest in days."""
    whole = int(years)
    try:
        moved = day.replace(year=day.year + whole)
    except ValueError:
        moved = day.replace(year=day.year + whole, day=28)
    return moved + timedelta(days=round((years - whole) * _DAYS_PER_YEAR))


def purchased_at(info: DeviceInfo) -> float | None:
    if info.purchase_date is None:
        return None
    return start_of_day(info.purchase_date, device_zone(info))


@dataclass(frozen=True, slots=True)
class Due:
    """When a task falls due for a device, and whether its reminder is on now."""

    task: str
    last_done: float | None
    # None: there is no date to count from, so it is never due.
    due_at: float | None
    # When the reminder starts; before due_at for a renewal (its notice).
    remind_from: float | None

    def is_due(self, now: float) -> bool:
        return self.remind_from is not None and now >= self.remind_from


def unmaintained_kinds(kinds: Mapping[str, DeviceKind]) -> frozenset[str]:
    """Kinds that opted out of monthly maintenance (DeviceKind.monthly_maintenance)."""
    return frozenset(name for name, kind in kinds.items() if not kind.monthly_maintenance)


def monthly_due(info: DeviceInfo, ledger: LedgerView, settings: MaintenanceConfig) -> Due:
    last = ledger.last_done(info.key, MONTHLY_TASK)
    if last is not None:
        since: float | None = last
    else:
        starts = [
            t for t in (purchased_at(info), ledger.known_since.get(info.key)) if t is not None
        ]
        since = max(starts, default=None)
    due_at = since + settings.monthly_interval if since is not None else None
    return Due(MONTHLY_TASK, last, due_at, due_at)


def renewal_due(info: DeviceInfo, ledger: LedgerView, settings: MaintenanceConfig) -> Due | None:
    """None for a device without a purchase date: its age is unknown."""
    if info.purchase_date is None:
        return None
    zone = device_zone(info)
    start = start_of_day(info.purchase_date, zone)
    last = ledger.last_done(info.key, RENEWAL_TASK)
    if last is not None and last > start:
        start = last
    start_date = datetime.fromtimestamp(start, zone).date()
    due_at = start_of_day(add_years(start_date, settings.renewal_years), zone)
    return Due(RENEWAL_TASK, last, due_at, due_at - settings.renewal_notice)


def _labels(info: DeviceInfo, task: str) -> dict[str, str]:
    return {
        "site": info.site,
        "device": info.id,
        "kind": info.kind,
        "type": "reminder",
        "category": "maintenance",
        "task": task,
    }


_ = Catalog("ocrfleet")


class MonthlyMaintenanceSettings(RuleSettings):
    for_: Duration = Field(default=0.0, alias="for")
    resolve_after: Duration = 0.0
    repeat_interval: Duration | None = REMINDER_REPEAT


class RenewalSettings(RuleSettings):
    for_: Duration = Field(default=0.0, alias="for")
    resolve_after: Duration = 0.0
    repeat_interval: Duration | None = REMINDER_REPEAT


class MonthlyMaintenanceRule(AlertRule):
    name = "monthly_maintenance"
    title = _("Monthly maintenance due")
    description = "a device is due for its monthly technical maintenance (about 1 hour a month)"
    rule_type = "reminder"
    default_severity = Severity.INFO
    settings_model = MonthlyMaintenanceSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        norms = context.config.maintenance
        for key in sorted(context.devices):
            info = context.devices[key]
            if info.kind in context.unmaintained_kinds:
                continue
            due = monthly_due(info, context.ledger, norms)
            if not due.is_due(context.now):
                continue
            summary = (
                _(
                    "Monthly maintenance of {device} is due (last done {day})",
                    device=info.id,
                    day=Day(local_date(info, due.last_done)),
                )
                if due.last_done is not None
                else _("Monthly maintenance of {device} is due (never done)", device=info.id)
            )
            yield Finding(
                rule=self.name,
                subject=f"{key}/{MONTHLY_TASK}",
                labels=_labels(info, MONTHLY_TASK),
                summary=summary,
                description=_(
                    "The guide asks for about {minutes} minutes of technical maintenance per "
                    "device each month: updates, cleaning, a check of cables and peripherals. "
                    "Log it when done, so this reminder stops.",
                    minutes=Number(norms.monthly_minutes),
                ),
                detail=f"{info.kind} {key}; log with: ocrfleet maintenance done {key}",
            )


class RenewalDueRule(AlertRule):
    name = "renewal_due"
    title = _("Renewal due")
    description = "a device reaches the age at which it is replaced (every 5 years)"
    rule_type = "reminder"
    default_severity = Severity.INFO
    settings_model = RenewalSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        norms = context.config.maintenance
        for key in sorted(context.devices):
            info = context.devices[key]
            due = renewal_due(info, context.ledger, norms)
            if due is None or due.due_at is None or not due.is_due(context.now):
                continue
            when = Day(local_date(info, due.due_at))
            summary = (
                _("{device} was due for renewal on {day}", device=info.id, day=when)
                if context.now >= due.due_at
                else _("{device} is due for renewal on {day}", device=info.id, day=when)
            )
            yield Finding(
                rule=self.name,
                subject=f"{key}/{RENEWAL_TASK}",
                labels=_labels(info, RENEWAL_TASK),
                summary=summary,
                description=_(
                    "The guide asks to replace public devices every {years} years; this one "
                    "was bought on {bought}. Plan its replacement in the budget.",
                    years=Number(norms.renewal_years, 1),
                    bought=Day(info.purchase_date) if info.purchase_date else "?",
                ),
                detail=(
                    f"{info.kind} {key} ({info.model or 'model not configured'}); once "
                    f"replaced: ocrfleet maintenance done {key} --task {RENEWAL_TASK}, "
                    "or update its purchase_date"
                ),
            )
