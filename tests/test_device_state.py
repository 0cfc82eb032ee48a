"""A device's state as people mean it, and its metric `ocrfleet_device_state`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.core import Metric

from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus, device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.metrics.fleet import FleetCollector
from ocrfleet.state import Availability, DeviceView, FleetState
from ocrfleet_pc.kind import LaptopKind, PcKind

BRUSSELS = ZoneInfo("Europe/Brussels")
KINDS: dict[str, DeviceKind] = {"pc": PcKind(), "laptop": LaptopKind()}
LIB_PC = DeviceKey("lib", "pc-01")
HALL_PC = DeviceKey("hall", "pc-01")


def _at(month: int, day: int, hour: int) -> float:
    return datetime(2026, month, day, hour, 0, tzinfo=BRUSSELS).timestamp()


# Mondays in 2026: 2 March (an ordinary day), 6 April (Easter Monday, a
# municipal holiday) and 13 April (the library's own closure).
ORDINARY_MONDAY = _at(3, 2, 10)
MONDAY_NIGHT = _at(3, 2, 22)
EASTER_MONDAY = _at(4, 6, 10)
LIBRARY_CLOSURE = _at(4, 13, 10)


def _loaded() -> LoadedConfig:
    every_weekday = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    return load_config(
        {
            "municipality": {
                "name": "Testdorp",
                "adult_population": 1000,
                "holidays": ["2026-04-06"],
            },
            "sites": [
                {
                    "id": "lib",
                    "name": "Library",
                    "village_core": "Testdorp",
                    "opening_hours": every_weekday,
                    "closures": ["2026-04-13..2026-04-14"],
                    "devices": [
                        {"id": "pc-01", "kind": "pc"},
                        {"id": "laptop-01", "kind": "laptop"},
                    ],
                },
                {
                    "id": "hall",
                    "name": "Town hall",
                    "village_core": "Testdorp",
                    "opening_hours": every_weekday,
                    "devices": [{"id": "pc-01", "kind": "pc"}],
                },
            ],
        },
        KINDS,
    )


def _state() -> FleetState:
    loaded = _loaded()
    return FleetState(loaded.devices, {device.key: 180.0 for device in loaded.devices})


def _status(state: FleetState, key: DeviceKey, now: float) -> DeviceStatus:
    view = state.view(key)
    assert view is not None
    return device_status(view, now)


def test_a_device_that_answers_is_up() -> None:
    state = _state()
    state.record_heartbeat(LIB_PC, ORDINARY_MONDAY - 60)
    status = _status(state, LIB_PC, ORDINARY_MONDAY)
    assert (status.state, status.reason, status.since) == (
        DeviceState.UP,
        "answering",
        ORDINARY_MONDAY - 60,
    )


def test_a_device_never_heard_from_while_open_is_unknown() -> None:
    status = _status(_state(), LIB_PC, ORDINARY_MONDAY)
    assert (status.state, status.reason) == (DeviceState.UNKNOWN, "never_seen")


def test_a_device_gone_offline_while_open_is_down_and_says_why() -> None:
    state = _state()
    state.record_heartbeat(LIB_PC, ORDINARY_MONDAY - 600)
    state.record_availability(LIB_PC, Availability.OFFLINE, ORDINARY_MONDAY - 60)
    status = _status(state, LIB_PC, ORDINARY_MONDAY)
    assert (status.state, status.reason, status.since) == (
        DeviceState.DOWN,
        "offline",
        ORDINARY_MONDAY - 60,
    )


def test_a_silent_device_while_open_is_down_without_heartbeat() -> None:
    state = _state()
    state.record_heartbeat(LIB_PC, ORDINARY_MONDAY - 600)
    state.expire_heartbeats(ORDINARY_MONDAY)
    status = _status(state, LIB_PC, ORDINARY_MONDAY)
    assert (status.state, status.reason) == (DeviceState.DOWN, "no_heartbeat")


def test_a_failed_poll_while_open_gives_its_reason() -> None:
    state = _state()
    state.record_poll_failure(LIB_PC, "timeout", ORDINARY_MONDAY - 120)
    state.record_poll_failure(LIB_PC, "timeout", ORDINARY_MONDAY - 60)
    status = _status(state, LIB_PC, ORDINARY_MONDAY)
    assert (status.state, status.reason, status.since) == (
        DeviceState.DOWN,
        "timeout",
        ORDINARY_MONDAY - 120,
    )


def test_a_device_off_at_night_is_scheduled_off() -> None:
    state = _state()
    state.record_availability(LIB_PC, Availability.OFFLINE, MONDAY_NIGHT - 3600)
    status = _status(state, LIB_PC, MONDAY_NIGHT)
    assert (status.state, status.reason) == (DeviceState.SCHEDULED_OFF, "closed")


def test_a_device_off_on_a_municipal_holiday_is_scheduled_off_for_a_closure() -> None:
    state = _state()
    state.record_availability(HALL_PC, Availability.OFFLINE, EASTER_MONDAY - 3600)
    status = _status(state, HALL_PC, EASTER_MONDAY)
    assert (status.state, status.reason) == (DeviceState.SCHEDULED_OFF, "closure")


def test_a_sites_own_closure_covers_that_site_only() -> None:
    state = _state()
    for key in (LIB_PC, HALL_PC):
        state.record_availability(key, Availability.OFFLINE, LIBRARY_CLOSURE - 3600)
    library = _status(state, LIB_PC, LIBRARY_CLOSURE)
    hall = _status(state, HALL_PC, LIBRARY_CLOSURE)
    assert (library.state, library.reason) == (DeviceState.SCHEDULED_OFF, "closure")
    assert (hall.state, hall.reason) == (DeviceState.DOWN, "offline")
    # The closure is a range: its last day too.
    next_day = _status(state, LIB_PC, LIBRARY_CLOSURE + 86400)
    assert next_day.reason == "closure"


def test_a_device_up_on_a_closed_day_is_still_up() -> None:
    state = _state()
    state.record_heartbeat(LIB_PC, EASTER_MONDAY - 60)
    assert _status(state, LIB_PC, EASTER_MONDAY).state is DeviceState.UP


# -- the metric ---------------------------------------------------------------------


def _state_samples(state: FleetState, now: float) -> dict[tuple[str, str], dict[str, str]]:
    collector = FleetCollector(lambda: state, KINDS, lambda kind: "ocrfleet-pc", ManualClock(now))
    families: list[Metric] = [m for m in collector.collect() if m.name == "ocrfleet_device_state"]
    (family,) = families
    assert family.type == "gauge"
    samples: dict[tuple[str, str], dict[str, str]] = {}
    for sample in family.samples:
        assert sample.value == 1.0
        key = (sample.labels["site"], sample.labels["device"])
        assert key not in samples, "one series per device"
        samples[key] = sample.labels
    return samples


def test_the_metric_gives_each_devices_state_and_reason() -> None:
    state = _state()
    state.record_heartbeat(LIB_PC, ORDINARY_MONDAY - 60)
    state.record_availability(HALL_PC, Availability.OFFLINE, ORDINARY_MONDAY - 60)
    samples = _state_samples(state, ORDINARY_MONDAY)
    assert samples == {
        ("lib", "pc-01"): {
            "site": "lib",
            "device": "pc-01",
            "kind": "pc",
            "state": "up",
            "reason": "answering",
        },
        ("lib", "laptop-01"): {
            "site": "lib",
            "device": "laptop-01",
            "kind": "laptop",
            "state": "unknown",
            "reason": "never_seen",
        },
        ("hall", "pc-01"): {
            "site": "hall",
            "device": "pc-01",
            "kind": "pc",
            "state": "down",
            "reason": "offline",
        },
    }


def test_the_metric_follows_the_clock_to_closing_time() -> None:
    state = _state()
    state.record_availability(HALL_PC, Availability.OFFLINE, ORDINARY_MONDAY - 60)
    assert _state_samples(state, MONDAY_NIGHT)[("hall", "pc-01")]["state"] == "scheduled_off"
    assert _state_samples(state, EASTER_MONDAY)[("hall", "pc-01")]["reason"] == "closure"


class _BrokenKind(PcKind):
    def expected_off(self, device: DeviceView, now: float) -> str | None:
        raise RuntimeError("a plugin bug")


class _NappingKind(PcKind):
    def expected_off(self, device: DeviceView, now: float) -> str | None:
        return "napping"


def test_a_kind_may_say_its_device_is_expected_off_while_the_site_is_open() -> None:
    state = _state()
    state.record_poll_failure(LIB_PC, "timeout", ORDINARY_MONDAY - 60)
    view = state.view(LIB_PC)
    assert view is not None
    status = device_status(view, ORDINARY_MONDAY, _NappingKind())
    assert (status.state, status.reason, status.since) == (
        DeviceState.SCHEDULED_OFF,
        "napping",
        ORDINARY_MONDAY - 60,
    )
    # Up is up, whatever the kind expects.
    state.record_heartbeat(LIB_PC, ORDINARY_MONDAY)
    view = state.view(LIB_PC)
    assert view is not None
    assert device_status(view, ORDINARY_MONDAY, _NappingKind()).state is DeviceState.UP


def test_a_kind_that_fails_to_say_leaves_its_device_down(caplog: pytest.LogCaptureFixture) -> None:
    state = _state()
    state.record_poll_failure(LIB_PC, "timeout", ORDINARY_MONDAY - 60)
    view = state.view(LIB_PC)
    assert view is not None
    status = device_status(view, ORDINARY_MONDAY, _BrokenKind())
    assert (status.state, status.reason) == (DeviceState.DOWN, "timeout")
    assert "failed to say whether lib/pc-01 is expected off" in caplog.text


def test_one_schedule_per_site_reaches_every_consumer() -> None:
    loaded = _loaded()
    for device in loaded.devices:
        assert device.schedule is loaded.schedules[device.site]
