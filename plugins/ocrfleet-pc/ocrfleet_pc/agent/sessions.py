"""Visitor sessions from the number of logged-in OS sessions.

Only a count is ever looked at: user names never leave the OS.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

from ocrfleet_pc.payloads import SessionV1

log = logging.getLogger(__name__)


class SessionTracker:
    """Turns a series of logged-in counts into start and end events.

    The open session is kept in a small state file, so an agent restart in
    the middle of a session neither loses its end nor starts a second one.
    """

    def __init__(self, state_file: Path | None = None) -> None:
        self._state_file = state_file
        self._open: SessionV1 | None = self._load()

    @property
    def open_session(self) -> SessionV1 | None:
        return self._open

    def update(self, logged_in: int, now: float) -> SessionV1 | None:
        if logged_in > 0 and self._open is None:
            self._open = SessionV1(v=1, event="start", session_id=uuid.uuid4().hex, started_at=now)
            self._save()
            return self._open
        if logged_in == 0 and self._open is not None:
            ended = SessionV1(
                v=1,
                event="end",
                session_id=self._open.session_id,
                started_at=self._open.started_at,
                ended_at=max(now, self._open.started_at),
            )
            self._open = None
            self._save()
            return ended
        return None

    def _load(self) -> SessionV1 | None:
        if self._state_file is None or not self._state_file.exists():
            return None
        try:
            return SessionV1.model_validate_json(self._state_file.read_bytes())
        except (OSError, ValueError):
            log.warning("ignoring unreadable session state file %s", self._state_file)
            return None

    def _save(self) -> None:
        if self._state_file is None:
            return
        try:
            if self._open is None:
                self._state_file.unlink(missing_ok=True)
            else:
                tmp = self._state_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._open.model_dump(exclude_none=True)))
                tmp.replace(self._state_file)
        except OSError as exc:
            log.warning("cannot write session state file %s: %s", self._state_file, exc)
