"""Libki's JSON answers, as the server gives them, and the reading made of them.

The shapes come from libki-server's controllers: `GET /api/v2/clients`
(lib/Libki/Controller/API/V2/Clients.pm, `_serialize_client`) lists every
client with its location, status and current session; `GET
/api/public/datatables/clients` (lib/Libki/Controller/API/Public/Datatables.pm)
lists the online clients in DataTables' row format, the reservation's start
in column "7". Both answer without a login. Only what is listed below is
read; the reservation rows also carry the user's name, which is dropped
unread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ocrfleet.plugin import PollError
from ocrfleet_libki.reading import ClientState, LibkiClient, LibkiReading

CLIENTS_PATH = "api/v2/clients"
RESERVATIONS_PATH = "api/public/datatables/clients"
# Every row at once: DataTables pages by `length`, and -1 is "all".
RESERVATIONS_PARAMS = MappingProxyType({"draw": "1", "start": "0", "length": "-1"})
# Statuses of a client that cannot be used; the others ("online", and the
# commands pending for an online client: "restart", "shutdown", ...) can.
_NOT_RUNNING = frozenset({"offline", "suspended"})

_T = TypeVar("_T")


class LibkiSession(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int = Field(description="Libki's session id")


class LibkiClientRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str = Field(min_length=1)
    location: str | None = None  # the location's code
    status: str | None = None
    current_session: LibkiSession | None = None


class ReservationRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_id: int = Field(alias="DT_RowId")
    reserved_from: str | None = Field(default=None, alias="7")


class ReservationTable(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: list[ReservationRow]


CLIENTS = TypeAdapter(list[LibkiClientRecord])
RESERVATIONS = TypeAdapter(ReservationTable)


def validated(adapter: TypeAdapter[_T], answer: Any, path: str) -> _T:
    """The answer in its expected shape, or a PollError naming the first thing wrong."""
    try:
        return adapter.validate_python(answer)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PollError("protocol", f"{path}: {where}: {first['msg']}{more}") from None


def session_key(client: str, libki_session: str | int) -> str:
    """The session id ocrfleet stores: stable for one Libki session, and telling nothing.

    Libki's own id is its login cookie's: it must not end up in a database.
    """
    digest = hashlib.sha256(f"{client}\n{libki_session}".encode()).hexdigest()
    return f"libki-{digest[:24]}"


def seat_of(client: str, seat_names: Mapping[str, str]) -> str:
    """The seat device id a client stands for: as configured, else its name in lower case."""
    return seat_names.get(client, client.lower())


def build_reading(
    records: list[LibkiClientRecord],
    reserved: Collection[int],
    *,
    location: str | None,
    seat_names: Mapping[str, str],
    seats: frozenset[str] | None,
    previous: LibkiReading | None,
    now: float,
) -> LibkiReading:
    """The clients of `location` (every client when None), by state.

    A session seen before keeps the time it was first seen; `seats` (the
    site's seat ids, once known) tells which clients match none.
    """
    seen_before = {
        client.session_id: client.session_seen_at
        for client in (previous.clients if previous is not None else ())
        if client.session_id is not None
    }
    clients = []
    for record in records:
        if location is not None and record.location != location:
            continue
        session_id = None
        if record.current_session is not None:
            session_id = session_key(record.name, record.current_session.id)
            state = ClientState.IN_USE
        elif (record.status or "offline") in _NOT_RUNNING:
            state = ClientState.OFFLINE
        elif record.id in reserved:
            state = ClientState.RESERVED
        else:
            state = ClientState.AVAILABLE
        seen_at = seen_before.get(session_id, now) if session_id is not None else None
        clients.append(
            LibkiClient(record.name, seat_of(record.name, seat_names), state, session_id, seen_at)
        )
    unmatched = None if seats is None else sum(1 for c in clients if c.seat not in seats)
    return LibkiReading(tuple(clients), unmatched)


def reserved_clients(table: ReservationTable) -> set[int]:
    """The ids of the clients with a reservation waiting."""
    return {row.client_id for row in table.data if row.reserved_from is not None}
