"""FleetState's metric families, and the collector giving them through prometheus_client.

/metrics writes the same families directly (fleetrender.py, measured by
bench/scrape.py); this collector is the reference it must match, and serves
the formats that need metric names escaped.

Only configured devices appear, so label values stay bounded; a device
removed from the configuration disappears at the next scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ocrfleet.clock import Clock
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind, MetricSpec
from ocrfleet.metrics.exposition import Family, clean_label_value
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.sessions import SESSION_DURATION_BUCKETS
from ocrfleet.state import DeviceView, FleetSnapshot, FleetState

log = logging.getLogger(__name__)

DEVICE_LABELS = ("site", "device", "kind")

# The core's families, in the order of a scrape. Both the collector and the
# direct renderer (fleetrender.py) take them from here, so they cannot differ.
UP = Family(
    "ocrfleet_device_up",
    "1 when the device is reachable and alive, else 0.",
    "gauge",
    DEVICE_LABELS,
)
STATE = Family(
    "ocrfleet_device_state",
    "The device's state (up, down, scheduled_off, unknown) and why; the value is always 1.",
    "gauge",
    (*DEVICE_LABELS, "state", "reason"),
)
INFO = Family(
    "ocrfleet_device_info",
    "Configured facts about a device; the value is always 1.",
    "gauge",
    (*DEVICE_LABELS, "model", "reservable"),
)
LAST_SEEN = Family(
    "ocrfleet_device_last_seen_timestamp_seconds",
    "Unix time of the last message or successful poll from the device.",
    "gauge",
    DEVICE_LABELS,
)
SINCE = Family(
    "ocrfleet_device_up_changed_timestamp_seconds",
    "Unix time at which ocrfleet_device_up last changed.",
    "gauge",
    DEVICE_LABELS,
)
SEAT_IN_USE = Family(
    "ocrfleet_seat_in_use",
    "1 while a visitor's session is open on the seat (a public PC or laptop), else 0.",
    "gauge",
    DEVICE_LABELS,
)
# The seat families' names before seats were generic; kept for one release.
DEPRECATED_PC_IN_USE = Family(
    "ocrfleet_pc_in_use",
    "Deprecated, use ocrfleet_seat_in_use (the same values); removed in the next release.",
    "gauge",
    DEVICE_LABELS,
)
SESSIONS = Family(
    "ocrfleet_sessions",
    "Visitor sessions begun on the device.",
    "counter",
    DEVICE_LABELS,
)
SITE_SEATS_IN_USE = Family(
    "ocrfleet_site_seats_in_use",
    "Seats (public PCs and laptops) of the site in use now.",
    "gauge",
    ("site",),
)
DEPRECATED_SITE_PCS_IN_USE = Family(
    "ocrfleet_site_pcs_in_use",
    "Deprecated, use ocrfleet_site_seats_in_use (the same values); removed in the next release.",
    "gauge",
    ("site",),
)
DURATIONS = Family(
    "ocrfleet_session_duration_seconds",
    "Length of finished visitor sessions.",
    "histogram",
    ("site", "kind"),
)


class FleetCollector(Collector):
    def __init__(
        self,
        state: Callable[[], FleetState],
        kinds: Mapping[str, DeviceKind],
        plugin_of_kind: Callable[[str], str],
        clock: Clock,
    ) -> None:
        self._state = state
        self._kinds = kinds
        self._plugin_of_kind = plugin_of_kind
        self._clock = clock
        self._log = RateLimitedLog(log, interval=60.0)

    def describe(self) -> Iterable[Metric]:
        # Families depend on the configured kinds; describing none keeps the
        # registry from calling collect() at registration time.
        return []

    def collect(self) -> Iterator[Metric]:
        snapshot = self._state().snapshot(self._clock.now())
        yield from self._core_families(snapshot)
        yield from self._kind_families(snapshot)

    def _core_families(self, snapshot: FleetSnapshot) -> Iterator[Metric]:
        families = (
            UP,
            INFO,
            LAST_SEEN,
            SINCE,
            SEAT_IN_USE,
            DEPRECATED_PC_IN_USE,
            SESSIONS,
            STATE,
            SITE_SEATS_IN_USE,
            DEPRECATED_SITE_PCS_IN_USE,
        )
        up, info, last_seen, since, in_use, old_in_use, sessions, state, site_in_use, old_site = (
            _metric_family(f) for f in families
        )
        per_site: dict[str, int] = {}
        for view in snapshot.devices:
            device = view.info
            labels = [device.site, device.id, device.kind]
            up.add_metric(labels, 1.0 if view.presence.up else 0.0)
            status = device_status(view, snapshot.taken_at, self._kinds.get(device.kind), self._log)
            # Cleaned as the direct rendering cleans them (metrics/exposition.py).
            reason, model = clean_label_value(status.reason), clean_label_value(device.model)
            state.add_metric([*labels, status.state.value, reason], 1.0)
            info.add_metric([*labels, model, "true" if device.reservable else "false"], 1.0)
            if view.last_seen is not None:
                last_seen.add_metric(labels, view.last_seen)
            if view.presence.since is not None:
                since.add_metric(labels, view.presence.since)
            kind = self._kinds.get(device.kind)
            if kind is not None and kind.is_seat:
                in_use.add_metric(labels, 1.0 if view.usage.in_use else 0.0)
                old_in_use.add_metric(labels, 1.0 if view.usage.in_use else 0.0)
                sessions.add_metric(labels, float(view.usage.sessions_total))
                per_site[device.site] = per_site.get(device.site, 0) + int(view.usage.in_use)
        for site, count in sorted(per_site.items()):
            site_in_use.add_metric([site], float(count))
            old_site.add_metric([site], float(count))
        durations = HistogramMetricFamily(DURATIONS.name, DURATIONS.help, labels=DURATIONS.labels)
        for (site, kind_name), histogram in sorted(snapshot.session_durations.items()):
            buckets = [
                (str(float(b)), float(c))
                for b, c in zip(SESSION_DURATION_BUCKETS, histogram.bucket_counts, strict=True)
            ]
            buckets.append(("+Inf", float(histogram.count)))
            durations.add_metric([site, kind_name], buckets, histogram.total)
        yield from (up, state, info, last_seen, since, in_use, old_in_use, sessions)
        yield from (site_in_use, old_site, durations)

    def _kind_families(self, snapshot: FleetSnapshot) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        by_kind: dict[str, list[DeviceView]] = {}
        for view in snapshot.devices:
            by_kind.setdefault(view.info.kind, []).append(view)
        for kind_name, views in sorted(by_kind.items()):
            kind = self._kinds.get(kind_name)
            if kind is None:
                continue
            for spec in kind.metric_specs:
                if spec.name not in families:
                    families[spec.name] = _family(spec)
            for view in views:
                labels = [view.info.site, view.info.id, view.info.kind]
                try:
                    samples = [(families[s.name], s) for s in kind.samples(view)]
                except Exception:
                    plugin = self._plugin_of_kind(kind_name)
                    self._log.error(
                        f"plugin:{plugin}",
                        "plugin %s failed to render metrics of %s; its samples are left out",
                        plugin,
                        view.info.key,
                        exc_info=True,
                    )
                    continue
                for family, sample in samples:
                    values = [*labels, *map(clean_label_value, sample.labels)]
                    family.add_metric(values, sample.value)  # type: ignore[attr-defined]
        yield from families.values()


def _family(spec: MetricSpec) -> Metric:
    return _metric_family(kind_family(spec))


def kind_family(spec: MetricSpec) -> Family:
    name = spec.name.removesuffix("_total") if spec.type == "counter" else spec.name
    return Family(name, spec.help, spec.type, (*DEVICE_LABELS, *spec.labels))


def _metric_family(family: Family) -> GaugeMetricFamily | CounterMetricFamily:
    if family.type == "counter":
        return CounterMetricFamily(family.name, family.help, labels=family.labels)
    return GaugeMetricFamily(family.name, family.help, labels=family.labels)
