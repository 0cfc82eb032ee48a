"""Numbered session events (interface version 2) are applied once each, in order per stream."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.store.sequencer import MAX_HELD, Plan, Sequencer

KEY = DeviceKey("lib", "pc-01")
OTHER = DeviceKey("lib", "pc-02")


def numbered(seq: int, stream: str = "s1", oldest: int | None = None) -> SessionEvent:
    return SessionEvent(
        SessionEventType.START,
        f"{stream}-{seq}",
        1_700_000_000.0 + seq,
        stream=stream,
        seq=seq,
        oldest=oldest,
    )


def fresh(positions: dict[tuple[DeviceKey, str], int] | None = None) -> Sequencer:
    known = positions or {}
    return Sequencer(lambda key, stream: known.get((key, stream), 0))


def applied(plan: Plan) -> list[int | None]:
    return [event.seq for _, event in plan.apply]


def step(sequencer: Sequencer, events: Iterable[SessionEvent], key: DeviceKey = KEY) -> Plan:
    plan = sequencer.plan((key, event) for event in events)
    sequencer.adopt(plan)
    return plan


def test_in_order_events_are_applied_at_once() -> None:
    sequencer = fresh()
    plan = step(sequencer, [numbered(1), numbered(2), numbered(3)])
    assert applied(plan) == [1, 2, 3]
    assert plan.positions == {(KEY, "s1"): 3}
    assert (plan.duplicates, plan.skipped, plan.dropped) == (0, 0, 0)
    assert sequencer.position(KEY, "s1") == 3
    assert sequencer.held == 0


def test_reversed_batch_is_put_in_order() -> None:
    plan = step(fresh(), [numbered(3), numbered(2), numbered(1)])
    assert applied(plan) == [1, 2, 3]


def test_early_events_wait_across_batches() -> None:
    sequencer = fresh()
    plan = step(sequencer, [numbered(3)])
    assert applied(plan) == []
    assert plan.positions == {(KEY, "s1"): 0}
    assert sequencer.held == 1
    assert applied(step(sequencer, [numbered(2)])) == []
    assert sequencer.held == 2
    assert applied(step(sequencer, [numbered(1)])) == [1, 2, 3]
    assert sequencer.held == 0
    assert sequencer.position(KEY, "s1") == 3


def test_duplicates_are_counted_not_applied() -> None:
    sequencer = fresh()
    step(sequencer, [numbered(1), numbered(2)])
    plan = step(sequencer, [numbered(1), numbered(2), numbered(2), numbered(3)])
    assert applied(plan) == [3]
    assert plan.duplicates == 3
    # An early event sent twice is one held event and one duplicate.
    plan = step(sequencer, [numbered(5), numbered(5)])
    assert applied(plan) == []
    assert plan.duplicates == 1
    assert sequencer.held == 1
    plan = step(sequencer, [numbered(5)])
    assert plan.duplicates == 1
    assert applied(step(sequencer, [numbered(4)])) == [4, 5]


def test_a_duplicate_within_one_batch_is_applied_once() -> None:
    plan = step(fresh(), [numbered(1), numbered(1), numbered(2), numbered(1)])
    assert applied(plan) == [1, 2]
    assert plan.duplicates == 2


def test_oldest_above_the_gap_ends_the_wait() -> None:
    sequencer = fresh()
    assert applied(step(sequencer, [numbered(3)])) == []
    # The agent no longer holds anything below 5 (its journal overflowed):
    # 1, 2 and 4 will never come; 3 is applied, then 5 and 6 in order.
    plan = step(sequencer, [numbered(6, oldest=5), numbered(5, oldest=5)])
    assert applied(plan) == [3, 5, 6]
    assert plan.skipped == 3
    assert sequencer.position(KEY, "s1") == 6
    assert sequencer.held == 0


def test_oldest_only_moves_the_position_up_to_below_itself() -> None:
    sequencer = fresh()
    plan = step(sequencer, [numbered(7, oldest=5)])
    # 5 and 6 are still held by the agent: they are waited for.
    assert applied(plan) == []
    assert plan.skipped == 4
    assert plan.positions == {(KEY, "s1"): 4}
    assert applied(step(sequencer, [numbered(6, oldest=5), numbered(5, oldest=5)])) == [5, 6, 7]


def test_oldest_at_or_below_the_position_changes_nothing() -> None:
    sequencer = fresh()
    step(sequencer, [numbered(1), numbered(2)])
    plan = step(sequencer, [numbered(4, oldest=1)])
    assert applied(plan) == []
    assert plan.skipped == 0
    assert sequencer.position(KEY, "s1") == 2


def test_held_events_are_bounded() -> None:
    sequencer = fresh()
    early = [numbered(seq) for seq in range(2, MAX_HELD + 12)]
    plan = step(sequencer, early)
    assert applied(plan) == []
    assert plan.dropped == 10, "the newest beyond MAX_HELD are let go"
    assert sequencer.held == MAX_HELD
    plan = step(sequencer, [numbered(1)])
    assert applied(plan) == list(range(1, MAX_HELD + 2))
    assert sequencer.held == 0
    # What was let go is sent again by its agent and applied then.
    plan = step(sequencer, [numbered(seq) for seq in range(MAX_HELD + 2, MAX_HELD + 12)])
    assert applied(plan) == list(range(MAX_HELD + 2, MAX_HELD + 12))
    assert plan.duplicates == 0


def test_plan_without_adopt_changes_nothing() -> None:
    sequencer = fresh()
    first = sequencer.plan([(KEY, numbered(2)), (KEY, numbered(1))])
    assert applied(first) == [1, 2]
    # The transaction failed: planning the same batch again gives the same plan.
    again = sequencer.plan([(KEY, numbered(2)), (KEY, numbered(1))])
    assert applied(again) == [1, 2]
    assert again.duplicates == 0
    assert sequencer.position(KEY, "s1") == 0
    # Nor does an unadopted plan leave its early events held.
    sequencer.plan([(KEY, numbered(5))])
    assert sequencer.held == 0
    assert applied(sequencer.plan([(KEY, numbered(1))])) == [1]
    # A held event survives a failed plan that would have applied it.
    step(sequencer, [numbered(2)])
    assert applied(sequencer.plan([(KEY, numbered(1))])) == [1, 2]
    assert sequencer.held == 1
    assert applied(step(sequencer, [numbered(1)])) == [1, 2]


def test_positions_come_from_the_store_once_per_stream() -> None:
    calls: list[tuple[DeviceKey, str]] = []

    def load(key: DeviceKey, stream: str) -> int:
        calls.append((key, stream))
        return 7 if (key, stream) == (KEY, "s1") else 0

    sequencer = Sequencer(load)
    plan = step(sequencer, [numbered(7), numbered(8)])
    assert applied(plan) == [8]
    assert plan.duplicates == 1
    step(sequencer, [numbered(9), numbered(1, stream="s2")])
    assert applied(step(sequencer, [numbered(1, stream="s2")], key=OTHER)) == [1]
    assert calls == [(KEY, "s1"), (KEY, "s2"), (OTHER, "s2")]


def test_streams_and_devices_are_independent() -> None:
    sequencer = fresh()
    plan = sequencer.plan(
        [
            (KEY, numbered(2, stream="a")),
            (OTHER, numbered(1, stream="a")),
            (KEY, numbered(1, stream="b")),
        ]
    )
    sequencer.adopt(plan)
    assert [(key, event.stream, event.seq) for key, event in plan.apply] == [
        (OTHER, "a", 1),
        (KEY, "b", 1),
    ]
    assert plan.positions == {(KEY, "a"): 0, (OTHER, "a"): 1, (KEY, "b"): 1}
    assert sequencer.held == 1


def test_version_1_events_pass_through_in_arrival_order() -> None:
    sequencer = fresh()
    v1 = [SessionEvent(SessionEventType.START, f"v1-{n}", 1_700_000_000.0 + n) for n in (3, 1)]
    plan = step(sequencer, [v1[0], numbered(2), v1[1]])
    assert [event.session_id for _, event in plan.apply] == ["v1-3", "v1-1"]
    assert plan.positions == {(KEY, "s1"): 0}


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, int, list[list[int]], list[bool]]:
    """A stream's events as they might arrive: any order, any number of times each,
    split into batches, some of whose transactions fail."""
    position = draw(st.integers(0, 5))
    count = draw(st.integers(1, 40))
    wanted = list(range(position + 1, position + count + 1))
    extra = draw(st.lists(st.integers(1, position + count), max_size=60))
    arrivals = draw(st.permutations(wanted + extra))
    cuts = sorted(draw(st.lists(st.integers(0, len(arrivals)), max_size=10)))
    batches = [arrivals[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrivals)], strict=True)]
    failures = draw(st.lists(st.booleans(), min_size=len(batches), max_size=len(batches)))
    return position, count, batches, failures


@settings(max_examples=300, deadline=None)
@given(deliveries())
def test_any_arrival_order_applies_each_event_once_in_order(
    case: tuple[int, int, list[list[int]], list[bool]],
) -> None:
    position, count, batches, failures = case
    sequencer = fresh({(KEY, "s1"): position})
    seen: list[int | None] = []
    duplicates = 0
    for batch, fails in zip(batches, failures, strict=True):
        events = [(KEY, numbered(seq)) for seq in batch]
        if fails:
            sequencer.plan(events)  # its transaction rolled back
        plan = sequencer.plan(events)
        sequencer.adopt(plan)
        seen.extend(applied(plan))
        duplicates += plan.duplicates
        assert plan.skipped == 0 and plan.dropped == 0
    assert seen == list(range(position + 1, position + count + 1))
    assert duplicates == sum(len(batch) for batch in batches) - count
    assert sequencer.held == 0
    assert sequencer.position(KEY, "s1") == position + count
