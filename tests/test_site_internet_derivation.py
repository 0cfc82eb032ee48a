"""A site's internet state from its devices' checks (ocrfleet/internet/site.py)."""

from __future__ import annotations

from ocrfleet.config.internet import InternetConfig
from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus
from ocrfleet.internet.site import InternetState, site_internet
from ocrfleet.state import Availability, DeviceView, Presence, Usage

NOW = 1_800_000_000.0
SETTINGS = InternetConfig(degraded_latency=2.0, stale_after=900.0)


def _view(site: str, device: str) -> DeviceView:
    return DeviceView(
        info=DeviceInfo(DeviceKey(site, device), "pc"),
        presence=Presence(Availability.ONLINE, True, NOW - 3600),
        last_seen=NOW,
        reading=None,
        reading_at=None,
        usage=Usage(),
    )


def _derive(
    checks: dict[str, InternetCheck | None],
    down: frozenset[str] = frozenset(),
    daemon: InternetCheck | None = None,
) -> tuple[InternetState, float | None, tuple[str, ...]]:
    views = [_view("lib", device) for device in checks] + [_view("other", "pc-9")]
    statuses = {
        view.info.key: DeviceStatus(
            DeviceState.DOWN if view.info.id in down else DeviceState.UP, "x", None
        )
        for view in views
    }
    found = site_internet(
        "lib",
        views,
        statuses,
        lambda view: checks.get(view.info.id) if view.info.site == "lib" else _ok(0.1),
        SETTINGS,
        NOW,
        daemon_check=daemon,
    )
    return found.state, found.latency, found.failing


def _ok(latency: float, age: float = 60.0) -> InternetCheck:
    return InternetCheck(True, NOW - age, latency)


def _failed(error: str = "connect", age: float = 60.0) -> InternetCheck:
    return InternetCheck(False, NOW - age, error=error)


def test_down_only_when_every_device_that_is_up_fails() -> None:
    assert _derive({"pc-1": _failed(), "pc-2": _failed("dns")})[0] is InternetState.DOWN
    assert _derive({"pc-1": _failed(), "pc-2": _ok(0.2)})[0] is InternetState.UP
    # The one that got through is switched off: its word no longer counts.
    state, _, failing = _derive({"pc-1": _failed(), "pc-2": _ok(0.2)}, down=frozenset({"pc-2"}))
    assert (state, failing) == (InternetState.DOWN, ("pc-1",))


def test_stale_and_missing_checks_say_nothing() -> None:
    assert _derive({"pc-1": None, "pc-2": None})[0] is InternetState.UNKNOWN
    assert _derive({"pc-1": _failed(age=901.0)})[0] is InternetState.UNKNOWN
    assert _derive({"pc-1": _failed(age=901.0), "pc-2": _ok(0.3)})[0] is InternetState.UP


def test_degraded_on_the_median_of_successful_probes() -> None:
    state, latency, _ = _derive({"pc-1": _ok(0.2), "pc-2": _ok(3.0), "pc-3": _ok(2.5)})
    assert (state, latency) == (InternetState.DEGRADED, 2.5)
    # One slow PC does not make the site slow.
    state, latency, _ = _derive({"pc-1": _ok(0.2), "pc-2": _ok(9.0), "pc-3": _ok(0.4)})
    assert (state, latency) == (InternetState.UP, 0.4)


def test_an_uplink_decides_only_where_nothing_probes() -> None:
    uplink_up = InternetCheck(True, NOW - 30, None, source=CheckSource.UPLINK)
    uplink_down = InternetCheck(False, NOW - 30, error="uplink_down", source=CheckSource.UPLINK)
    assert _derive({"ap-1": uplink_up})[:2] == (InternetState.UP, None)
    assert _derive({"ap-1": uplink_down})[0] is InternetState.DOWN
    # PCs that get through outweigh a hotspot whose own uplink is down.
    assert _derive({"ap-1": uplink_down, "pc-1": _ok(0.2)})[0] is InternetState.UP
    # ... and a hotspot whose uplink is up does not outweigh every PC failing.
    assert _derive({"ap-1": uplink_up, "pc-1": _failed("dns")})[0] is InternetState.DOWN


def test_the_daemons_own_check_counts_like_a_device() -> None:
    assert _derive({}, daemon=_failed("timeout"))[2] == ("daemon",)
    assert _derive({"pc-1": _failed()}, daemon=_ok(0.1))[0] is InternetState.UP
