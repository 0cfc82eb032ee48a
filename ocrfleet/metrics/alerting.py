"""Alerts as metrics: what fires now, and the rules' own figures (e.g. forecasts)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.rules import Severity
from ocrfleet.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

# Labels of ocrfleet_alert_firing; bounded: rules times configured devices.
_ALERT_LABELS = ("alertname", "type", "severity", "site", "device", "category", "suppressed")


class AlertingCollector(Collector):
    def __init__(self, engine: Callable[[], AlertEngine | None]) -> None:
        self._engine = engine
        self._log = RateLimitedLog(log, interval=300.0)

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        engine = self._engine()
        if engine is None:
            return
        records = list(engine.records.values())
        suppressed = dict(engine.suppressed)
        firing = [r for r in records if r.state == "firing"]
        by_severity = GaugeMetricFamily(
            "ocrfleet_alerts_firing",
            "Alerts firing now (reminders included, as severity info).",
            labels=("severity",),
        )
        for severity in Severity:
            count = sum(1 for r in firing if r.severity == severity.value)
            by_severity.add_metric([severity.value], float(count))
        yield by_severity
        each = GaugeMetricFamily(
            "ocrfleet_alert_firing",
            "1 for each alert firing now; suppressed=true while a silence or "
            "maintenance window holds its notifications back.",
            labels=_ALERT_LABELS,
        )
        for record in firing:
            labels = record.labels
            each.add_metric(
                [
                    record.rule,
                    labels.get("type", "alert"),
                    record.severity,
                    labels.get("site", ""),
                    labels.get("device", ""),
                    labels.get("category", ""),
                    "true" if record.key in suppressed else "false",
                ],
                1.0,
            )
        if firing:
            yield each  # an empty family would be a HELP line without samples
        acknowledged = dict(engine.acknowledged)
        by_acknowledged = GaugeMetricFamily(
            "ocrfleet_alerts_acknowledged",
            "Firing alerts someone acknowledged (no reminders until they resolve).",
            labels=("severity",),
        )
        for severity in Severity:
            count = sum(1 for r in firing if r.severity == severity.value and r.key in acknowledged)
            by_acknowledged.add_metric([severity.value], float(count))
        yield by_acknowledged
        pending = GaugeMetricFamily(
            "ocrfleet_alerts_pending",
            "Problems found but not yet lasting their rule's tolerance.",
        )
        pending.add_metric([], float(sum(1 for r in records if r.state == "pending")))
        yield pending
        stats = engine.stats
        yield CounterMetricFamily(
            "ocrfleet_alert_evaluations",
            "Evaluations of the alert rules.",
            value=float(stats.evaluations),
        )
        errors = CounterMetricFamily(
            "ocrfleet_alert_rule_errors",
            "Evaluations in which a rule raised an error, by rule.",
            labels=("rule",),
        )
        for rule in sorted(engine.rules):
            errors.add_metric([rule], float(stats.rule_errors.get(rule, 0)))
        yield errors
        yield from self._rule_metrics(engine)

    def _rule_metrics(self, engine: AlertEngine) -> Iterator[Metric]:
        for name, rule in sorted(engine.rules.items()):
            if not rule.metric_specs:
                continue
            try:
                samples = list(rule.samples())
            except Exception:
                self._log.error(
                    f"rule:{name}", "rule %s failed to give metrics", name, exc_info=True
                )
                continue
            for spec in rule.metric_specs:
                family: GaugeMetricFamily | CounterMetricFamily
                if spec.type == "counter":
                    family = CounterMetricFamily(
                        spec.name.removesuffix("_total"), spec.help, labels=spec.labels
                    )
                else:
                    family = GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
                for sample in samples:
                    if sample.name == spec.name:
                        family.add_metric(list(sample.labels), sample.value)
                if family.samples:
                    yield family
