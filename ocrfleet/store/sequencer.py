"""Numbered session events (interface version 2), put back in order per device and stream.

A redelivered or re-sent event may arrive after later ones of its device. A
start taken before the end of the session before it would close that
session at the wrong time, and the real end would then look like a
duplicate; so events are applied strictly in `seq` order per (device,
stream), and one that comes early waits here until the ones before it arrive.
Its source re-sends everything unacknowledged, so a gap fills by itself; a
source that says it no longer holds the missing events (`oldest` above the
gap) lets the wait end at once.

Runs on the store writer's thread only. `plan` decides without changing
anything, so a batch whose transaction fails can be planned again; `adopt`
takes the plan once its transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent

StreamKey = tuple[DeviceKey, str]
# Early events kept per stream; beyond that the newest are let go (their
# source sends them again) so a flood cannot grow memory without bound.
MAX_HELD = 1_000


@dataclass
class Plan:
    """What one batch does: events to apply in order, and where each stream then stands."""

    apply: list[tuple[DeviceKey, SessionEvent]] = field(default_factory=list)
    positions: dict[StreamKey, int] = field(default_factory=dict)
    held: dict[StreamKey, dict[int, SessionEvent]] = field(default_factory=dict)
    duplicates: int = 0
    skipped: int = 0  # numbers given up on: their source no longer holds them
    dropped: int = 0  # early events let go beyond MAX_HELD


class Sequencer:
    def __init__(self, load_position: Callable[[DeviceKey, str], int]) -> None:
        self._load_position = load_position
        self._positions: dict[StreamKey, int] = {}
        self._held: dict[StreamKey, dict[int, SessionEvent]] = {}
        # Kept as a plain int: scrapes read it from another thread.
        self.held = 0

    def position(self, key: DeviceKey, stream: str) -> int:
        """The highest number committed for this stream (0 for a new stream)."""
        stream_key = (key, stream)
        if stream_key not in self._positions:
            self._positions[stream_key] = self._load_position(key, stream)
        return self._positions[stream_key]

    def plan(self, events: Iterable[tuple[DeviceKey, SessionEvent]]) -> Plan:
        plan = Plan()
        numbered: dict[StreamKey, list[SessionEvent]] = {}
        for key, event in events:
            if event.stream is None or event.seq is None:
                plan.apply.append((key, event))  # version 1: in arrival order
            else:
                numbered.setdefault((key, event.stream), []).append(event)
        for stream_key, stream_events in numbered.items():
            self._plan_stream(plan, stream_key, stream_events)
        return plan

    def _plan_stream(self, plan: Plan, stream_key: StreamKey, events: list[SessionEvent]) -> None:
        key, stream = stream_key
        position = self.position(key, stream)
        held = dict(self._held.get(stream_key, {}))
        for event in events:
            seq = event.seq or 0
            if seq <= position or seq in held:
                plan.duplicates += 1
            else:
                held[seq] = event
        oldest = max((e.oldest for e in events if e.oldest is not None), default=0)
        if oldest - 1 > position:
            plan.skipped += oldest - 1 - position - sum(1 for s in held if s < oldest)
            for seq in sorted(s for s in held if s < oldest):
                plan.apply.append((key, held.pop(seq)))
            position = oldest - 1
        while position + 1 in held:
            position += 1
            plan.apply.append((key, held.pop(position)))
        if len(held) > MAX_HELD:
            for seq in sorted(held)[MAX_HELD:]:
                del held[seq]
                plan.dropped += 1
        plan.held[stream_key] = held
        plan.positions[stream_key] = position

    def adopt(self, plan: Plan) -> None:
        """The plan's transaction committed: its positions and held events are now true."""
        self._positions.update(plan.positions)
        for stream_key, held in plan.held.items():
            if held:
                self._held[stream_key] = held
            else:
                self._held.pop(stream_key, None)
        self.held = sum(len(events) for events in self._held.values())
