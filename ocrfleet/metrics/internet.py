"""Each site's internet state, and the daemon's own check of it.

`ocrfleet_site_internet_*` per site; `ocrfleet_internet_probe_*` for the
sites the daemon's own check ([internet.probe]) runs in.

The state is judged at scrape time from the devices' last checks
(ocrfleet/internet/judge.py), as the rules judge it at evaluation time,
once per scrape for all collectors (ocrfleet/metrics/fleetview.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.connectivity import InternetCheck
from ocrfleet.internet.site import InternetState
from ocrfleet.metrics.fleetview import FleetView


class InternetCollector(Collector):
    def __init__(
        self,
        view: Callable[[], FleetView],
        daemon_checks: Callable[[], Mapping[str, InternetCheck]],
    ) -> None:
        # The scrape's one view (ocrfleet/metrics/fleetview.py), judged once.
        self._view = view
        self._daemon_checks = daemon_checks

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        judged = self._view().internet
        up = GaugeMetricFamily(
            "ocrfleet_site_internet_up",
            "1 while the site's internet is up (or degraded), 0 while down: every fresh check "
            "from inside the site failed. Absent while unknown (no fresh check).",
            labels=("site",),
        )
        state = GaugeMetricFamily(
            "ocrfleet_site_internet_state",
            "The site's internet state, one-hot: up, degraded (slow), down or unknown.",
            labels=("site", "state"),
        )
        latency = GaugeMetricFamily(
            "ocrfleet_site_internet_latency_seconds",
            "Median seconds the site's successful internet checks took (name look-up, "
            "connection, TLS, answer).",
            labels=("site",),
        )
        checks = GaugeMetricFamily(
            "ocrfleet_site_internet_checks",
            "Fresh internet checks counted for the site: its devices that are up, and the "
            "daemon's own check when it runs there.",
            labels=("site",),
        )
        failed = GaugeMetricFamily(
            "ocrfleet_site_internet_checks_failed",
            "Of ocrfleet_site_internet_checks, those that failed.",
            labels=("site",),
        )
        for site, found in judged.items():
            reachable = found.reachable
            if reachable is not None:
                up.add_metric([site], 1.0 if reachable else 0.0)
            for candidate in InternetState:
                state.add_metric([site, candidate.value], 1.0 if found.state is candidate else 0.0)
            if found.latency is not None:
                latency.add_metric([site], found.latency)
            checks.add_metric([site], float(found.checks))
            failed.add_metric([site], float(found.failed))
        for family in (up, state, latency, checks, failed):
            if family.samples:
                yield family
        probe_success = GaugeMetricFamily(
            "ocrfleet_internet_probe_success",
            "1 if the daemon's own last internet check ([internet.probe]) for the site "
            "succeeded, else 0.",
            labels=("site",),
        )
        probe_duration = GaugeMetricFamily(
            "ocrfleet_internet_probe_duration_seconds",
            "Seconds the daemon's own last successful internet check took.",
            labels=("site",),
        )
        for site, check in sorted(self._daemon_checks().items()):
            probe_success.add_metric([site], 1.0 if check.ok else 0.0)
            if check.latency is not None:
                probe_duration.add_metric([site], check.latency)
        if probe_success.samples:
            yield probe_success
        if probe_duration.samples:
            yield probe_duration
