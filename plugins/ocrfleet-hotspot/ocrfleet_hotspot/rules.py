"""Alert rules for hotspots, besides `hotspot_down` (ocrfleet.alerts.device_down).

The restart and no-clients rules keep their memory in the daemon only:
after a restart they start over, which at worst delays a finding, never
invents one. The uplink rules keep none: each poll's reading decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    Day,
    DeviceInfo,
    DeviceKey,
    DeviceState,
    Duration,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
    SiteSchedule,
)
from ocrfleet_hotspot.reading import HotspotReading, Uplink

_ = Catalog("ocrfleet_hotspot")
_n = _.plural

KIND = "hotspot"
CATEGORY = "network"


def _labels(info: DeviceInfo) -> dict[str, str]:
    return {"site": info.site, "device": info.id, "kind": info.kind, "category": CATEGORY}


# -- hotspot_restarted ----------------------------------------------------------


class RestartedSettings(RuleSettings):
    # A restart is a fact, not a condition that may pass: no tolerance.
    for_: Duration = Field(default=0.0, alias="for")
    window: Duration = Field(default=1800.0, gt=0, description="how long a restart is reported")


@dataclass(frozen=True, slots=True)
class _Restarts:
    first_at: float
    last_at: float
    count: int


class HotspotRestartedRule(AlertRule):
    """The hotspot's restart counter went up: it lost power or crashed.

    The counter only counts restarts the daemon saw, so the first reading
    the rule gets is a baseline and never fires: after a daemon restart,
    old restarts are not news.
    """

    name = "hotspot_restarted"
    title = _("Wifi hotspot restarts")
    description = "a hotspot restarted (its uptime went back); reported for `window`"
    default_severity = Severity.WARNING
    settings_model = RestartedSettings

    def __init__(self) -> None:
        self._counts: dict[DeviceKey, int] = {}
        self._recent: dict[DeviceKey, _Restarts] = {}

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        window = (
            settings if isinstance(settings, RestartedSettings) else RestartedSettings()
        ).window
        findings: list[Finding] = []
        watched: set[DeviceKey] = set()
        for view in context.views(KIND):
            reading = view.reading
            if not isinstance(reading, HotspotReading):
                continue
            key = view.info.key
            watched.add(key)
            previous = self._counts.get(key)
            self._counts[key] = reading.restarts
            # A counter that went back was started over (e.g. a reload): a new baseline.
            if previous is not None and reading.restarts > previous:
                seen_at = view.reading_at if view.reading_at is not None else context.now
                earlier = self._recent.get(key)
                added = reading.restarts - previous
                self._recent[key] = (
                    _Restarts(earlier.first_at, seen_at, earlier.count + added)
                    if earlier is not None
                    else _Restarts(seen_at, seen_at, added)
                )
            recent = self._recent.get(key)
            if recent is None:
                continue
            if context.now - recent.last_at >= window:
                del self._recent[key]
                continue
            findings.append(self._finding(view.info, recent, reading))
        self._forget_all_but(watched)
        return findings

    def _finding(self, info: DeviceInfo, recent: _Restarts, reading: HotspotReading) -> Finding:
        uptime = (
            f", up {reading.uptime_seconds:.0f} s since"
            if reading.uptime_seconds is not None
            else ""
        )

        # Site time for IT as well: the detail is read beside local times.
        def local(at: float) -> str:
            moment = (
                info.schedule.local(at)
                if info.schedule is not None
                else datetime.fromtimestamp(at, UTC)
            )
            return moment.strftime("%Y-%m-%d %H:%M:%S %Z")

        first, last = local(recent.first_at), local(recent.last_at)
        return Finding(
            rule=self.name,
            subject=str(info.key),
            labels=_labels(info),
            summary=_("Wifi hotspot {device} restarted", device=info.id),
            description=_n(
                "Visitors on its wifi lost their connection for a moment. If it happens "
                "again, check its power plug and cable, and call IT.",
                "It restarted {n} times in a short while, and each time visitors on its wifi "
                "lost their connection. Check its power plug and cable, and call IT: "
                "restarts like these point to its power supply or its firmware.",
                "n",
                n=recent.count,
            ),
            detail=(
                f"hotspot {info.key} ({reading.model or 'model unknown'}, vendor "
                f"{reading.vendor}): uptime went back {recent.count}x, first seen {first}, "
                f"last seen {last}{uptime}"
            ),
        )

    def _forget_all_but(self, keys: set[DeviceKey]) -> None:
        for memory in (self._counts, self._recent):
            for key in [k for k in memory if k not in keys]:
                del memory[key]


# -- hotspot_no_clients -----------------------------------------------------------


class NoClientsSettings(RuleSettings):
    # The rule judges whole days; waiting longer adds nothing.
    for_: Duration = Field(default=0.0, alias="for")


# The rule must have watched the hotspot from (nearly) the day's opening to
# judge the whole day; a daemon started a few minutes late still counts.
OPENING_GRACE = 600.0


@dataclass(slots=True)
class _Day:
    """What the rule saw of one hotspot during one local day of its site."""

    day: date
    first_watched: float
    opens_at: float | None  # None: the site is not open that day
    closes_at: float | None
    # Up, with a client count, at every look while the site was open.
    counted_throughout: bool = True
    saw_client: bool = False
    judged: bool = False

    def watched_whole_opening(self) -> bool:
        return self.opens_at is not None and self.first_watched <= self.opens_at + OPENING_GRACE


class HotspotNoClientsRule(AlertRule):
    """A hotspot up through a whole opening day that saw no client all day.

    Somebody uses the public wifi of an open site on a normal day; none at
    all suggests visitors cannot connect (SSID hidden, wrong VLAN, DHCP
    down) although the hotspot itself answers. The finding starts when that
    day's opening hours end and lasts until a client is seen again. Vendors
    that give no client count (`clients` None) never fire.
    """

    name = "hotspot_no_clients"
    title = _("Wifi hotspots nobody used")
    description = "a hotspot up a whole opening day saw no wifi client that day"
    default_severity = Severity.WARNING
    settings_model = NoClientsSettings

    def __init__(self) -> None:
        self._days: dict[DeviceKey, _Day] = {}
        # Per hotspot: the first opening day of those in a row that had no client.
        self._empty: dict[DeviceKey, date] = {}

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        findings: list[Finding] = []
        watched: set[DeviceKey] = set()
        for view in context.views(KIND):
            schedule = view.info.schedule
            if schedule is None:
                continue
            key = view.info.key
            watched.add(key)
            reading = view.reading if isinstance(view.reading, HotspotReading) else None
            status = context.statuses.get(key)
            is_up = status is not None and status.state is DeviceState.UP
            clients = reading.clients if reading is not None and is_up else None
            if clients is not None and clients > 0:
                self._empty.pop(key, None)
            self._watch(key, schedule, context.now, is_up, clients)
            empty = self._empty.get(key)
            if empty is not None:
                findings.append(self._finding(view.info, empty))
        for memory in (self._days, self._empty):
            for key in [k for k in memory if k not in watched]:
                del memory[key]
        return findings

    def _watch(
        self, key: DeviceKey, schedule: SiteSchedule, now: float, is_up: bool, clients: int | None
    ) -> None:
        today = schedule.local(now).date()
        day = self._days.get(key)
        if day is not None and day.day != today:
            self._judge(key, day, now)
            day = None
        if day is None:
            opens_at, closes_at = _opening_span(schedule, today)
            day = self._days[key] = _Day(today, now, opens_at, closes_at)
        if day.opens_at is None or day.closes_at is None or now < day.opens_at:
            return
        if now < day.closes_at:
            if schedule.is_open(now):
                # No count is no evidence of an empty day: the day cannot be judged.
                if clients is None:
                    day.counted_throughout = False
                elif clients > 0:
                    day.saw_client = True
            return
        self._judge(key, day, now)

    def _judge(self, key: DeviceKey, day: _Day, now: float) -> None:
        if day.judged or day.closes_at is None or now < day.closes_at:
            return
        day.judged = True
        if day.watched_whole_opening() and day.counted_throughout and not day.saw_client:
            self._empty.setdefault(key, day.day)

    def _finding(self, info: DeviceInfo, day: date) -> Finding:
        return Finding(
            rule=self.name,
            subject=str(info.key),
            labels=_labels(info),
            summary=_(
                "No wifi users on hotspot {device} since {day}", device=info.id, day=Day(day)
            ),
            description=_(
                "The hotspot was on through the whole opening day of {day}, but no visitor's "
                "device connected to it. Visitors may be unable to connect: try with your own "
                "phone. If that fails, switch the hotspot off and on again, and call IT if it "
                "still does not work. This message clears as soon as someone connects.",
                day=Day(day),
            ),
            detail=(
                f"hotspot {info.key}: 0 wifi clients at every poll during the opening hours "
                f"of {day.isoformat()} (site time); it answers, so check that the SSID is "
                "broadcast, the VLAN and that clients get an address (DHCP)"
            ),
        )


def _opening_span(schedule: SiteSchedule, day: date) -> tuple[float | None, float | None]:
    """When the site first opens and last closes on a local date; (None, None) if closed."""
    if day in schedule.closed_days:
        return None, None
    ranges = schedule.opening_hours.day(day.weekday())
    if not ranges:
        return None, None
    zone = ZoneInfo(schedule.timezone)
    start = datetime.combine(day, ranges[0][0], tzinfo=zone)
    last_end = ranges[-1][1]
    if last_end == time.max:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        end = datetime.combine(day, last_end, tzinfo=zone)
    return start.timestamp(), end.timestamp()


# -- hotspot_uplink_down and hotspot_uplink_missing -----------------------------


def _answering_uplinks(context: RuleContext) -> Iterable[tuple[DeviceInfo, HotspotReading, Uplink]]:
    """Hotspots that answer now, with their reading's uplink.

    A hotspot that does not answer is `hotspot_down`'s; its last reading
    says nothing about now.
    """
    for view in context.views(KIND):
        reading = view.reading
        status = context.statuses.get(view.info.key)
        if (
            not isinstance(reading, HotspotReading)
            or reading.uplink is None
            or view.failure is not None
            or status is None
            or status.state is not DeviceState.UP
        ):
            continue
        yield view.info, reading, reading.uplink


def _site_name(context: RuleContext, site: str) -> str:
    for config in context.config.sites:
        if config.id == site:
            return config.name
    return site


class HotspotUplinkDownRule(AlertRule):
    """The hotspot answers, but its way to the internet is down.

    Apart from `hotspot_down` (it does not answer) and `internet_down` (no
    check from inside the site gets out): visitors on this wifi can
    connect, yet cannot go online through it. Seen only when the daemon
    reaches the hotspot by another way than its uplink, e.g. a router whose
    WAN port or PPPoE session is down.
    """

    name = "hotspot_uplink_down"
    title = _("Wifi hotspots without internet")
    description = (
        "a hotspot answers but its uplink (uplink_interface, or the vendor's WAN state "
        "or WAN interface) is down"
    )
    default_severity = Severity.CRITICAL

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for info, reading, uplink in _answering_uplinks(context):
            if uplink.state != "down":
                continue
            how = (
                f"{uplink.interface} (ifIndex {uplink.index}): {uplink.detail}"
                if uplink.source == "interface"
                else uplink.detail
            )
            yield Finding(
                rule=self.name,
                subject=str(info.key),
                labels=_labels(info),
                summary=_(
                    "Wifi hotspot {device} is on but has no connection to the internet",
                    device=info.id,
                ),
                description=_(
                    "The wifi hotspot in {site} is on, but has no connection to the "
                    "internet: visitors can join the wifi, yet cannot go online through "
                    "it. Check that the modem or router is on and that its cables are in. "
                    "Call IT if that does not help.",
                    site=_site_name(context, info.site),
                ),
                detail=(f"hotspot {info.key} (vendor {reading.vendor}): uplink down, {how}"),
            )


class HotspotUplinkMissingRule(AlertRule):
    """A hotspot's `uplink_interface` option names an interface the device does not have.

    A typo, a renamed or removed interface: its uplink can no longer be
    judged, and nobody would notice an outage. For IT, to fix the option.
    """

    name = "hotspot_uplink_missing"
    title = _("Wifi hotspots whose internet connection cannot be checked")
    description = "a hotspot's uplink_interface option names an interface the device does not have"
    default_severity = Severity.WARNING

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for info, _reading, uplink in _answering_uplinks(context):
            if not uplink.missing:
                continue
            yield Finding(
                rule=self.name,
                subject=str(info.key),
                labels=_labels(info),
                summary=_(
                    "The internet connection of wifi hotspot {device} cannot be checked",
                    device=info.id,
                ),
                description=_(
                    "The settings name a connection to the internet that this hotspot does "
                    "not have, so nobody would notice if its internet went down. IT should "
                    "correct the hotspot's settings."
                ),
                detail=(
                    f"hotspot {info.key}: options.uplink_interface = {uplink.missing!r}: "
                    f"{uplink.detail}"
                ),
            )
