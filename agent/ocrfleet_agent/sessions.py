"""Visitor sessions: what a session source sees, turned into start and end events.

Only "in use or not" is ever looked at: user names never leave the OS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from ocrfleet_agent.journal import Journal
from ocrfleet_agent.payloads import SessionMessage


@dataclass(frozen=True, slots=True)
class Usage:
    """Whether a visitor is using the PC now, and since when that is so, if known.

    `since` dates the change: an input-activity source ends a session at the
    last input, not when the idle time ran out.
    """

    in_use: bool
    since: float | None = None


class SessionSource(Protocol):
    """Where the agent learns that a visitor sits down and leaves."""

    name: str

    def read(self, now: float) -> Usage | None:
        """The usage now; None when this source leaves sessions to someone else."""


class SessionTracker:
    """Turns a series of readings into start and end events, journaled before sending."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def update(self, usage: Usage, now: float) -> SessionMessage | None:
        open_session = self._journal.open_session
        at = min(now, usage.since) if usage.since is not None else now
        if usage.in_use and open_session is None:
            return self._journal.record("start", uuid.uuid4().hex, at)
        if not usage.in_use and open_session is not None:
            started = open_session.started_at
            return self._journal.record("end", open_session.session_id, started, max(at, started))
        return None
