"""The agent's durable journal of session events, kept until the daemon has committed them.

A broker's PUBACK is not durability: Mosquitto acknowledges before its
persistence reaches disk, and loses what it held in a power cut. So every
session event is numbered (`stream`, `seq`), written here first, sent, and
dropped only when the daemon's acknowledgement says it is in the daemon's
store (docs/mqtt.md, "Delivery").

The journal is one small JSON file, replaced atomically on every change
(write a temporary file, fsync it, rename it over the old one, fsync the
folder): a crash at any moment leaves either the old or the new journal.
Session events are a few per hour, so rewriting the whole file costs nothing.

The open session lives here too, so an agent restart in the middle of a
session neither loses its end nor starts a second one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ocrfleet_agent.payloads import Ack, InvalidPayload, SessionMessage

log = logging.getLogger(__name__)

FORMAT = 1
# A PC that cannot reach its broker for weeks still keeps at most this many
# events; the oldest go first, and the loss is logged.
MAX_PENDING = 10_000


def new_stream_id() -> str:
    return uuid.uuid4().hex


class Journal:
    """Thread-safe: the runner records, paho's network thread acknowledges."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self.stream = new_stream_id()
        self._next_seq = 1
        self._pending: list[SessionMessage] = []
        self._open: SessionMessage | None = None
        # Why the journal is not on disk right now, or None when it is.
        self.problem: str | None = None if path is not None else "no journal file configured"
        if path is not None:
            self._load(path)

    # -- reading -------------------------------------------------------------

    @property
    def durable(self) -> bool:
        return self.problem is None

    @property
    def open_session(self) -> SessionMessage | None:
        return self._open

    def pending(self) -> list[SessionMessage]:
        with self._lock:
            return list(self._pending)

    @property
    def oldest(self) -> int:
        """The lowest sequence number still held; the next one when none is."""
        with self._lock:
            return (self._pending[0].seq or 1) if self._pending else self._next_seq

    # -- changing ------------------------------------------------------------

    def record(
        self, event: str, session_id: str, started_at: float, ended_at: float | None = None
    ) -> SessionMessage:
        """Number an event, keep it until acknowledged, and write the journal."""
        with self._lock:
            message = SessionMessage(
                event="start" if event == "start" else "end",
                session_id=session_id,
                started_at=started_at,
                ended_at=ended_at,
                stream=self.stream,
                seq=self._next_seq,
            )
            message.check()
            self._next_seq += 1
            self._pending.append(message)
            if len(self._pending) > MAX_PENDING:
                dropped = self._pending.pop(0)
                log.error(
                    "journal full (%d events never acknowledged): dropped event %d",
                    MAX_PENDING,
                    dropped.seq,
                )
            self._open = message if event == "start" else None
            self._save()
            return message

    def acknowledge(self, ack: Ack) -> int:
        """Drop what the daemon has committed; returns how many events were dropped."""
        with self._lock:
            if ack.stream != self.stream:
                return 0  # an older stream of this device, or another device's
            if ack.seq >= self._next_seq:
                self._restart_stream(ack.seq)
                return 0
            kept = [m for m in self._pending if (m.seq or 0) > ack.seq]
            dropped = len(self._pending) - len(kept)
            if dropped:
                self._pending = kept
                self._save()
            return dropped

    def flush(self) -> bool:
        """Try again to write a journal that could not be written; True when on disk."""
        with self._lock:
            if self.problem is not None and self.path is not None:
                self._save()
            return self.problem is None

    def _restart_stream(self, acked: int) -> None:
        # The daemon has committed numbers this journal never handed out: the
        # journal went back in time (restored from an image, a copied file).
        # Sending on would have new events taken for duplicates, so the held
        # events move to a new stream, numbered from 1 again.
        old = self.stream
        self.stream = new_stream_id()
        self._pending = [
            replace(m, stream=self.stream, seq=n) for n, m in enumerate(self._pending, start=1)
        ]
        self._next_seq = len(self._pending) + 1
        log.warning(
            "the daemon acknowledged event %d of stream %s, which this journal never wrote "
            "(restored from an older copy?); continuing as stream %s",
            acked,
            old,
            self.stream,
        )
        self._save()

    # -- the file --------------------------------------------------------------

    def _load(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            log.info("no journal at %s yet; starting stream %s", path, self.stream)
            self._save()
            return
        except OSError as exc:
            self.problem = f"cannot read {path}: {exc}"
            log.error("journal %s unreadable (%s); starting stream %s", path, exc, self.stream)
            return
        try:
            self._adopt(json.loads(raw))
        # RecursionError: JSON nested too deeply, e.g. a file of '[' bytes.
        except (ValueError, TypeError, KeyError, RecursionError, InvalidPayload) as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(self._clock())}")
            try:
                path.replace(aside)
            except OSError:
                aside = path
            log.error(
                "journal %s is damaged (%s); kept as %s, starting stream %s: events it held "
                "and the daemon has not acknowledged are lost",
                path,
                exc,
                aside,
                self.stream,
            )
            self._save()

    def _adopt(self, data: Any) -> None:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a format {FORMAT} journal")
        stream = data["stream"]
        next_seq = data["next_seq"]
        if isinstance(next_seq, bool) or not isinstance(next_seq, int) or next_seq < 1:
            raise ValueError("bad next_seq")
        # Checked as the daemon will: events of a stream it refuses are never acknowledged.
        SessionMessage.SPECS["stream"].check("stream", stream)
        pending = [SessionMessage.parse(json.dumps(item)) for item in data["pending"]]
        if any(m.stream != stream or (m.seq or 0) >= next_seq for m in pending):
            raise ValueError("an event of another stream, or numbered past next_seq")
        opened = data.get("open")
        self._open = SessionMessage.parse(json.dumps(opened)) if opened else None
        self.stream, self._next_seq, self._pending = stream, next_seq, pending

    def _document(self) -> bytes:
        def plain(message: SessionMessage | None) -> dict[str, Any] | None:
            return None if message is None else json.loads(message.to_json())

        return json.dumps(
            {
                "format": FORMAT,
                "stream": self.stream,
                "next_seq": self._next_seq,
                "open": plain(self._open),
                "pending": [plain(m) for m in self._pending],
            },
            indent=1,
        ).encode()

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as out:
                out.write(self._document())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            _fsync_folder(self.path.parent)
        except OSError as exc:
            if self.problem is None:
                log.error(
                    "cannot write the journal %s (%s): events are kept in memory only "
                    "until it can be written again",
                    self.path,
                    exc,
                )
            self.problem = f"cannot write {self.path}: {exc}"
            return
        if self.problem is not None:
            log.warning("journal %s written again", self.path)
        self.problem = None


def _fsync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is; Windows cannot
    # open a folder for this and makes renames durable itself.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
