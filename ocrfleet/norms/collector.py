"""The guide's norms as Prometheus metrics (`ocrfleet_norm_*`).

The same figures as `ocrfleet norms`, from ocrfleet/norms/figures.py, with
each seat's state taken from the daemon's own FleetState. Guidance and
lessons are counts of half-day slots per week or month, as the guide plans
them; staff time is in seconds per week. Prometheus' naming lint (`promtool
check metrics`) refuses hours or days in a name, and a count named after a
time unit would read as a duration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus
from ocrfleet.kinds import DeviceKind
from ocrfleet.norms.figures import NormFigures, Usable, norm_figures
from ocrfleet.state import FleetState

SECONDS_PER_HOUR = 3600


class SeatsNow(Protocol):
    """What the figures need of the fleet now (the scrape's view, ocrfleet/metrics/fleetview.py)."""

    @property
    def config(self) -> Config: ...
    @property
    def state(self) -> FleetState: ...
    @property
    def statuses(self) -> Mapping[DeviceKey, DeviceStatus]: ...
    @property
    def offline_sites(self) -> Set[str]:
        """Sites whose internet is down: their seats do not count (docs/internet.md)."""
        ...


class NormsCollector(Collector):
    def __init__(self, view: Callable[[], SeatsNow], kinds: Mapping[str, DeviceKind]) -> None:
        # Each device's state and the sites' internet are worked out once per
        # scrape, for every collector that needs them.
        self._view = view
        self._seat_kinds = frozenset(name for name, kind in kinds.items() if kind.is_seat)
        # The last figures and what they came from: the seats' states change
        # far less often than Prometheus scrapes. Replaced whole.
        self._last: tuple[Config, Mapping[DeviceKey, DeviceInfo], dict[DeviceKey, DeviceState],
                          Set[str], NormFigures] | None = None  # fmt: skip

    def describe(self) -> Iterable[Metric]:
        # As the other collectors: no collect() at registration time.
        return []

    def figures(self) -> NormFigures:
        view = self._view()
        config = view.config
        devices = view.state.devices
        statuses = view.statuses
        # Only seats count in the norms.
        states: dict[DeviceKey, DeviceState] = {}
        for key, info in devices.items():
            if info.kind in self._seat_kinds:
                status = statuses.get(key)
                if status is not None:
                    states[key] = status.state
        offline = view.offline_sites
        last = self._last
        if (
            last is not None
            and last[0] is config
            and last[1] is devices
            and last[2] == states
            and last[3] == offline
        ):
            return last[4]
        figures = norm_figures(config, list(devices.values()), self._seat_kinds, states, offline)
        self._last = (config, devices, states, offline, figures)
        return figures

    def collect(self) -> Iterator[Metric]:
        figures = self.figures()
        devices = figures.devices
        yield _gauge(
            "ocrfleet_norm_adult_population",
            "Adult residents of the municipality, as configured; the norms scale with it.",
            figures.adults,
        )
        yield _gauge(
            "ocrfleet_norm_devices_required",
            "Public devices (seats: PCs, laptops) the guide asks for: "
            "max(ceil(adults / 2,500), village cores).",
            devices.required,
        )
        yield _gauge(
            "ocrfleet_norm_devices_configured",
            "Public devices (seats) configured, reservable ones included.",
            devices.configured,
        )
        usable = GaugeMetricFamily(
            "ocrfleet_norm_devices_usable",
            "Configured seats usable now, by state: up, or scheduled_off (usable, site closed).",
            labels=("state",),
        )
        _add_usable(usable, [], devices.now)
        yield usable
        if devices.now is not None:
            yield _gauge(
                "ocrfleet_norm_devices_no_internet",
                "Seats that would be usable now but whose site's internet is down: not "
                "counted in ocrfleet_norm_devices_usable (docs/internet.md).",
                devices.now.no_internet,
            )
        cores = GaugeMetricFamily(
            "ocrfleet_norm_village_core_devices",
            "Public devices (seats) configured per village core; the guide asks for at least one.",
            labels=("village_core",),
        )
        for core in figures.village_cores:
            cores.add_metric([core.name], float(core.configured))
        yield cores
        yield _gauge(
            "ocrfleet_norm_guidance_half_day_slots_per_week",
            "Half-day slots of one-to-one guidance per week the guide asks for: "
            "ceil(adults / 5,000).",
            figures.guidance.half_days_per_week,
        )
        yield _gauge(
            "ocrfleet_norm_group_lesson_half_day_slots_per_month",
            "Half-day slots of group lessons (teaching) per month the guide asks for: "
            "ceil(adults / 5,000).",
            figures.lessons.half_days_per_month,
        )
        staff = GaugeMetricFamily(
            "ocrfleet_norm_weekly_staff_time_seconds",
            "Staff time per week the guide's norms add up to, by task, in seconds "
            "(/ 3600 for hours); sum them for the total.",
            labels=("task",),
        )
        for task, hours in figures.staff_hours_per_week.items():
            staff.add_metric([task], hours * SECONDS_PER_HOUR)
        yield staff
        unreserved = GaugeMetricFamily(
            "ocrfleet_norm_unreserved_seats",
            "Seats configured without reservation, per site with seats; the guide asks for "
            "at least one.",
            labels=("site",),
        )
        unreserved_usable = GaugeMetricFamily(
            "ocrfleet_norm_unreserved_seats_usable",
            "Seats without reservation usable now, per site and state (up, scheduled_off).",
            labels=("site", "state"),
        )
        for site in figures.unreserved:
            unreserved.add_metric([site.site], float(site.unreserved))
            _add_usable(unreserved_usable, [site.site], site.now)
        yield unreserved
        yield unreserved_usable


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _add_usable(family: GaugeMetricFamily, labels: list[str], usable: Usable | None) -> None:
    if usable is None:
        return
    family.add_metric([*labels, DeviceState.UP.value], float(usable.up))
    family.add_metric([*labels, DeviceState.SCHEDULED_OFF.value], float(usable.scheduled_off))
