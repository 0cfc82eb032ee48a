"""From an MQTT message to FleetState: route, parse, validate, apply.

Runs on the MQTT network thread, for every message: keep it lean.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ocrfleet.clock import Clock
from ocrfleet.devices import DeviceKey
from ocrfleet.kinds import PayloadError
from ocrfleet.mqtt.routes import AVAILABILITY, RouteTable
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.sessions import SessionEvent
from ocrfleet.state import Availability, FleetState
from ocrfleet.store.writer import Ack, StoreWriter

log = logging.getLogger(__name__)

_AVAILABILITY_VALUES = {b"online": Availability.ONLINE, b"offline": Availability.OFFLINE}
_AVAILABILITY_STATES = {"online": Availability.ONLINE, "offline": Availability.OFFLINE}
_JSON_AVAILABILITY_MAX = 256
# How long a callback may wait for room in the store queue before the
# message is left unacknowledged for redelivery.
_QUEUE_WAIT = 1.0


@dataclass
class IngestStats:
    """Plain counters, written by the MQTT thread only, read by scrapes."""

    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)

    def count_accepted(self, channel: str) -> None:
        self.accepted[channel] = self.accepted.get(channel, 0) + 1

    def count_rejected(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def _json_availability(payload: bytes) -> Availability | None:
    """`{"state": "online"}`: zigbee2mqtt's (and Home Assistant's JSON) availability."""
    # Such a message is a few bytes long; anything else is not worth decoding.
    if len(payload) > _JSON_AVAILABILITY_MAX or not payload.lstrip().startswith(b"{"):
        return None
    try:
        message = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    state = message.get("state") if isinstance(message, dict) else None
    return _AVAILABILITY_STATES.get(state) if isinstance(state, str) else None


class Ingest:
    def __init__(
        self,
        state: FleetState,
        routes: RouteTable,
        writer: StoreWriter,
        clock: Clock,
        plugin_of_kind: Callable[[str], str],
    ) -> None:
        self.state = state
        self.routes = routes
        self.writer = writer
        self.clock = clock
        # Bound once: `handle` runs for every message.
        self._now = clock.now
        self.stats = IngestStats()
        self._plugin_of_kind = plugin_of_kind
        self._log = RateLimitedLog(log)
        # Called (on the MQTT thread) after an availability message: alerts
        # about a PC going offline need not wait for the next timed evaluation.
        self.on_availability: Callable[[], None] = lambda: None

    @property
    def routes(self) -> RouteTable:
        return self._routes

    @routes.setter
    def routes(self, routes: RouteTable) -> None:
        # A reload swaps the table; `handle` looks topics up in its dict directly.
        self._routes = routes
        self._route_of = routes.routes.get

    def handle(self, topic: str, payload: bytes, ack: Ack | None) -> bool:
        """Apply one message. Returns True when `ack` was taken over (called later)."""
        route = self._route_of(topic)
        if route is None:
            self._reject(self._routes.classify_unrouted(topic), topic, "no configured device here")
            return False
        now = self._now()
        channel = route.channel
        if channel == AVAILABILITY:
            self._availability(route.key, topic, payload, now)
            return False
        try:
            result = route.kind.parse_mqtt(channel, payload)
        except PayloadError as exc:
            self._reject(exc.reason, topic, exc.detail)
            return False
        except Exception:
            plugin = self._plugin_of_kind(route.kind.name)
            self.stats.count_rejected("plugin_error")
            self._log.error(
                f"plugin:{plugin}",
                "plugin %s failed on a message on %s; message dropped",
                plugin,
                topic,
                exc_info=True,
            )
            return False
        if isinstance(result, SessionEvent):
            self.state.record_heartbeat(route.key, now)
            if not self.writer.submit_session(route.key, result, ack, timeout=_QUEUE_WAIT):
                self._reject("queue_full", topic, "store queue full; left for redelivery")
                return True  # never acknowledged, so the broker delivers it again
            self.stats.count_accepted(channel)
            return True
        self.state.record_reading(route.key, result, now)
        # count_accepted, inlined: this is the path of every health report.
        accepted = self.stats.accepted
        accepted[channel] = accepted.get(channel, 0) + 1
        return False

    def _availability(self, key: DeviceKey, topic: str, payload: bytes, now: float) -> None:
        availability = _AVAILABILITY_VALUES.get(payload.strip())
        if availability is None:
            availability = _json_availability(payload)
        if availability is None:
            self._reject(
                "invalid",
                topic,
                'availability must be online or offline, or {"state": "online"|"offline"}',
            )
            return
        self.state.record_availability(key, availability, now)
        self.stats.count_accepted(AVAILABILITY)
        self.on_availability()

    def _reject(self, reason: str, topic: str, detail: str) -> None:
        self.stats.count_rejected(reason)
        # The topic is cut short: it comes from outside and may be huge.
        self._log.warning(reason, "rejected MQTT message (%s) on %.120r: %s", reason, topic, detail)
