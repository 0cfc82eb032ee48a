"""The agent's main loop: report health every interval, sessions as they change."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ocrfleet_pc.agent.connection import AgentConnection
from ocrfleet_pc.agent.probes import HealthProbe, logged_in_count
from ocrfleet_pc.agent.sessions import SessionTracker

log = logging.getLogger(__name__)


class AgentRunner:
    def __init__(
        self,
        connection: AgentConnection,
        tracker: SessionTracker,
        probe: HealthProbe,
        interval: float = 60.0,
        session_check_interval: float = 5.0,
        count_sessions: Callable[[], int] = logged_in_count,
    ) -> None:
        self._connection = connection
        self._tracker = tracker
        self._probe = probe
        self._interval = interval
        self._session_interval = session_check_interval
        self._count_sessions = count_sessions

    def run(self, stop: threading.Event) -> None:
        self._connection.start()
        # The first report goes out as soon as the broker answers.
        self._connection.wait_connected(10)
        next_health = 0.0
        try:
            while not stop.is_set():
                now = time.time()
                event = self._tracker.update(self._count_sessions(), now)
                if event is not None:
                    # QoS 1: queued by paho while the broker is away.
                    self._connection.publish_session(event)
                    log.info("session %s: %s", event.event, event.session_id)
                # Health is QoS 0 and only sent while connected; after an
                # outage the next report is current again.
                if now >= next_health and self._connection.connected:
                    self._connection.publish_health(self._probe.read())
                    next_health = now + self._interval
                wait = self._session_interval
                if self._connection.connected:
                    wait = min(wait, max(0.1, next_health - time.time()))
                stop.wait(wait)
        finally:
            self._connection.stop()
