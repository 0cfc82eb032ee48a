"""What one poll of a Libki server says about the clients of one location."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ClientState(StrEnum):
    """One client as the front desk sees it; the `state` label of the clients metric."""

    IN_USE = "in_use"  # someone is logged in
    RESERVED = "reserved"  # free, but held for someone who reserved it
    AVAILABLE = "available"  # free for a walk-in visitor
    OFFLINE = "offline"  # the Libki client program does not run on it


@dataclass(frozen=True, slots=True)
class LibkiClient:
    """One Libki client (a computer), without anything about who uses it."""

    name: str
    seat: str  # the seat device id it stands for at the site
    state: ClientState
    # Derived from Libki's session id (never a user name or card number);
    # None when nobody is logged in.
    session_id: str | None = None
    # When this session was first seen: Libki does not say when it began.
    session_seen_at: float | None = None


@dataclass(frozen=True, slots=True)
class LibkiReading:
    clients: tuple[LibkiClient, ...]
    # Clients whose name matches no seat of the site; None until the
    # site's seats are known (after the first poll).
    unmatched: int | None = None

    def count(self, state: ClientState) -> int:
        return sum(1 for client in self.clients if client.state is state)
