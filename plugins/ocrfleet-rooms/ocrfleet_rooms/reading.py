"""What a room sensor last said."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoomReading:
    """One message of a room sensor; None for what it did not say.

    `entries` and `exits` are running totals kept by the counter itself
    (they only grow, except when the counter is reset).
    """

    occupied: bool | None = None
    people: int | None = None
    entries: int | None = None
    exits: int | None = None
    battery_percent: float | None = None
    linkquality: int | None = None
