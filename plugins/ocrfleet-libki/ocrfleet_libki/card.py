"""A Libki server on the status pages: its location's computers, in use, reserved and free.

Only a server that answers gets facts: the last reading of one that stopped
answering says nothing about now (the core says it is down).
"""

from __future__ import annotations

from ocrfleet.plugin import Catalog, DeviceView, StatusCard, Words
from ocrfleet_libki.reading import ClientState, LibkiReading

_ = Catalog("ocrfleet_libki")
_n = _.plural


def libki_card(device: DeviceView) -> StatusCard:
    reading = device.reading
    if not isinstance(reading, LibkiReading) or device.failure is not None:
        return StatusCard()
    in_use = reading.count(ClientState.IN_USE)
    reserved = reading.count(ClientState.RESERVED)
    available = reading.count(ClientState.AVAILABLE)
    running = in_use + reserved + available
    facts: list[Words] = [
        _n(
            "{n} of {total} computer in use",
            "{n} of {total} computers in use",
            "total",
            n=in_use,
            total=running,
        ),
        _n("{n} reserved", "{n} reserved", "n", n=reserved),
        _n("{n} free without a reservation", "{n} free without a reservation", "n", n=available),
    ]
    # The guide: at least one computer must always be usable without a
    # reservation. A room full of visitors is no breach; one held by
    # reservations is.
    if reserved and not available:
        condition = _("No computer free without a reservation — keep one for walk-in visitors")
        return StatusCard(condition, "warning", (), tuple(facts))
    return StatusCard(facts=tuple(facts))
