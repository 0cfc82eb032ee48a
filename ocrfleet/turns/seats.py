"""Which session limit applies to a seat, when a site is full, and which sessions are past it.

A site is *full* when every seat (public PC, laptop) that is up is in use and
at least one is: then a visitor who walks in has to wait. A seat that is down
or switched off is no seat anyone could use, so it does not keep a site from
being full. Nor does its open session count past its limit: a PC switched
off at the wall keeps its session open until sessions.max_duration, with
nobody at it to ask. A session stays an anonymous id with its start:
nothing here knows who sits at a seat.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState, device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.state import DeviceView, FleetSnapshot

LimitApplies = Literal["when_full", "always"]


def session_limits(config: Config) -> dict[DeviceKey, float]:
    """Per device, the limit of its sessions: its own `session_limit`, else its site's.

    Devices with neither are left out.
    """
    limits: dict[DeviceKey, float] = {}
    for site in config.sites:
        for device in site.devices:
            limit = device.session_limit if device.session_limit is not None else site.session_limit
            if limit is not None:
                limits[DeviceKey(site.id, device.id)] = limit
    return limits


def past_limit(used: float, limit: float) -> bool:
    """Whether a session that has lasted `used` seconds is past its limit: the one comparison."""
    return used >= limit


def seats_full(seats_up: int, seats_up_in_use: int) -> bool:
    """Every seat that is up is in use, and at least one is up."""
    return seats_up > 0 and seats_up_in_use >= seats_up


@dataclass(frozen=True, slots=True)
class SeatSession:
    """An open session on a seat, with the limit that applies to it (None: no limit)."""

    key: DeviceKey
    kind: str
    session_id: str
    started_at: float
    limit: float | None
    # Whether its seat is up now: on a seat that is down nobody is there to ask.
    seat_up: bool = True

    def used(self, now: float) -> float:
        return max(0.0, now - self.started_at)

    def over_limit(self, now: float) -> bool:
        return self.limit is not None and past_limit(self.used(now), self.limit)


@dataclass(frozen=True, slots=True)
class SiteTurns:
    """One site's seats at one moment."""

    site: str
    seats: int
    seats_up: int
    seats_up_in_use: int
    # The site's own limit; devices may have their own (SeatSession.limit).
    limit: float | None
    applies: LimitApplies
    # Every open session here, on seats up or down: a session stays the same
    # one while its seat is briefly down, so nothing about it starts over.
    sessions: tuple[SeatSession, ...]
    # Some seat here has a limit, the site's or its own.
    has_limits: bool = False

    @property
    def full(self) -> bool:
        return seats_full(self.seats_up, self.seats_up_in_use)

    @property
    def limit_applies(self) -> bool:
        """Whether a session past its limit should be asked to end now."""
        return self.applies == "always" or self.full

    def over_limit(self, now: float) -> tuple[SeatSession, ...]:
        """Open sessions past their limit on seats that are up."""
        return tuple(s for s in self.sessions if s.seat_up and s.over_limit(now))


def site_turns(
    config: Config,
    views: Iterable[DeviceView],
    is_up: Callable[[DeviceView], bool],
    seat_kinds: Collection[str],
) -> dict[str, SiteTurns]:
    """Every configured site that has seats, by site id."""
    limits = session_limits(config)
    seats: dict[str, list[DeviceView]] = {}
    for view in views:
        if view.info.kind in seat_kinds:
            seats.setdefault(view.info.site, []).append(view)
    found: dict[str, SiteTurns] = {}
    for site in config.sites:
        views_here = seats.get(site.id)
        if not views_here:
            continue
        up = [view for view in views_here if is_up(view)]
        up_keys = {view.info.key for view in up}
        sessions = tuple(
            SeatSession(
                view.info.key,
                view.info.kind,
                view.usage.session_id,
                view.usage.session_started_at,
                limits.get(view.info.key),
                seat_up=view.info.key in up_keys,
            )
            for view in views_here
            if view.usage.in_use
            and view.usage.session_id is not None
            and view.usage.session_started_at is not None
        )
        found[site.id] = SiteTurns(
            site=site.id,
            seats=len(views_here),
            seats_up=len(up),
            seats_up_in_use=sum(1 for view in up if view.usage.in_use),
            limit=site.session_limit,
            applies=site.session_limit_applies,
            sessions=sessions,
            has_limits=any(view.info.key in limits for view in views_here),
        )
    return found


def fleet_turns(
    config: Config, snapshot: FleetSnapshot, kinds: Mapping[str, DeviceKind]
) -> dict[str, SiteTurns]:
    """site_turns() of a snapshot, with each device's state as the kinds judge it."""
    now = snapshot.taken_at

    def is_up(view: DeviceView) -> bool:
        kind = kinds.get(view.info.kind)
        return device_status(view, now, kind).state is DeviceState.UP

    seat_kinds = {name for name, kind in kinds.items() if kind.is_seat}
    return site_turns(config, snapshot.devices, is_up, seat_kinds)
