"""The contract between the alert engine and a rule.

A rule looks at the fleet as it is now and says which problems exist, as
Findings. It does not decide when to notify: the engine (ocrfleet/alerts/
engine.py) applies the tolerance before firing, the hysteresis before
resolving, opening hours, silences, maintenance windows and routing. Rules
come from plugins (hook `ocrfleet_alert_rules`), the core's own included;
reminders are rules too, with severity "info" and the label type="reminder".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ocrfleet.config.durations import Duration
from ocrfleet.i18n.text import Words
from ocrfleet.kept import KeepsState

if TYPE_CHECKING:
    from ocrfleet.config.models import Config
    from ocrfleet.devices import DeviceInfo, DeviceKey
    from ocrfleet.devicestate import DeviceStatus
    from ocrfleet.internet.site import SiteInternet
    from ocrfleet.kinds import MetricSpec, Sample
    from ocrfleet.maintenance.ledger import LedgerView
    from ocrfleet.state import DeviceView, FleetSnapshot


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class RuleSettings(BaseModel):
    """`[alerting.rules.<name>]`: what every rule takes; rules subclass it for thresholds.

    A subclass sets its own defaults by redeclaring a field, e.g.
    `for_: Duration = Field(default=600.0, alias="for")`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    enabled: bool = True
    severity: Severity | None = Field(default=None, description="overrides the rule's own")
    # How long a problem must last before it fires (tolerance), and how long
    # it must be gone before it resolves (hysteresis).
    for_: Duration = Field(default=300.0, alias="for")
    resolve_after: Duration = 120.0
    # Re-notify a firing alert this often; None: the [alerting] default.
    repeat_interval: Duration | None = None
    # Notify while the site is closed too. Off: a problem found while the
    # site is closed waits for opening time, and nothing fires or resolves
    # meanwhile.
    outside_opening_hours: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or due reminder) that exists now.

    `subject` identifies it within its rule and must be stable from one
    evaluation to the next (e.g. "lib/printer-1/jammed"): the alert's key is
    "<rule>:<subject>". `labels` are what routes, silences and maintenance
    windows match on; give `site` (and `device`, `kind`) where they apply,
    and a `category` (paper, jam, toner, supplies, network, hardware,
    capacity, maintenance, ...) so duty routing can tell front desk from IT.
    """

    rule: str
    subject: str
    labels: Mapping[str, str]
    # Plain words for whoever acts on it, in the reader's language: a Text
    # from the plugin's catalog (ocrfleet/i18n/text.py), or fixed text.
    summary: Words
    description: Words = ""
    severity: Severity | None = None  # None: the rule's configured severity
    # The technical detail for IT (OID name, raw value): never in a subject,
    # never translated.
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}"

    @property
    def site(self) -> str | None:
        return self.labels.get("site")


@dataclass(frozen=True, slots=True)
class MaintenanceEvidence:
    """Something a rule saw that proves maintenance was done (e.g. a new cartridge).

    The engine logs it in the maintenance ledger once per `evidence_id`.
    """

    evidence_id: str
    device: DeviceKey
    task: str
    note: str
    at: float


@dataclass(frozen=True)
class RuleContext:
    """What a rule may read. Built once per evaluation; nothing in it changes."""

    now: float
    snapshot: FleetSnapshot
    config: Config
    devices: Mapping[DeviceKey, DeviceInfo]
    statuses: Mapping[DeviceKey, DeviceStatus]
    ledger: LedgerView
    # Per site: whether it is open now (opening hours, closures and holidays).
    site_open: Mapping[str, bool] = field(default_factory=dict)
    # Kinds whose devices are seats (public PCs, laptops): DeviceKind.is_seat.
    seat_kinds: frozenset[str] = frozenset()
    # Kinds whose devices get no monthly maintenance: DeviceKind.monthly_maintenance.
    unmaintained_kinds: frozenset[str] = frozenset()
    # Per site: its internet state now, from the checks inside it (API 1.4).
    internet: Mapping[str, SiteInternet] = field(default_factory=dict)

    def views(self, kind: str | None = None) -> Iterable[DeviceView]:
        for view in self.snapshot.devices:
            if kind is None or view.info.kind == kind:
                yield view


class AlertRule(KeepsState, ABC):
    """A rule provided by a plugin. One instance per daemon; it may keep state
    between evaluations (e.g. a trend), but must survive losing it at a restart.
    """

    name: ClassVar[str]
    # What people read for the rule (the monthly report's alert list), e.g.
    # _("Printer problems") from the plugin's catalog; empty: the name.
    title: ClassVar[Words] = ""
    description: ClassVar[str] = ""
    rule_type: ClassVar[Literal["alert", "reminder"]] = "alert"
    default_severity: ClassVar[Severity] = Severity.WARNING
    settings_model: ClassVar[type[RuleSettings]] = RuleSettings
    # Metrics the rule exports itself (e.g. a forecast), rendered at scrape time.
    metric_specs: ClassVar[tuple[MetricSpec, ...]] = ()

    @abstractmethod
    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        """The problems that exist now; called every evaluation interval."""

    def samples(self) -> Iterable[Sample]:
        """Samples for metric_specs; here a spec's `labels` name all its labels
        (site, device, ... included), in the order the samples give them."""
        return ()

    def restore_findings(self, findings: Sequence[Finding]) -> None:
        """Take back the findings of this rule the engine held when the daemon stopped.

        The engine saves its alerts with every evaluation, saved_state() only
        every few minutes: a rule whose memory decides what it reports (once
        per session) rebuilds that memory from here, so a crash cannot make it
        forget what it already told. Called once at start-up, after
        restore_state(), with the findings as they were last yielded.
        """
        return None
