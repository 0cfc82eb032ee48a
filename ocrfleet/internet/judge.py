"""Every site's internet state at one moment, for the metrics, the rules, the norms and the history.

They all judge through one InternetJudge so that a dashboard, an alert and
a report never disagree about the same minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from ocrfleet.config.internet import InternetConfig
from ocrfleet.config.models import Config
from ocrfleet.connectivity import InternetCheck
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceStatus, device_status
from ocrfleet.internet.site import InternetState, SiteInternet, site_internet
from ocrfleet.kinds import DeviceKind
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.state import DeviceView, FleetSnapshot, FleetState

log = logging.getLogger(__name__)

DaemonChecks = Callable[[], Mapping[str, InternetCheck]]


def _no_daemon_checks() -> Mapping[str, InternetCheck]:
    return {}


class InternetJudge:
    """Applies ocrfleet/internet/site.py to every site, asking each device's kind for its check."""

    def __init__(
        self, kinds: Mapping[str, DeviceKind], daemon_checks: DaemonChecks = _no_daemon_checks
    ) -> None:
        self._kinds = kinds
        self.daemon_checks = daemon_checks
        # Kinds whose devices may check at all: only theirs need a status.
        self.checking_kinds = frozenset(
            name
            for name, kind in kinds.items()
            if type(kind).internet_check is not DeviceKind.internet_check
        )
        # Asked on every scrape: a kind that raises is told about, not flooded with.
        self._errors = RateLimitedLog(log, interval=600.0)

    def check_of(self, view: DeviceView) -> InternetCheck | None:
        kind = self._kinds.get(view.info.kind)
        if kind is None:
            return None
        try:
            return kind.internet_check(view)
        except Exception:
            self._errors.error(
                view.info.kind,
                "kind %s failed to give the internet check of %s; counted as not checking",
                view.info.kind,
                view.info.id,
                exc_info=True,
            )
            return None

    def views(self, state: FleetState) -> list[DeviceView]:
        """The devices of `state` whose kind checks the internet."""
        found = []
        for key, info in list(state.devices.items()):
            if info.kind in self.checking_kinds:
                view = state.view(key)
                if view is not None:
                    found.append(view)
        return found

    def statuses(self, views: Iterable[DeviceView], now: float) -> dict[DeviceKey, DeviceStatus]:
        return {
            view.info.key: device_status(view, now, self._kinds.get(view.info.kind))
            for view in views
        }

    def sites(
        self,
        sites: Iterable[str],
        views: Iterable[DeviceView],
        statuses: Mapping[DeviceKey, DeviceStatus],
        settings: InternetConfig,
        now: float,
    ) -> dict[str, SiteInternet]:
        """Each of `sites`' state now; UNKNOWN for a site with no fresh check."""
        by_site: dict[str, list[DeviceView]] = {}
        for view in views:
            if view.info.kind not in self.checking_kinds:
                continue
            by_site.setdefault(view.info.site, []).append(view)
        daemon = self.daemon_checks()
        return {
            site: site_internet(
                site,
                by_site.get(site, ()),
                statuses,
                self.check_of,
                settings,
                now,
                daemon.get(site),
            )
            for site in sites
        }


def judge_fleet(
    judge: InternetJudge, config: Config, state: FleetState, now: float
) -> dict[str, SiteInternet]:
    """Every configured site's state now, from the live fleet."""
    views = judge.views(state)
    return judge.sites(
        [site.id for site in config.sites], views, judge.statuses(views, now), config.internet, now
    )


def judge_snapshot(
    judge: InternetJudge, config: Config, snapshot: FleetSnapshot
) -> dict[str, SiteInternet]:
    """Every configured site's state at the moment of `snapshot`, from its views alone."""
    views = [view for view in snapshot.devices if view.info.kind in judge.checking_kinds]
    now = snapshot.taken_at
    return judge.sites(
        [site.id for site in config.sites], views, judge.statuses(views, now), config.internet, now
    )


def offline_sites(judged: Mapping[str, SiteInternet]) -> frozenset[str]:
    """Sites whose internet is down now: their seats do not count towards the norm."""
    return frozenset(site for site, found in judged.items() if found.state is InternetState.DOWN)
