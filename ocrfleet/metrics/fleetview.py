"""The fleet as one scrape sees it: taken once, shared by the collectors that need it.

Fair turns, the internet and the norms all need every device's state and
every site's internet judgement; each working them out again costs a pass
over the whole fleet per collector (bench/README.md, scrape.py). The
collectors are registered inside one SharedViewCollector: while it runs
them, FleetViews.current() gives the same view to all of them, so a scrape
takes one. The view belongs to the scrape's thread, so scrapes at the same
time never see each other's; outside a scrape each call takes a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ocrfleet.clock import Clock
from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus, device_status
from ocrfleet.internet.judge import InternetJudge, offline_sites
from ocrfleet.internet.site import SiteInternet
from ocrfleet.kinds import DeviceKind
from ocrfleet.state import DeviceView, FleetSnapshot, FleetState


@dataclass(frozen=True, slots=True)
class FleetView:
    """One moment of the fleet: its devices, their states, each site's internet."""

    taken_at: float
    config: Config
    state: FleetState
    snapshot: FleetSnapshot
    statuses: Mapping[DeviceKey, DeviceStatus]
    internet: Mapping[str, SiteInternet]
    offline_sites: frozenset[str] = field(default=frozenset())

    def is_up(self, view: DeviceView) -> bool:
        status = self.statuses.get(view.info.key)
        return status is not None and status.state is DeviceState.UP


class FleetViews:
    """Takes FleetViews; one per scrape inside shared(), a new one per call outside."""

    def __init__(
        self,
        config: Callable[[], Config],
        state: Callable[[], FleetState],
        kinds: Mapping[str, DeviceKind],
        judge: InternetJudge,
        clock: Clock,
    ) -> None:
        self._config = config
        self._state = state
        self._kinds = kinds
        self._judge = judge
        self._clock = clock
        # Per thread: the HTTP server may answer two scrapes at once.
        self._scope = threading.local()
        # Views taken so far: a test (and the bench) can see that one was shared.
        self.taken = 0
        self._counting = threading.Lock()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Within this block (one scrape), current() takes the view once."""
        outer = getattr(self._scope, "active", False)
        self._scope.active = True
        try:
            yield
        finally:
            if not outer:
                self._scope.active = False
                self._scope.view = None

    def current(self) -> FleetView:
        config = self._config()
        state = self._state()
        if getattr(self._scope, "active", False):
            view: FleetView | None = getattr(self._scope, "view", None)
            # A reload during the scrape: its collectors see the new configuration.
            if view is not None and view.config is config and view.state is state:
                return view
        view = self._take(config, state, self._clock.now())
        if getattr(self._scope, "active", False):
            self._scope.view = view
        return view

    def _take(self, config: Config, state: FleetState, now: float) -> FleetView:
        with self._counting:
            self.taken += 1
        snapshot = state.snapshot(now)
        kinds = self._kinds
        statuses = {
            view.info.key: device_status(view, now, kinds.get(view.info.kind))
            for view in snapshot.devices
        }
        internet = self._judge.sites(
            [site.id for site in config.sites],
            snapshot.devices,
            statuses,
            config.internet,
            now,
        )
        return FleetView(
            taken_at=now,
            config=config,
            state=state,
            snapshot=snapshot,
            statuses=statuses,
            internet=internet,
            offline_sites=offline_sites(internet),
        )


class SharedViewCollector(Collector):
    """Runs `collectors` in turn, all seeing the one FleetView of this scrape."""

    def __init__(self, views: FleetViews, collectors: Sequence[Collector]) -> None:
        self._views = views
        self._collectors = tuple(collectors)

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        with self._views.shared():
            for collector in self._collectors:
                yield from collector.collect()
