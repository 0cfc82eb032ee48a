"""The durable outbox: notifications are stored before any delivery is tried.

`Outbox.enqueue` commits to SQLite (table `outbox`, one row per notification
and channel) before it returns; the `Dispatcher` delivers due rows with
retry and exponential back-off, and a restarted daemon resumes where the
last one stopped. A row's notification id is its idempotency key: enqueuing
the same id for the same channel again is a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ocrfleet.clock import Clock
from ocrfleet.config.alerting import OutboxConfig
from ocrfleet.notify.channels import Channel
from ocrfleet.notify.notification import Notification


@dataclass
class DeliveryStats:
    """Counters for `ocrfleet_notifications_total{channel,outcome}`.

    outcome: delivered, retried (a failed try that will be tried again),
    failed (not retryable), expired (given up after give_up_after).
    """

    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)


class Outbox:
    def __init__(self, path: Path, config: OutboxConfig, clock: Clock) -> None:
        raise NotImplementedError

    def enqueue(self, notifications: Sequence[Notification]) -> int:
        """Store notifications (each for its own `channel`); returns how many were new."""
        raise NotImplementedError

    def pending(self) -> int:
        """Rows not yet delivered, failed or expired (for `ocrfleet_outbox_pending`)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Dispatcher:
    """Delivers the outbox's due rows through their channels, on the event loop."""

    def __init__(
        self, outbox_path: Path, channels: Mapping[str, Channel], config: OutboxConfig, clock: Clock
    ) -> None:
        self.stats = DeliveryStats()
        raise NotImplementedError

    def wake(self) -> None:
        """New rows were enqueued: look now instead of at the next timer."""
        raise NotImplementedError

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then return after in-flight deliveries end or time out."""
        raise NotImplementedError
