"""One view of the fleet per scrape, shared by the internet, norms and turns collectors."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from ocrfleet.cli.common import load_catalog
from ocrfleet.clock import ManualClock
from ocrfleet.devices import DeviceKey
from ocrfleet.internet.judge import InternetJudge
from ocrfleet.metrics.fleetview import FleetView, FleetViews, SharedViewCollector
from ocrfleet.metrics.internet import InternetCollector
from ocrfleet.metrics.turns import TurnsCollector
from ocrfleet.norms.collector import NormsCollector
from ocrfleet.state import DeviceView, FleetState
from ocrfleet.turns.tracker import TurnsTracker
from tests.test_norms import MONDAY, vlaminggem


def _registry() -> tuple[CollectorRegistry, FleetViews, FleetState]:
    loaded = vlaminggem()
    state = FleetState(loaded.devices, {})
    state.record_heartbeat(DeviceKey("library", "pc-01"), MONDAY)
    kinds = load_catalog().kinds
    views = FleetViews(
        lambda: loaded.config, lambda: state, kinds, InternetJudge(kinds), ManualClock(MONDAY)
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        SharedViewCollector(
            views,
            [
                InternetCollector(views.current, dict),
                NormsCollector(views.current, kinds),
                TurnsCollector(views.current, kinds, TurnsTracker()),
            ],
        )
    )
    return registry, views, state


def _names(registry: CollectorRegistry) -> set[str]:
    return {family.name for family in registry.collect()}


def test_one_scrape_takes_one_view_for_all_three_collectors() -> None:
    registry, views, _ = _registry()
    names = _names(registry)
    # All three ran ...
    assert {
        "ocrfleet_site_internet_state",
        "ocrfleet_norm_devices_usable",
        "ocrfleet_site_all_seats_busy",
    } <= names
    # ... on one view of the fleet.
    assert views.taken == 1
    _names(registry)
    assert views.taken == 2


def test_outside_a_scrape_every_call_takes_a_new_view() -> None:
    """A device that reports between two scrapes is never hidden by an old view."""
    registry, views, state = _registry()
    _names(registry)
    before = views.current()
    state.record_heartbeat(DeviceKey("welfare", "pc-02"), MONDAY)
    after = views.current()
    assert after is not before
    assert not before.is_up(_view(before, "welfare", "pc-02"))
    assert after.is_up(_view(after, "welfare", "pc-02"))


def _view(fleet: FleetView, site: str, device: str) -> DeviceView:
    return next(v for v in fleet.snapshot.devices if v.info.key == DeviceKey(site, device))


def test_scrapes_in_two_threads_each_get_their_own_view() -> None:
    _, views, _ = _registry()
    inside = threading.Event()
    release = threading.Event()
    seen: dict[str, FleetView] = {}

    def first() -> None:
        with views.shared():
            seen["first"] = views.current()
            inside.set()
            release.wait(30)
            seen["first again"] = views.current()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(30), "the first scrape never started"
    # The other scrape, while the first is still in its block.
    with views.shared():
        seen["second"] = views.current()
        assert views.current() is seen["second"]
    release.set()
    thread.join()
    assert seen["first again"] is seen["first"]
    assert seen["second"] is not seen["first"]
    assert views.taken == 2
