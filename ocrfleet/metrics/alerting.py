"""Alerts as metrics: what fires now, and the rules' own figures (e.g. forecasts)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.rules import Severity
from ocrfleet.kinds import MetricSpec
from ocrfleet.metrics.exposition import Family, FamilyType, Row, SeriesText
from ocrfleet.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

# Labels of ocrfleet_alert_firing; bounded: rules times configured devices.
_ALERT_LABELS = ("alertname", "type", "severity", "site", "device", "category", "suppressed")
FIRING = Family(
    "ocrfleet_alert_firing",
    "1 for each alert firing now; suppressed=true while a silence or "
    "maintenance window holds its notifications back.",
    "gauge",
    _ALERT_LABELS,
)


class AlertingCollector(Collector):
    def __init__(self, engine: Callable[[], AlertEngine | None]) -> None:
        self._engine = engine
        self._log = RateLimitedLog(log, interval=300.0)
        # A series per firing alert and per rule figure: written as rows (exposition.py).
        self._firing = SeriesText(FIRING)
        self._rule_text: dict[MetricSpec, SeriesText] = {}

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
        each: list[Row] = []
        for record in firing:
            labels = record.labels
            values = (
                record.rule,
                labels.get("type", "alert"),
                record.severity,
                labels.get("site", ""),
                labels.get("device", ""),
                labels.get("category", ""),
                "true" if record.key in suppressed else "false",
            )
            each.append((values, 1.0))
        if firing:
            yield self._firing.family_of(each)  # an empty family would be a HELP line alone
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
                rows: list[Row] = [
                    (tuple(sample.labels), sample.value)
                    for sample in samples
                    if sample.name == spec.name
                ]
                if not rows:
                    continue
                arity = len(spec.labels)
                if all(len(values) == arity for values, _ in rows):
                    yield self._rule_series(spec).family_of(rows)
                else:
                    # prometheus_client pairs names with values as far as both go.
                    yield _rule_family(spec, rows)

    def _rule_series(self, spec: MetricSpec) -> SeriesText:
        series = self._rule_text.get(spec)
        if series is None:
            kind: FamilyType = "counter" if spec.type == "counter" else "gauge"
            name = spec.name.removesuffix("_total") if kind == "counter" else spec.name
            series = SeriesText(Family(name, spec.help, kind, tuple(spec.labels)))
            # Rules come and go only with a reload: a handful of specs.
            self._rule_text = {**self._rule_text, spec: series}
        return series


def _rule_family(spec: MetricSpec, rows: list[Row]) -> GaugeMetricFamily | CounterMetricFamily:
    family: GaugeMetricFamily | CounterMetricFamily
    if spec.type == "counter":
        name = spec.name.removesuffix("_total")
        family = CounterMetricFamily(name, spec.help, labels=spec.labels)
    else:
        family = GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
    for values, value in rows:
        family.add_metric(list(values), value)
    return family
