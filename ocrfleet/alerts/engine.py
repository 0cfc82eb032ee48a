"""The alert lifecycle: from the problems rules find to the notifications sent.

Each evaluation (every `alerting.evaluation_interval`):

1. every enabled rule says what is wrong now (Findings);
2. a new finding is *pending*; it *fires* once it has lasted the rule's
   tolerance (`for`); a firing alert *resolves* once it has been gone for
   `resolve_after` (hysteresis), and a pending one that goes away is
   forgotten without a word;
3. while a finding's site is closed, nothing of a rule that does not say
   `outside_opening_hours` starts, fires, repeats or resolves: a printer
   jammed at closing time is reported when the site opens, if it still is;
4. firing alerts notify once, then again every repeat interval; silences and
   maintenance windows hold notifications back without stopping the alert;
   an acknowledged alert (ocrfleet/alerts/acks.py) is not repeated, but its
   resolution is notified;
5. notifications are routed by labels, grouped (by site, by default) and
   written to the outbox in the same SQLite transaction as the alert state.

Alert state survives restarts, so a restart does not re-announce what was
already announced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ocrfleet.alerts.acks import Acknowledgement
from ocrfleet.alerts.routing import Router
from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
)
from ocrfleet.alerts.store import AlertEvent, AlertRecord, AlertStore
from ocrfleet.alerts.suppress import Suppressor
from ocrfleet.config.alerting import AlertingConfig, RouteConfig
from ocrfleet.i18n.catalogs import Language
from ocrfleet.i18n.readers import Readers, english_utc
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.notify.notification import AlertItem, Notification, Status, shared_site
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.store.database import StoreError

log = logging.getLogger(__name__)

# Evaluations run a few milliseconds after the moment they were due; without
# this slack a tolerance of exactly N intervals would often take N + 1.
SCHEDULING_SLACK = 0.05


@dataclass
class EngineStats:
    evaluations: int = 0
    rule_errors: dict[str, int] = field(default_factory=dict)
    notifications_queued: int = 0
    store_errors: int = 0


@dataclass(frozen=True, slots=True)
class _Transition:
    record: AlertRecord
    status: Status
    repeat: bool
    at: float
    acknowledgement: Acknowledgement | None = None


class AlertEngine:
    def __init__(
        self,
        rules: Mapping[str, AlertRule],
        settings: Mapping[str, RuleSettings],
        alerting: AlertingConfig,
        store: AlertStore,
        suppressors: Sequence[Suppressor] = (),
        *,
        rule_owner: Callable[[str], str] = lambda rule: "?",
        on_enqueued: Callable[[], None] = lambda: None,
        record_evidence: Callable[[str, MaintenanceEvidence], None] = lambda rule, evidence: None,
        readers: Readers | None = None,
        compose: Callable[[Notification, Speaker], Notification] = lambda n, speaker: n,
        acknowledgements: Callable[[], Mapping[str, Acknowledgement]] = lambda: {},
    ) -> None:
        self._rules = dict(rules)
        self._store = store
        self._suppressors = list(suppressors)
        self._rule_owner = rule_owner
        self._on_enqueued = on_enqueued
        self._record_evidence = record_evidence
        self._readers = readers or english_utc()
        self._compose = compose
        self._read_acknowledgements = acknowledgements
        # The last mapping read: kept when a read fails, as a busy store for
        # a moment must not restart the reminders of alerts someone handles.
        self._acknowledgements_read: Mapping[str, Acknowledgement] = {}
        self._log = RateLimitedLog(log, interval=300.0)
        self.stats = EngineStats()
        self._records: dict[str, AlertRecord] = store.load()
        # Alerts from before a restart, not found again yet (startup_grace).
        self._carried: set[str] = set(self._records)
        self._first_evaluation: float | None = None
        self.next_due: float | None = None
        # Firing alerts whose notifications a silence or window holds back.
        self.suppressed: dict[str, str] = {}
        # The acknowledgements of the alerts held now (their current
        # episode), as read at the last evaluation: for metrics and pages.
        self.acknowledged: dict[str, Acknowledgement] = {}
        self.reconfigure(settings, alerting)

    def reconfigure(
        self,
        settings: Mapping[str, RuleSettings],
        alerting: AlertingConfig,
        suppressors: Sequence[Suppressor] | None = None,
        readers: Readers | None = None,
    ) -> None:
        if suppressors is not None:
            self._suppressors = list(suppressors)
        if readers is not None:
            self._readers = readers
        self._settings = {
            name: settings.get(name) or rule.settings_model() for name, rule in self._rules.items()
        }
        self._alerting = alerting
        self._router = Router(alerting.routes, alerting.default_channels)
        self._route_keys = [route_key(route) for route in alerting.routes]

    @property
    def records(self) -> Mapping[str, AlertRecord]:
        return self._records

    @property
    def rules(self) -> Mapping[str, AlertRule]:
        return self._rules

    # -- one evaluation -----------------------------------------------------

    def evaluate(self, context: RuleContext) -> list[Notification]:
        """Run every rule once; returns the notifications it queued."""
        now = context.now
        if self._first_evaluation is None:
            self._first_evaluation = now
        in_grace = now < self._first_evaluation + self._alerting.startup_grace
        acknowledgements = self._acknowledgements()
        found, failed = self._run_rules(context)
        self._carried.difference_update(found)
        changed: dict[str, AlertRecord] = {}
        removed: list[str] = []
        events: list[AlertEvent] = []
        transitions: list[_Transition] = []

        for key, (finding, rule, settings) in found.items():
            quiet = self._quiet(finding.labels, settings, context)
            record = self._records.get(key)
            if record is None:
                if quiet:
                    continue
                record = self._new_record(key, finding, rule, settings, now)
                self._records[key] = record
            else:
                self._refresh(record, finding, rule, settings, now)
            changed[key] = record
            if (
                record.state == "pending"
                and not quiet
                and now - record.active_since + SCHEDULING_SLACK >= settings.for_
            ):
                record.state = "firing"
                record.firing_since = now
                events.append(_event(record, "firing", now))

        for key, record in list(self._records.items()):
            if key in found or record.rule in failed:
                continue
            if key in self._carried and in_grace:
                continue
            rule_settings = self._settings.get(record.rule)
            gone = rule_settings is None or not rule_settings.enabled
            if not gone:
                assert rule_settings is not None
                if self._quiet(record.labels, rule_settings, context):
                    continue
                if (
                    record.state == "firing"
                    and now - record.last_active + SCHEDULING_SLACK < rule_settings.resolve_after
                ):
                    continue
            del self._records[key]
            changed.pop(key, None)
            removed.append(key)
            if record.state == "firing":
                events.append(_event(record, "resolved", now))
                if record.last_notified is not None:
                    ack = _episode(acknowledgements, record)
                    transitions.append(_Transition(record, "resolved", False, now, ack))

        # Built aside and swapped in whole: pages and scrapes on other
        # threads read them and must never see them half filled.
        suppressed: dict[str, str] = {}
        acknowledged: dict[str, Acknowledgement] = {}
        for key, record in self._records.items():
            ack = _episode(acknowledgements, record)
            if ack is not None:
                acknowledged[key] = ack
            if record.state != "firing":
                continue
            settings = self._settings[record.rule]
            if self._quiet(record.labels, settings, context):
                continue
            reason = self._suppressed_by(record.labels, now)
            if reason is not None:
                suppressed[key] = reason
                continue
            every = settings.repeat_interval or self._alerting.repeat_interval
            if record.last_notified is None:
                # Acknowledged before anyone was told (while silenced): the
                # others on the channel still hear of it, once.
                transitions.append(_Transition(record, "firing", False, now, ack))
            elif ack is not None:
                continue  # someone is on it: no reminders this episode
            elif now - record.last_notified + SCHEDULING_SLACK >= every:
                transitions.append(_Transition(record, "firing", True, now))
            else:
                continue
            record.last_notified = now
            changed[key] = record
        self.suppressed = suppressed
        self.acknowledged = acknowledged

        notifications = self._notifications(transitions, now)
        self.stats.evaluations += 1
        self.next_due = self._next_due(now)
        if not (changed or removed or events or notifications):
            return []
        try:
            self._store.commit(changed.values(), removed, events, notifications, now)
        except StoreError as exc:
            # Memory must not run ahead of the database: go back to what it
            # holds, so the next evaluation makes the same changes again.
            self.stats.store_errors += 1
            self._log.error("store", "alert evaluation not saved, will retry: %s", exc)
            try:
                self._records = self._store.load()
            except Exception:
                log.exception("cannot reload alert state")
            return []
        if notifications:
            self.stats.notifications_queued += len(notifications)
            self._on_enqueued()
        return notifications

    def _next_due(self, now: float) -> float | None:
        """The earliest moment an alert may change without any new finding.

        A pending alert fires when its tolerance has passed, a firing one
        that was not found resolves when its hysteresis has, and a notified
        one that nobody acknowledged repeats: the service evaluates again
        then instead of waiting for the next interval.
        """
        due: list[float] = []
        for record in self._records.values():
            settings = self._settings.get(record.rule)
            if settings is None:
                continue
            if record.state == "pending":
                due.append(record.active_since + settings.for_)
                continue
            if record.last_active < now:
                resolves = record.last_active + settings.resolve_after
                if record.key in self._carried and self._first_evaluation is not None:
                    grace_ends = self._first_evaluation + self._alerting.startup_grace
                    resolves = max(resolves, grace_ends)
                due.append(resolves)
            if record.last_notified is not None and record.key not in self.acknowledged:
                every = settings.repeat_interval or self._alerting.repeat_interval
                due.append(record.last_notified + every)
        return min(due) if due else None

    def _acknowledgements(self) -> Mapping[str, Acknowledgement]:
        """Read once per evaluation; on failure, the mapping read before."""
        try:
            self._acknowledgements_read = dict(self._read_acknowledgements())
        except Exception as exc:
            self._log.warning(
                "acknowledgements",
                "cannot read acknowledgements: %s; keeping the %d read before",
                exc,
                len(self._acknowledgements_read),
            )
        return self._acknowledgements_read

    def _run_rules(
        self, context: RuleContext
    ) -> tuple[dict[str, tuple[Finding, AlertRule, RuleSettings]], set[str]]:
        found: dict[str, tuple[Finding, AlertRule, RuleSettings]] = {}
        failed: set[str] = set()
        for name, rule in self._rules.items():
            settings = self._settings[name]
            if not settings.enabled:
                continue
            try:
                results = list(rule.evaluate(context, settings))
            except Exception:
                # A rule that fails keeps its alerts as they are: a bug must
                # not look like every problem it watches being fixed.
                failed.add(name)
                self.stats.rule_errors[name] = self.stats.rule_errors.get(name, 0) + 1
                self._log.error(
                    f"rule:{name}",
                    "alert rule %s (plugin %s) failed",
                    name,
                    self._rule_owner(name),
                    exc_info=True,
                )
                continue
            for result in results:
                if isinstance(result, MaintenanceEvidence):
                    self._evidence(name, result)
                else:
                    found[f"{name}:{result.subject}"] = (result, rule, settings)
        return found, failed

    def _evidence(self, rule: str, evidence: MaintenanceEvidence) -> None:
        try:
            self._record_evidence(rule, evidence)
        except Exception:
            self._log.error(
                f"evidence:{rule}", "maintenance evidence from %s not logged", rule, exc_info=True
            )

    # -- helpers ------------------------------------------------------------

    def _quiet(
        self, labels: Mapping[str, str], settings: RuleSettings, context: RuleContext
    ) -> bool:
        if settings.outside_opening_hours:
            return False
        site = labels.get("site")
        return site is not None and not context.site_open.get(site, True)

    def _suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
        for suppressor in self._suppressors:
            try:
                reason = suppressor.suppressed_by(labels, now)
            except Exception:
                self._log.error("suppressor", "a silence or window check failed", exc_info=True)
                continue
            if reason is not None:
                return reason
        return None

    def _labels(self, finding: Finding, rule: AlertRule, severity: str) -> dict[str, str]:
        labels = {k: v for k, v in finding.labels.items() if v != ""}
        labels["alertname"] = rule.name
        labels["severity"] = severity
        labels["type"] = rule.rule_type
        return labels

    def _severity(self, finding: Finding, rule: AlertRule, settings: RuleSettings) -> str:
        return str(finding.severity or settings.severity or rule.default_severity)

    def _new_record(
        self, key: str, finding: Finding, rule: AlertRule, settings: RuleSettings, now: float
    ) -> AlertRecord:
        severity = self._severity(finding, rule, settings)
        return AlertRecord(
            key=key,
            rule=rule.name,
            labels=self._labels(finding, rule, severity),
            severity=severity,
            summary=finding.summary,
            description=finding.description,
            state="pending",
            active_since=now,
            firing_since=None,
            last_active=now,
            last_notified=None,
            detail=finding.detail,
        )

    def _refresh(
        self,
        record: AlertRecord,
        finding: Finding,
        rule: AlertRule,
        settings: RuleSettings,
        now: float,
    ) -> None:
        record.severity = self._severity(finding, rule, settings)
        record.labels = self._labels(finding, rule, record.severity)
        record.summary = finding.summary
        record.description = finding.description
        record.detail = finding.detail
        record.last_active = now

    def _notifications(self, transitions: Iterable[_Transition], now: float) -> list[Notification]:
        groups: dict[_GroupKey, list[_Transition]] = {}
        group_labels: dict[_GroupKey, dict[str, str]] = {}
        languages: dict[_GroupKey, Language | None] = {}
        for transition in transitions:
            record = transition.record
            seen_channels: set[str] = set()
            for match in self._router.matches(record.labels):
                values = tuple(record.labels.get(name, "") for name in match.group_by)
                for channel in match.channels:
                    if channel in seen_channels:
                        continue
                    seen_channels.add(channel)
                    rule_type = record.labels.get("type", "alert")
                    group = (match.route, values, rule_type, transition.repeat, channel)
                    groups.setdefault(group, []).append(transition)
                    languages[group] = match.language
                    group_labels[group] = {
                        name: value
                        for name, value in zip(match.group_by, values, strict=True)
                        if value
                    }
        found = []
        for group, members in groups.items():
            route, values, rule_type, repeat, channel = group
            speaker = self._readers.speaker(
                site=shared_site(group_labels[group], (t.record.labels for t in members)),
                language=languages[group],
            )
            items = sorted(
                (_item(t.record, t.status, t.at, speaker, t.acknowledgement) for t in members),
                key=lambda i: (i.status != "firing", i.key),
            )
            # The id hashes the route's index, the values and the type as it
            # always did: ids stay what they were, and apart for two routes
            # with the same matchers, whose group keys are the same.
            identity = json.dumps(
                [json.dumps([route, values, rule_type]), repeat, now if repeat else None]
                + [[i.key, i.status, i.starts_at, i.ends_at] for i in items]
            )
            group_key = self._group_key(route, group_labels[group], rule_type)
            notification = Notification(
                id=hashlib.sha256(identity.encode()).hexdigest()[:32],
                channel=channel,
                group_key=group_key,
                group_labels=group_labels[group],
                type="reminder" if rule_type == "reminder" else "alert",
                status="firing" if any(i.status == "firing" for i in items) else "resolved",
                created_at=now,
                items=tuple(items),
                repeat=repeat,
                language=speaker.language,
                timezone=speaker.zone.key,
            )
            found.append(self._compose(notification, speaker))
        return found

    def _group_key(self, route: int, labels: Mapping[str, str], rule_type: str) -> str:
        """Alertmanager's groupKey: `<route key>:<group labels>`, e.g. `{}:{site="lib"}`.

        Reminders travel apart from alerts of the same group; a receiver
        that keys threads or deduplication on groupKey must see that, so a
        reminder's key says `type="reminder"` (unless grouped by type
        already). An alert's key has no type: it is what Alertmanager
        itself would send. groupLabels stay the configured ones.
        """
        shown = dict(labels)
        if rule_type == "reminder":
            shown.setdefault("type", rule_type)
        where = "{}" if route < 0 else f"{{}}/{self._route_keys[route]}"
        return f"{where}:{label_set(shown)}"


_GroupKey = tuple[int, tuple[str, ...], str, bool, str]


def route_key(route: RouteConfig) -> str:
    """A route's matchers as Alertmanager writes them: `{category=~"jam|toner",site="lib"}`.

    A list of values is "one of them": a regex of the values, escaped.
    """
    matchers: list[tuple[str, str, str]] = []
    for name, wanted in route.match.items():
        if isinstance(wanted, str):
            matchers.append((name, wanted, "="))
        else:
            matchers.append((name, "|".join(re.escape(value) for value in wanted), "=~"))
    matchers += [(name, pattern, "=~") for name, pattern in route.match_re.items()]
    # Sorted as Alertmanager sorts a route's matchers: name, value, then type.
    parts = [f"{name}{op}{_quoted(value)}" for name, value, op in sorted(matchers)]
    return "{" + ",".join(parts) + "}"


def label_set(labels: Mapping[str, str]) -> str:
    """Labels as Prometheus writes a label set: `{device="pc-01", site="lib"}`."""
    return "{" + ", ".join(f"{name}={_quoted(labels[name])}" for name in sorted(labels)) + "}"


def _quoted(value: str) -> str:
    # The escapes of a label value in Prometheus' text format.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _episode(
    acknowledgements: Mapping[str, Acknowledgement], record: AlertRecord
) -> Acknowledgement | None:
    """The acknowledgement of the record's current episode, if any."""
    ack = acknowledgements.get(record.key)
    return ack if ack is not None and ack.active_since == record.active_since else None


def _item(
    record: AlertRecord,
    status: Status,
    at: float,
    speaker: Speaker,
    ack: Acknowledgement | None = None,
) -> AlertItem:
    return AlertItem(
        key=record.key,
        fingerprint=hashlib.sha256(record.key.encode()).hexdigest()[:16],
        rule=record.rule,
        status=status,
        severity=record.severity,
        labels=dict(record.labels),
        summary=speaker.say(record.summary),
        description=speaker.say(record.description),
        starts_at=record.active_since,
        ends_at=at if status == "resolved" else None,
        detail=record.detail,
        acknowledged_by=ack.by if ack is not None else "",
        acknowledged_at=ack.at if ack is not None else None,
        acknowledged_comment=ack.comment if ack is not None else "",
    )


def _event(record: AlertRecord, status: str, at: float) -> AlertEvent:
    return AlertEvent(
        key=record.key,
        rule=record.rule,
        site=record.labels.get("site"),
        device=record.labels.get("device"),
        severity=record.severity,
        status=status,
        at=at,
    )
