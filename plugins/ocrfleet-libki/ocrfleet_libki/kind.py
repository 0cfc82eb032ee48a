"""The libki device kind: a Libki server, polled over HTTP, for one location.

Each Libki client is a computer with a name; the client named like a seat
device of the site (or mapped to one in `seat_names`) is that seat. The
sessions Libki lists become the seats' sessions, through the core
(`seat_sessions`), exactly as sessions sent over MQTT would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, Field

from ocrfleet.plugin import (
    Catalog,
    DeviceKey,
    DeviceKind,
    HttpDeviceOptions,
    MetricSpec,
    RateLimitedLog,
    Sample,
    SessionEvent,
    SessionEventType,
    StatusCard,
    Text,
)
from ocrfleet_libki.api import (
    CLIENTS,
    CLIENTS_PATH,
    RESERVATIONS,
    RESERVATIONS_PARAMS,
    RESERVATIONS_PATH,
    build_reading,
    reserved_clients,
    validated,
)
from ocrfleet_libki.card import libki_card
from ocrfleet_libki.reading import ClientState, LibkiReading

if TYPE_CHECKING:
    from ocrfleet.plugin import DeviceInfo, DeviceView, HttpClient

_ = Catalog("ocrfleet_libki")
log = logging.getLogger(__name__)

CLIENTS_METRIC = "ocrfleet_libki_clients"
UNMATCHED_METRIC = "ocrfleet_libki_unmatched_clients"


class LibkiOptions(HttpDeviceOptions):
    """`url` (the Libki server) and the other HTTP options, and these."""

    location: str | None = Field(
        default=None,
        min_length=1,
        description="the Libki location code whose clients are this site's; "
        "unset: every client of the server",
    )
    seat_names: dict[str, str] = Field(
        default_factory=dict,
        description="Libki client name -> seat device id, for clients not named "
        "like their seat (by default the client's name in lower case)",
    )
    reservations: bool = Field(
        default=True,
        description="also read which clients are reserved (/api/public/datatables/clients)",
    )


class LibkiKind(DeviceKind):
    name: ClassVar[str] = "libki"
    description: ClassVar[str] = (
        "a Libki server polled over HTTP: its clients' sessions become the seats' "
        "sessions; clients in use, reserved and free per location"
    )
    title: ClassVar[Text] = _("Reservation system")
    source: ClassVar[str | None] = "http"
    options_model: ClassVar[type[BaseModel]] = LibkiOptions
    # A server somewhere, not a device in the room.
    monthly_maintenance: ClassVar[bool] = False
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec(
            CLIENTS_METRIC,
            "Libki clients of the location by state: in_use, reserved (free but held "
            "for a reservation), available (free for a walk-in visitor), offline.",
            labels=("state",),
        ),
        MetricSpec(
            UNMATCHED_METRIC,
            "Libki clients of the location whose name matches no seat of the site: "
            "their sessions are not counted.",
        ),
    )

    def __init__(self) -> None:
        # The site's seat ids per Libki device, as the core last gave them;
        # used on the event loop only (poll and seat_sessions).
        self._seats: dict[DeviceKey, frozenset[str]] = {}
        self._log = RateLimitedLog(log, interval=600.0)

    async def poll(self, device: DeviceInfo, client: HttpClient, previous: object | None) -> object:
        options: LibkiOptions = device.options
        records = validated(CLIENTS, await client.get_json(CLIENTS_PATH), CLIENTS_PATH)
        reserved: set[int] = set()
        if options.reservations:
            answer = await client.get_json(RESERVATIONS_PATH, RESERVATIONS_PARAMS)
            reserved = reserved_clients(validated(RESERVATIONS, answer, RESERVATIONS_PATH))
        return build_reading(
            records,
            reserved,
            location=options.location,
            seat_names=options.seat_names,
            seats=self._seats.get(device.key),
            previous=previous if isinstance(previous, LibkiReading) else None,
            now=time.time(),
        )

    def seat_sessions(
        self, device: DeviceInfo, reading: object, seats: frozenset[str]
    ) -> Mapping[str, SessionEvent | None]:
        self._seats[device.key] = seats
        if not isinstance(reading, LibkiReading):
            return {}
        sessions: dict[str, SessionEvent | None] = {}
        unknown = []
        for client in reading.clients:
            if client.seat not in seats:
                unknown.append(client.name)
            elif client.session_id is None:
                sessions.setdefault(client.seat, None)
            else:
                started = client.session_seen_at or time.time()
                sessions[client.seat] = SessionEvent(
                    SessionEventType.START, client.session_id, started
                )
        if unknown:
            self._log.warning(
                str(device.key),
                "%s: Libki clients %s match no seat of site %s; name the seat devices like "
                "the clients, or map them in the option seat_names",
                device.key,
                _listed(unknown),
                device.site,
            )
        return sessions

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        reading = device.reading
        if not isinstance(reading, LibkiReading) or device.failure is not None:
            return  # not polled yet, or Libki does not answer: nothing current
        for state in ClientState:
            yield Sample(CLIENTS_METRIC, float(reading.count(state)), (state.value,))
        if reading.unmatched is not None:
            yield Sample(UNMATCHED_METRIC, float(reading.unmatched))

    def describe(self, reading: object) -> str:
        if not isinstance(reading, LibkiReading):
            return repr(reading)
        counts = ", ".join(f"{reading.count(s)} {s.value}" for s in ClientState)
        return f"{len(reading.clients)} clients: {counts}"

    def status_card(self, device: DeviceView) -> StatusCard:
        return libki_card(device)


def _listed(names: list[str], most: int = 20) -> str:
    # The names come from the Libki server: a long list is cut short.
    shown = ", ".join(sorted(names)[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"
