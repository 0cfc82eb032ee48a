"""What the status pages and the JSON API show: sites, devices and firing alerts, in words.

Everything a person reads is decided here, once, in one reader's language
and each site's time zone; the pages only lay it out, and the API returns
the same models. Machines get UTC as RFC 3339 beside the words
(`opens_at`, `since`, ...).

The core knows no device kind: seats (kinds with `is_seat`) are counted,
every other device is shown as the card its kind makes
(`DeviceKind.status_card`). The kiosk, shown on a screen at the entrance,
says how many computers are free and nothing else: no device names, no alerts.

A StatusReader is called on the web server's threads while the daemon's
threads update the fleet state and the alert engine's records: each call
takes one snapshot of the state and copies the mappings it is given before
reading them.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from pydantic import BaseModel, ConfigDict

from ocrfleet.alerts.acks import Acknowledgement
from ocrfleet.alerts.store import AlertRecord
from ocrfleet.clock import Clock
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.config.models import SiteConfig
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devicestate import DeviceState, DeviceStatus, device_status
from ocrfleet.i18n.catalogs import LANGUAGES, Catalogs
from ocrfleet.i18n.readers import Readers
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Catalog, Words
from ocrfleet.kinds import DeviceKind, StatusCard
from ocrfleet.notify.words import severity as severity_words
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.state import DeviceView, FleetState

log = logging.getLogger(__name__)

_ = Catalog("ocrfleet")
_n = _.plural

Tone = Literal["ok", "warning", "critical"]
StateName = Literal["up", "down", "scheduled_off", "unknown"]

# Firing alerts, most urgent first.
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
# A site opening within this many days is named by its weekday ("Monday"),
# later by its date.
_WEEKDAY_HORIZON = 6


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Seats(_Model):
    """A site's seats (public PCs and laptops) now.

    `usable` counts the seats that are up, `in_use` those of them a visitor
    is on, `free` the rest. `walk_in_*` leave out seats that need a
    reservation: what a visitor at the door can get.
    """

    total: int
    usable: int
    in_use: int
    free: int
    walk_in_usable: int
    walk_in_free: int
    minimum: int | None  # the site's min_usable_seats
    below_minimum: bool  # open, and fewer usable than the minimum


class GaugeModel(_Model):
    label: str
    ratio: float | None  # 0-1; None: the device does not say how much
    percent: int | None  # the ratio rounded, for a bar's width
    tone: Tone
    note: str


class DeviceCardModel(_Model):
    site: str
    id: str
    kind: str
    kind_title: str
    model: str
    seat: bool
    reservable: bool
    state: StateName
    state_words: str
    since: str | None  # RFC 3339, UTC
    since_words: str
    # The card's overall tone: the kind's condition, or critical while down.
    tone: Tone
    condition: str
    gauges: tuple[GaugeModel, ...]
    facts: tuple[str, ...]


class AlertSummary(_Model):
    key: str
    rule: str
    site: str | None
    site_name: str
    device: str | None
    severity: str
    severity_words: str
    summary: str
    since: str  # RFC 3339, UTC: when it started firing
    since_words: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    acknowledged_at_words: str | None
    acknowledgement_comment: str | None
    # Why its notifications are held back (a silence, a maintenance window).
    silenced: str | None


class SiteSummary(_Model):
    id: str
    name: str
    open_now: bool
    opens_at: str | None  # RFC 3339, UTC: the next opening, when closed
    closes_at: str | None  # RFC 3339, UTC: the next closing, when open
    # "Open until 17:00", "Closed — opens Monday at 9:00".
    hours: str
    seats: Seats
    # The devices that are not seats (printers, hotspots, ...), as cards.
    equipment: tuple[DeviceCardModel, ...]
    alerts_firing: int


class SiteDetail(_Model):
    made_at: str
    made_at_words: str
    language: str
    site: SiteSummary
    seats: tuple[DeviceCardModel, ...]
    alerts: tuple[AlertSummary, ...]


class Overview(_Model):
    made_at: str
    made_at_words: str
    language: str
    municipality: str
    # Said when every site is closed: why nothing happens.
    note: str
    sites: tuple[SiteSummary, ...]
    alerts: tuple[AlertSummary, ...]


class KioskView(_Model):
    """What an entrance screen shows: free computers, or when the site opens.

    Seats that need a reservation are left out, unless the site has only
    those: a visitor at the door cannot take them.
    """

    made_at: str
    language: str
    site_name: str
    open_now: bool
    opens_at: str | None
    free: int
    usable: int
    sentence: str  # "2 of 3 computers free", or "Closed — opens Monday at 9:00"


def utc(at: float) -> str:
    """A moment as the API and pages give it: RFC 3339 in UTC, to the second."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(at: float | None) -> str | None:
    return None if at is None else utc(at)


class StatusReader:
    """Builds the status pages' models from the daemon's live state, for one reader each."""

    def __init__(
        self,
        loaded: Callable[[], LoadedConfig],
        state: Callable[[], FleetState],
        kinds: Mapping[str, DeviceKind],
        alerts: Callable[[], Mapping[str, AlertRecord]],
        acknowledgements: Callable[[], Mapping[str, Acknowledgement]],
        suppressed: Callable[[], Mapping[str, str]],
        clock: Clock,
        *,
        readers: Callable[[], Readers] | None = None,
        catalogs: Catalogs | None = None,
    ) -> None:
        """`readers` gives each site's language and zone; without it they come from
        the configuration, with `catalogs` (every plugin's) for the words."""
        self._loaded = loaded
        self._state = state
        self._kinds = kinds
        self._alerts = alerts
        self._acknowledgements = acknowledgements
        self._suppressed = suppressed
        self._clock = clock
        self._readers = readers
        self._catalogs = catalogs or Catalogs()
        self._own_readers: tuple[LoadedConfig, Readers] | None = None
        self._errors = RateLimitedLog(log, interval=600.0)

    # -- who reads -----------------------------------------------------------

    def readers(self) -> Readers:
        if self._readers is not None:
            return self._readers()
        loaded = self._loaded()
        cached = self._own_readers
        if cached is None or cached[0] is not loaded:
            # Built again after a reload, which gives a new LoadedConfig.
            cached = (loaded, loaded.config.readers(self._catalogs))
            self._own_readers = cached
        return cached[1]

    def speaker_for(self, site_id: str | None = None, language: str | None = None) -> Speaker:
        """The reader of a site's page (its language and zone), or of the overview (None).

        `language` ("nl", "en"; e.g. from the page's ?lang=) wins when it is
        one ocrfleet speaks; anything else is ignored.
        """
        chosen = next((known for known in LANGUAGES if known == language), None)
        known_site = site_id if site_id in self._loaded().schedules else None
        return self.readers().speaker(site=known_site, language=chosen)

    # -- the models ----------------------------------------------------------

    def overview(self, speaker: Speaker) -> Overview:
        now = self._clock.now()
        loaded = self._loaded()
        fleet = _Fleet(self, loaded, now)
        sites = tuple(
            fleet.summary(site, _in_zone(speaker, site.timezone)) for site in loaded.config.sites
        )
        note = ""
        if sites and not any(site.open_now for site in sites):
            note = speaker.say(
                _(
                    "Every site is closed now, so nobody uses the computers. Each site "
                    "below says when it opens."
                )
            )
        return Overview(
            made_at=utc(now),
            made_at_words=speaker.moment(now),
            language=speaker.language,
            municipality=loaded.config.municipality.name,
            note=note,
            sites=sites,
            alerts=fleet.alerts(speaker, None),
        )

    def site(self, site_id: str, speaker: Speaker) -> SiteDetail | None:
        now = self._clock.now()
        loaded = self._loaded()
        site = _find(loaded, site_id)
        if site is None:
            return None
        fleet = _Fleet(self, loaded, now)
        here = _in_zone(speaker, site.timezone)
        return SiteDetail(
            made_at=utc(now),
            made_at_words=here.moment(now),
            language=speaker.language,
            site=fleet.summary(site, here),
            seats=tuple(
                fleet.card(view, here) for view in fleet.of(site.id) if fleet.is_seat(view)
            ),
            alerts=fleet.alerts(here, site.id),
        )

    def kiosk(self, site_id: str, speaker: Speaker) -> KioskView | None:
        now = self._clock.now()
        loaded = self._loaded()
        site = _find(loaded, site_id)
        if site is None:
            return None
        fleet = _Fleet(self, loaded, now)
        here = _in_zone(speaker, site.timezone)
        seats = fleet.seats(site)
        hours = _Hours(loaded.schedules.get(site.id), now, here)
        # A site with only reservable seats: count those rather than show none.
        has_walk_in = any(
            not view.info.reservable for view in fleet.of(site.id) if fleet.is_seat(view)
        )
        free, usable = (
            (seats.walk_in_free, seats.walk_in_usable)
            if has_walk_in
            else (seats.free, seats.usable)
        )
        if not hours.open_now:
            sentence = hours.sentence()
        elif seats.total == 0:
            sentence = here.say(_("No public computers here"))
        elif usable == 0:
            sentence = here.say(_("No computer available right now"))
        else:
            sentence = here.say(
                _n(
                    "{free} of {usable} computer free",
                    "{free} of {usable} computers free",
                    "usable",
                    free=free,
                    usable=usable,
                )
            )
        return KioskView(
            made_at=utc(now),
            language=speaker.language,
            site_name=site.name,
            open_now=hours.open_now,
            opens_at=rfc3339(hours.opens_at),
            free=free,
            usable=usable,
            sentence=sentence,
        )

    # -- for _Fleet ----------------------------------------------------------

    def _card(self, kind: DeviceKind | None, view: DeviceView) -> StatusCard:
        if kind is None:
            return StatusCard()
        try:
            card = kind.status_card(view)
        except Exception:
            # One plugin's bug must not take the page down: the device is
            # shown as the core knows it.
            self._errors.error(
                f"status_card:{kind.name}",
                "kind %s failed to make the status card of %s",
                kind.name,
                view.info.key,
                exc_info=True,
            )
            return StatusCard()
        return card if isinstance(card, StatusCard) else StatusCard()


def _find(loaded: LoadedConfig, site_id: str) -> SiteConfig | None:
    return next((site for site in loaded.config.sites if site.id == site_id), None)


def _in_zone(speaker: Speaker, zone: str) -> Speaker:
    """The same reader, with a site's times in the site's own zone."""
    return dataclasses.replace(speaker, zone=ZoneInfo(zone))


class _Fleet:
    """One call's view of the fleet: one snapshot, the statuses, the alerts copied."""

    def __init__(self, reader: StatusReader, loaded: LoadedConfig, now: float) -> None:
        self._reader = reader
        self._loaded = loaded
        self.now = now
        self._kinds = reader._kinds
        self._seat_kinds = frozenset(name for name, kind in self._kinds.items() if kind.is_seat)
        snapshot = reader._state().snapshot(now)
        self._views = snapshot.devices
        self._statuses: dict[tuple[str, str], DeviceStatus] = {
            view.info.key: device_status(view, now, self._kinds.get(view.info.kind), reader._errors)
            for view in self._views
        }
        self._names = {site.id: site.name for site in loaded.config.sites}

    # Copies, read once per call and only when needed (the kiosk needs none):
    # the engine replaces and changes them on its own thread.

    @functools.cached_property
    def _records(self) -> dict[str, AlertRecord]:
        return dict(self._reader._alerts())

    @functools.cached_property
    def _acks(self) -> dict[str, Acknowledgement]:
        return dict(self._reader._acknowledgements())

    @functools.cached_property
    def _suppressed(self) -> dict[str, str]:
        return dict(self._reader._suppressed())

    def of(self, site: str) -> list[DeviceView]:
        return [view for view in self._views if view.info.site == site]

    def is_seat(self, view: DeviceView) -> bool:
        return view.info.kind in self._seat_kinds

    def status(self, view: DeviceView) -> DeviceStatus:
        return self._statuses[view.info.key]

    def seats(self, site: SiteConfig) -> Seats:
        seats = [view for view in self.of(site.id) if self.is_seat(view)]
        usable = [view for view in seats if self.status(view).state is DeviceState.UP]
        busy = [view for view in usable if view.usage.in_use]
        walk_in = [view for view in usable if not view.info.reservable]
        walk_in_busy = [view for view in walk_in if view.usage.in_use]
        schedule = self._loaded.schedules.get(site.id)
        open_now = schedule is not None and schedule.is_open(self.now)
        minimum = site.min_usable_seats
        return Seats(
            total=len(seats),
            usable=len(usable),
            in_use=len(busy),
            free=len(usable) - len(busy),
            walk_in_usable=len(walk_in),
            walk_in_free=len(walk_in) - len(walk_in_busy),
            minimum=minimum,
            below_minimum=open_now and minimum is not None and len(usable) < minimum,
        )

    def summary(self, site: SiteConfig, speaker: Speaker) -> SiteSummary:
        hours = _Hours(self._loaded.schedules.get(site.id), self.now, speaker)
        return SiteSummary(
            id=site.id,
            name=site.name,
            open_now=hours.open_now,
            opens_at=rfc3339(hours.opens_at),
            closes_at=rfc3339(hours.closes_at),
            hours=hours.sentence(),
            seats=self.seats(site),
            equipment=tuple(
                self.card(view, speaker) for view in self.of(site.id) if not self.is_seat(view)
            ),
            alerts_firing=sum(1 for record in self._firing() if _site_of(record) == site.id),
        )

    def card(self, view: DeviceView, speaker: Speaker) -> DeviceCardModel:
        kind = self._kinds.get(view.info.kind)
        status = self.status(view)
        card = self._reader._card(kind, view)
        state: StateName = status.state.value
        tone: Tone = "critical" if status.state is DeviceState.DOWN else card.tone
        return DeviceCardModel(
            site=view.info.site,
            id=view.info.id,
            kind=view.info.kind,
            kind_title=speaker.say(kind.title)
            if kind is not None and kind.title
            else view.info.kind,
            model=view.info.model,
            seat=self.is_seat(view),
            reservable=view.info.reservable,
            state=state,
            state_words=speaker.say(_state_words(status)),
            since=rfc3339(status.since),
            since_words=speaker.moment(status.since) if status.since is not None else "",
            tone=tone,
            condition=speaker.say(card.condition),
            gauges=tuple(
                GaugeModel(
                    label=speaker.say(gauge.label),
                    ratio=gauge.ratio,
                    percent=round(gauge.ratio * 100) if gauge.ratio is not None else None,
                    tone=gauge.tone,
                    note=speaker.say(gauge.note),
                )
                for gauge in card.gauges
            ),
            facts=tuple(text for text in (speaker.say(fact) for fact in card.facts) if text),
        )

    def _firing(self) -> list[AlertRecord]:
        return [record for record in self._records.values() if record.state == "firing"]

    def alerts(self, speaker: Speaker, site: str | None) -> tuple[AlertSummary, ...]:
        """Firing alerts: every one (`site` None), or a site's; most urgent, then newest first."""
        chosen = [r for r in self._firing() if site is None or _site_of(r) == site]
        chosen.sort(key=lambda r: -_started(r))
        chosen.sort(key=lambda r: _SEVERITY_RANK.get(r.severity, len(_SEVERITY_RANK)))
        return tuple(self._alert(record, speaker) for record in chosen)

    def _alert(self, record: AlertRecord, speaker: Speaker) -> AlertSummary:
        ack = self._acks.get(record.key)
        if ack is not None and (ack.key != record.key or ack.active_since != record.active_since):
            ack = None  # an earlier episode's: this one is nobody's yet
        site = _site_of(record)
        site_zone = self._zone(site)
        here = _in_zone(speaker, site_zone) if site_zone is not None else speaker
        started = _started(record)
        return AlertSummary(
            key=record.key,
            rule=record.rule,
            site=site,
            site_name=self._names.get(site, site) if site is not None else "",
            device=record.labels.get("device"),
            severity=record.severity,
            severity_words=severity_words(here, record.severity),
            summary=here.say(record.summary),
            since=utc(started),
            since_words=here.moment(started),
            acknowledged_by=ack.by if ack is not None else None,
            acknowledged_at=rfc3339(ack.at) if ack is not None else None,
            acknowledged_at_words=here.moment(ack.at) if ack is not None else None,
            acknowledgement_comment=ack.comment if ack is not None else None,
            silenced=self._suppressed.get(record.key),
        )

    def _zone(self, site: str | None) -> str | None:
        schedule = self._loaded.schedules.get(site) if site is not None else None
        return schedule.timezone if schedule is not None else None


def _site_of(record: AlertRecord) -> str | None:
    return record.labels.get("site")


def _started(record: AlertRecord) -> float:
    return record.firing_since if record.firing_since is not None else record.active_since


def _state_words(status: DeviceStatus) -> Words:
    if status.state is DeviceState.UP:
        return _("Working")
    if status.state is DeviceState.DOWN:
        return _("Not answering")
    if status.state is DeviceState.SCHEDULED_OFF:
        if status.reason in ("closed", "closure"):
            return _("Off — the site is closed")
        return _("Off as planned")
    return _("No news from it yet")


class _Hours:
    """Whether a site is open at `now`, and the sentence that says until or from when."""

    def __init__(self, schedule: SiteSchedule | None, now: float, speaker: Speaker) -> None:
        self._schedule = schedule
        self._now = now
        self._speaker = speaker
        self.open_now = schedule is not None and schedule.is_open(now)
        self.opens_at = (
            schedule.next_opening(now) if schedule is not None and not self.open_now else None
        )
        self.closes_at = schedule.next_closing(now) if schedule is not None else None

    def sentence(self) -> str:
        say = self._speaker.say
        if self.open_now:
            if self.closes_at is None:
                return say(_("Open"))
            if self._days_until(self.closes_at) == 0:
                return say(_("Open until {time}", time=self._time(self.closes_at)))
            return say(
                _(
                    "Open until {weekday} {time}",
                    weekday=self._weekday(self.closes_at),
                    time=self._time(self.closes_at),
                )
            )
        at = self.opens_at
        if at is None:
            return say(_("Closed — no opening hours in the coming weeks"))
        days = self._days_until(at)
        time = self._time(at)
        if days == 0:
            words = _("Closed — opens today at {time}", time=time)
        elif days == 1:
            words = _("Closed — opens tomorrow at {time}", time=time)
        elif days <= _WEEKDAY_HORIZON:
            words = _("Closed — opens {weekday} at {time}", weekday=self._weekday(at), time=time)
        else:
            day = self._local(at).date()
            words = _(
                "Closed — opens {day} at {time}",
                day=self._speaker.day(day, weekday=True),
                time=time,
            )
        return say(words)

    def _local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, self._speaker.zone)

    def _days_until(self, at: float) -> int:
        return (self._local(at).date() - self._local(self._now).date()) // timedelta(days=1)

    def _time(self, at: float) -> str:
        # "9:00": on a sign, as people write opening hours.
        return format_time(self._local(at), "H:mm", locale=self._speaker.locale)

    def _weekday(self, at: float) -> str:
        return format_date(self._local(at).date(), "EEEE", locale=self._speaker.locale)
