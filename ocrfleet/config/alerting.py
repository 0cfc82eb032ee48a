"""`[alerting]`, `[outbox]` and `[maintenance]`: who hears about what, and how reliably."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ocrfleet.config.durations import Duration
from ocrfleet.config.hours import parse_time_range
from ocrfleet.i18n.catalogs import Language

# The channel every daemon has: notifications written to its own log.
LOG_CHANNEL = "log"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChannelConfig(BaseModel):
    """`[alerting.channels.<name>]`: `type` names a channel type; the rest are its options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


LabelValues = str | list[str]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RouteConfig(_Strict):
    """Alerts whose labels match go to `channels`; the first matching route wins
    unless it says `continue = true`."""

    match: dict[str, LabelValues] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    channels: list[str] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")
    # Labels whose values make a group: one notification per group and change.
    group_by: list[str] = Field(default_factory=lambda: ["site"])
    # The language of these notifications; None: the site's (or municipality's).
    language: Language | None = None

    @field_validator("match_re")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        for label, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{label}: not a regular expression: {exc}") from None
        return value


class MaintenanceWindowConfig(_Strict):
    """A recurring window in which matching alerts do not notify, e.g. weekly updates."""

    name: str = ""
    sites: list[str] = Field(default_factory=list, description="empty: every site")
    devices: list[str] = Field(default_factory=list, description='"site/device"; empty: all')
    days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS))
    hours: str = Field(description='"HH:MM-HH:MM" in the site\'s time zone; may cross midnight')
    match: dict[str, LabelValues] = Field(default_factory=dict)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_time_range(value, overnight=True)
        return value


class AlertingConfig(_Strict):
    # Rules are evaluated at least this often, and also soon after a poll, an
    # availability message or a missed heartbeat, and when a tolerance ends.
    evaluation_interval: Duration = Field(default=15.0, gt=0)
    # ... but never more often than this, however busy the fleet.
    min_evaluation_gap: Duration = Field(default=1.0, ge=0)
    # After a restart the daemon knows nothing of its devices until they
    # report or are polled: alerts it had fired do not resolve for this long
    # unless found again, so a restart does not announce "resolved" and then
    # "firing" again for a problem that never went away.
    startup_grace: Duration = Field(default=300.0, ge=0)
    repeat_interval: Duration = Field(default=4 * 3600.0, gt=0)
    # Where alerts go that no route matches.
    default_channels: list[str] = Field(default_factory=lambda: [LOG_CHANNEL], min_length=1)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    # `[alerting.rules.<rule>]`, checked against each rule's own settings.
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The channels, sites, devices, kinds and rules named above are checked
    # against what exists by ocrfleet.config.references.
    maintenance_windows: list[MaintenanceWindowConfig] = Field(default_factory=list)


class OutboxConfig(_Strict):
    """Delivery: every notification is stored first, then retried until delivered."""

    retry_initial: Duration = Field(default=5.0, gt=0)
    retry_max: Duration = Field(default=600.0, gt=0)
    # A notification not delivered after this long is given up ("expired").
    give_up_after: Duration = Field(default=7 * 86400.0, gt=0)
    delivery_timeout: Duration = Field(default=30.0, gt=0)
    # Delivered notifications are kept this long for inspection, then deleted.
    keep_delivered: Duration = Field(default=30 * 86400.0, gt=0)

    @model_validator(mode="after")
    def _order(self) -> OutboxConfig:
        if self.retry_max < self.retry_initial:
            raise ValueError("retry_max must not be below retry_initial")
        return self


class MaintenanceConfig(_Strict):
    """The guide's maintenance norms, as reminders (see docs/alerts.md)."""

    # Technical maintenance: about 1 hour per device per month.
    monthly_minutes: int = Field(default=60, ge=1)
    monthly_interval: Duration = Field(default=30 * 86400.0, gt=0)
    # Renewal: devices are replaced every 5 years; remind this long ahead.
    renewal_years: float = Field(default=5.0, gt=0)
    renewal_notice: Duration = Field(default=90 * 86400.0, ge=0)
    # Consumables: remind when a supply is forecast empty within this many
    # opening days.
    forecast_notice_days: float = Field(default=10.0, gt=0)
