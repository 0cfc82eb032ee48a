"""FleetState keeps each device's aspects, replaced whole, across reloads."""

from __future__ import annotations

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import Availability, FleetState

A = DeviceKey("site-a", "pc-1")
B = DeviceKey("site-a", "pc-2")
C = DeviceKey("site-b", "pc-3")


def _devices(*keys: DeviceKey) -> list[DeviceInfo]:
    return [DeviceInfo(key, "pc") for key in keys]


def _state(*keys: DeviceKey) -> FleetState:
    return FleetState(_devices(*keys), {key: 60.0 for key in keys})


def _start(session_id: str, at: float) -> SessionEvent:
    return SessionEvent(SessionEventType.START, session_id, at)


def test_a_reading_is_the_devices_heartbeat_and_clears_its_poll_failure() -> None:
    state = _state(A)
    state.record_poll_failure(A, "timeout", 100.0)
    state.record_reading(A, {"cpu": 0.5}, 110.0)

    view = state.view(A)
    assert view is not None
    assert (view.reading, view.reading_at, view.last_seen) == ({"cpu": 0.5}, 110.0, 110.0)
    assert view.failure is None
    assert (view.presence.up, view.presence.since) == (True, 110.0)
    assert state.last_seen() == {A: 110.0}


def test_a_reading_does_not_bring_back_a_device_that_said_it_is_offline() -> None:
    state = _state(A)
    state.record_availability(A, Availability.OFFLINE, 100.0)
    state.record_reading(A, "late", 110.0)

    view = state.view(A)
    assert view is not None
    assert view.presence.availability is Availability.OFFLINE
    assert not view.presence.up
    assert view.reading == "late"


def test_an_update_leaves_the_other_devices_aspects_the_same_objects() -> None:
    # The /metrics renderer re-renders only devices whose aspects are new objects.
    state = _state(A, B)
    state.record_reading(A, "a1", 100.0)
    state.record_reading(B, "b1", 100.0)
    before_a, before_b = state.view(A), state.view(B)
    state.record_reading(A, "a2", 160.0)
    after_a, after_b = state.view(A), state.view(B)

    assert before_a is not None and before_b is not None
    assert after_a is not None and after_b is not None
    for aspect in ("presence", "reading", "reading_at", "last_seen", "usage", "failure"):
        assert getattr(after_b, aspect) is getattr(before_b, aspect), aspect
    assert after_a.reading == "a2" and after_a.reading_at == 160.0
    assert after_a.presence is before_a.presence  # still up since 100


def test_a_reload_keeps_the_state_of_devices_still_there_and_drops_the_others() -> None:
    state = _state(A, B)
    state.record_reading(A, "a1", 100.0)
    state.record_reading(B, "b1", 100.0)
    state.record_session(A, _start("s1", 90.0), new_session=True)

    state.replace_devices(_devices(A, C), {A: 60.0, C: 60.0})

    a, c = state.view(A), state.view(C)
    assert a is not None and c is not None
    assert (a.reading, a.last_seen, a.usage.session_id) == ("a1", 100.0, "s1")
    assert (c.reading, c.last_seen, c.presence.up) == (None, None, False)
    assert state.view(B) is None
    assert state.last_seen() == {A: 100.0}

    # A message for the removed device still in flight changes nothing.
    state.record_reading(B, "b2", 120.0)
    state.record_heartbeat(B, 120.0)
    assert state.view(B) is None
    assert state.last_seen() == {A: 100.0}
    assert [view.info.key for view in state.snapshot(130.0).devices] == [A, C]


def test_a_device_added_by_a_reload_is_removed_again_without_its_old_reading() -> None:
    state = _state(A)
    state.record_reading(A, "a1", 100.0)
    state.replace_devices(_devices(B), {B: 60.0})
    state.replace_devices(_devices(A, B), {A: 60.0, B: 60.0})

    view = state.view(A)
    assert view is not None
    assert (view.reading, view.last_seen) == (None, None)


def test_a_heartbeat_timeout_marks_only_the_silent_device_down() -> None:
    state = _state(A, B)
    state.record_reading(A, "a", 100.0)
    state.record_reading(B, "b", 150.0)

    assert state.expire_heartbeats(170.0) == [A]

    a, b = state.view(A), state.view(B)
    assert a is not None and b is not None
    assert (a.presence.up, a.presence.since) == (False, 170.0)
    assert b.presence.up
    assert state.expire_heartbeats(171.0) == []


def test_sessions_seed_count_and_expire() -> None:
    state = _state(A, B)
    state.restore_usage(A, _start("old", 10.0), sessions_total=4)
    state.record_session(B, _start("new", 500.0), new_session=True)

    assert state.expire_sessions(opened_before=100.0) == [A]
    a, b = state.view(A), state.view(B)
    assert a is not None and b is not None
    assert (a.usage.in_use, a.usage.sessions_total) == (False, 4)
    assert (b.usage.in_use, b.usage.session_id, b.usage.sessions_total) == (True, "new", 1)
