"""The agent's main loop: health every interval, sessions as they change, re-sends."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection
from ocrfleet_agent.payloads import Ack, Health, SessionMessage
from ocrfleet_agent.sessions import SessionSource, SessionTracker

log = logging.getLogger(__name__)


class AgentRunner:
    def __init__(
        self,
        connection: AgentConnection,
        journal: Journal,
        source: SessionSource,
        read_health: Callable[[], Health],
        interval: float = 60.0,
        session_check_interval: float = 5.0,
        resend_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._connection = connection
        self._journal = journal
        self._tracker = SessionTracker(journal)
        self._source = source
        self._read_health = read_health
        self._interval = interval
        self._session_interval = session_check_interval
        self._resend_interval = resend_interval
        self._clock = clock
        self._wake = threading.Event()
        self._resend_due = threading.Event()
        connection.on_ack = self._on_ack
        connection.on_connected = self._on_connected

    def run(self, stop: threading.Event) -> None:
        self._connection.start()
        # The first report goes out as soon as the broker answers.
        self._connection.wait_connected(10)
        next_health = 0.0
        next_resend = self._clock() + self._resend_interval
        try:
            while not stop.is_set():
                now = self._clock()
                self._check_session(now)
                if self._resend_due.is_set() or now >= next_resend:
                    self._resend_due.clear()
                    self.resend()
                    next_resend = now + self._resend_interval
                if not self._journal.durable:
                    self._journal.flush()
                # Health is QoS 0 and only sent while connected; after an
                # outage the next report is current again.
                if now >= next_health and self._connection.connected:
                    self._connection.publish_health(self._read_health())
                    next_health = now + self._interval
                wait = self._session_interval
                if self._connection.connected:
                    wait = min(wait, max(0.1, next_health - self._clock()))
                self._wake.wait(wait)
                self._wake.clear()
                if stop.is_set():
                    break
        finally:
            self._connection.stop()

    def wake(self) -> None:
        """End the current wait early (a signal handler or a test asks for it)."""
        self._wake.set()

    def _check_session(self, now: float) -> None:
        usage = self._source.read(now)
        if usage is None:
            return
        event = self._tracker.update(usage, now)
        if event is not None:
            log.info("session %s: %s (event %d)", event.event, event.session_id, event.seq)
            self._send(event, self._journal.oldest)

    def resend(self) -> int:
        """Send every event the daemon has not acknowledged yet, oldest first."""
        pending = self._journal.pending()
        if not pending or not self._connection.connected:
            return 0
        oldest = pending[0].seq
        sent = sum(self._send(m, oldest) for m in pending)
        log.debug("re-sent %d unacknowledged session events", sent)
        return sent

    def _send(self, message: SessionMessage, oldest: int | None) -> bool:
        return self._connection.publish_session(replace(message, oldest=oldest))

    def _on_ack(self, ack: Ack) -> None:
        dropped = self._journal.acknowledge(ack)
        if dropped:
            log.debug("daemon committed up to event %d; %d dropped", ack.seq, dropped)

    def _on_connected(self) -> None:
        # Runs on paho's thread: hand the re-send to the main loop.
        self._resend_due.set()
        self._wake.set()
