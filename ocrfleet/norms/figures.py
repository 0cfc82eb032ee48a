"""What the guide for public computer rooms asks of a municipality, and where it stands.

Every number comes from the guide's "Norms" and "What a room has" sections
(docs/norms.md names each one). The figures are pure arithmetic on the
configuration and, when known, each seat's state now; the CLI and the
metrics collector both use them, so they never disagree.

Rounding: "at least one per N adults" rounds up, on integers so that e.g.
5,000 adults give exactly 2 devices and not 3 through a float error. The
exact quotient is kept beside it for display.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import DeviceState

ADULTS_PER_DEVICE = 2_500
ADULTS_PER_GUIDANCE_HALF_DAY = 5_000
ADULTS_PER_LESSON_HALF_DAY = 5_000
# The guide counts a half-day ("dagdeel") of guidance as 4 hours
# (1 preparation + 3 presence); a lesson's half-days are taken the same.
HOURS_PER_HALF_DAY = 4.0
GUIDANCE_COORDINATION_HOURS = 1.0
# Each half-day of teaching needs a half-day of preparation and one of coordination.
LESSON_PREPARATION_HALF_DAYS = 1
LESSON_COORDINATION_HALF_DAYS = 1
MAINTENANCE_HOURS_PER_DEVICE_MONTH = 1.0
SUPPORT_HOURS_PER_DEVICE_WEEK = 0.5
OPENING_CLOSING_HOURS_PER_DEVICE_WEEK = 0.5
MONTHS_PER_YEAR = 12
WEEKS_PER_YEAR = 52
UNRESERVED_SEATS_PER_SITE = 1
_USABLE = (DeviceState.UP, DeviceState.SCHEDULED_OFF)

SOURCE_DEVICES = "guide: Norms — Devices"
SOURCE_RESERVATION = "guide: What a room has — Reservation"
SOURCE_GUIDANCE = "guide: Norms — One-to-one guidance"
SOURCE_LESSONS = "guide: Norms — Group lessons"
SOURCE_MAINTENANCE = "guide: Norms — Technical maintenance"
SOURCE_SUPPORT = "guide: Norms — Visitor support"

TASK_MAINTENANCE = "technical_maintenance"
TASK_SUPPORT = "visitor_support"
TASK_OPENING_CLOSING = "opening_closing"
TASK_GUIDANCE = "guidance"
TASK_LESSONS = "group_lessons"


def at_least_one_per(adults: int, per: int) -> int:
    """ceil(adults / per) on integers: the guide's "at least one per N adults"."""
    return -(-adults // per)


def devices_required(adults: int, village_cores: int) -> int:
    """One public device per 2,500 adults or one per village core, whichever is more."""
    return max(at_least_one_per(adults, ADULTS_PER_DEVICE), village_cores)


def per_week(hours_per_month: float) -> float:
    return hours_per_month * MONTHS_PER_YEAR / WEEKS_PER_YEAR


@dataclass(frozen=True, slots=True)
class Usable:
    """Seats usable now: up, or off only because their site is closed.

    For the municipal norm, a seat at a site whose internet is down is
    neither: the guide counts public computers with an internet connection
    (docs/internet.md). `no_internet` counts those, apart; it stays 0 for
    a village core's and a site's figures, which are about the devices.
    """

    up: int
    scheduled_off: int
    no_internet: int = 0

    @property
    def total(self) -> int:
        return self.up + self.scheduled_off


@dataclass(frozen=True, slots=True)
class DeviceNorm:
    exact: float  # adults / 2,500, before rounding up
    by_population: int
    by_village_cores: int
    configured: int
    configured_by_kind: Mapping[str, int]
    now: Usable | None

    @property
    def required(self) -> int:
        return max(self.by_population, self.by_village_cores)

    @property
    def ok(self) -> bool:
        return self.configured >= self.required

    @property
    def ok_now(self) -> bool | None:
        # As the rule municipality_below_norm: a seat off only because its
        # site is closed is still offered.
        return None if self.now is None else self.now.total >= self.required


@dataclass(frozen=True, slots=True)
class VillageCore:
    name: str
    configured: int
    now: Usable | None

    @property
    def ok(self) -> bool:
        return self.configured >= 1

    @property
    def ok_now(self) -> bool | None:
        return None if self.now is None else self.now.total >= 1


@dataclass(frozen=True, slots=True)
class SiteSeats:
    """A site's seats without reservation; only sites with seats have one."""

    site: str
    name: str
    seats: int
    unreserved: int
    now: Usable | None

    @property
    def ok(self) -> bool:
        return self.unreserved >= UNRESERVED_SEATS_PER_SITE

    @property
    def ok_now(self) -> bool | None:
        return None if self.now is None else self.now.total >= UNRESERVED_SEATS_PER_SITE


@dataclass(frozen=True, slots=True)
class Guidance:
    exact: float  # adults / 5,000
    half_days_per_week: int

    @property
    def hours_per_week(self) -> float:
        return self.half_days_per_week * (HOURS_PER_HALF_DAY + GUIDANCE_COORDINATION_HOURS)


@dataclass(frozen=True, slots=True)
class GroupLessons:
    exact: float  # adults / 5,000
    half_days_per_month: int

    @property
    def teaching_hours_per_month(self) -> float:
        return self.half_days_per_month * HOURS_PER_HALF_DAY

    @property
    def preparation_hours_per_month(self) -> float:
        return self.half_days_per_month * LESSON_PREPARATION_HALF_DAYS * HOURS_PER_HALF_DAY

    @property
    def coordination_hours_per_month(self) -> float:
        return self.half_days_per_month * LESSON_COORDINATION_HALF_DAYS * HOURS_PER_HALF_DAY

    @property
    def hours_per_month(self) -> float:
        return (
            self.teaching_hours_per_month
            + self.preparation_hours_per_month
            + self.coordination_hours_per_month
        )

    @property
    def hours_per_week(self) -> float:
        return per_week(self.hours_per_month)


@dataclass(frozen=True, slots=True)
class DeviceTask:
    """Staff time the guide asks per public device."""

    task: str
    source: str
    devices: int
    hours_per_device: float
    period: str  # "month" or "week": the period the guide states the figure in

    @property
    def hours_per_week(self) -> float:
        hours = self.devices * self.hours_per_device
        return per_week(hours) if self.period == "month" else hours


@dataclass(frozen=True, slots=True)
class NormFigures:
    municipality: str
    adults: int
    devices: DeviceNorm
    village_cores: tuple[VillageCore, ...]
    unreserved: tuple[SiteSeats, ...]
    guidance: Guidance
    lessons: GroupLessons
    device_tasks: tuple[DeviceTask, ...]

    @property
    def staff_hours_per_week(self) -> dict[str, float]:
        hours = {task.task: task.hours_per_week for task in self.device_tasks}
        hours[TASK_GUIDANCE] = self.guidance.hours_per_week
        hours[TASK_LESSONS] = self.lessons.hours_per_week
        return hours


def norm_figures(
    config: Config,
    devices: Iterable[DeviceInfo],
    seat_kinds: Set[str],
    states: Mapping[DeviceKey, DeviceState] | None = None,
    offline_sites: Set[str] = frozenset(),
) -> NormFigures:
    """The guide's figures for `config`; `states` None means the seats' state is not known.

    Every seat counts as a public device, reservable or not: the guide makes
    reservation optional, and the core cannot tell a lesson laptop from a
    free-access PC (docs/norms.md). For the municipal norm alone, a seat at
    one of `offline_sites` (whose internet is down) counts as `no_internet`,
    not as usable: the guide's device norm counts computers with an internet
    connection. A village core's and a site's seats without reservation stay
    about the devices, as the rules site_seats_below_minimum and
    no_unreserved_seat do; the outage has its own alert (docs/internet.md).
    """
    adults = config.municipality.adult_population
    seats = [info for info in devices if info.kind in seat_kinds]
    cores = sorted({site.village_core for site in config.sites})
    core_of = {site.id: site.village_core for site in config.sites}

    def usable(chosen: Iterable[DeviceInfo], offline: Set[str] = frozenset()) -> Usable | None:
        if states is None:
            return None
        found: Counter[DeviceState | None] = Counter()
        no_internet = 0
        for info in chosen:
            state = states.get(info.key)
            if info.site in offline and state in _USABLE:
                no_internet += 1
            else:
                found[state] += 1
        return Usable(found[DeviceState.UP], found[DeviceState.SCHEDULED_OFF], no_internet)

    device_norm = DeviceNorm(
        exact=adults / ADULTS_PER_DEVICE,
        by_population=at_least_one_per(adults, ADULTS_PER_DEVICE),
        by_village_cores=len(cores),
        configured=len(seats),
        configured_by_kind=dict(sorted(Counter(info.kind for info in seats).items())),
        now=usable(seats, offline_sites),
    )
    village_cores = tuple(
        VillageCore(
            name=core,
            configured=sum(1 for info in seats if core_of.get(info.site) == core),
            now=usable(info for info in seats if core_of.get(info.site) == core),
        )
        for core in cores
    )
    unreserved = []
    for site in config.sites:
        at_site = [info for info in seats if info.site == site.id]
        if not at_site:
            continue
        free = [info for info in at_site if not info.reservable]
        unreserved.append(SiteSeats(site.id, site.name, len(at_site), len(free), usable(free)))
    return NormFigures(
        municipality=config.municipality.name,
        adults=adults,
        devices=device_norm,
        village_cores=village_cores,
        unreserved=tuple(unreserved),
        guidance=Guidance(
            adults / ADULTS_PER_GUIDANCE_HALF_DAY,
            at_least_one_per(adults, ADULTS_PER_GUIDANCE_HALF_DAY),
        ),
        lessons=GroupLessons(
            adults / ADULTS_PER_LESSON_HALF_DAY,
            at_least_one_per(adults, ADULTS_PER_LESSON_HALF_DAY),
        ),
        device_tasks=(
            DeviceTask(
                TASK_MAINTENANCE,
                SOURCE_MAINTENANCE,
                len(seats),
                MAINTENANCE_HOURS_PER_DEVICE_MONTH,
                "month",
            ),
            DeviceTask(
                TASK_SUPPORT, SOURCE_SUPPORT, len(seats), SUPPORT_HOURS_PER_DEVICE_WEEK, "week"
            ),
            DeviceTask(
                TASK_OPENING_CLOSING,
                SOURCE_SUPPORT,
                len(seats),
                OPENING_CLOSING_HOURS_PER_DEVICE_WEEK,
                "week",
            ),
        ),
    )
