"""The durable outbox: notifications are stored before any delivery is tried.

`Outbox.enqueue` commits to SQLite (table `outbox`, one row per notification
and channel) before it returns; the `Dispatcher` delivers due rows with
retry and exponential back-off, and a restarted daemon resumes where the
last one stopped. A row's notification id is its idempotency key: enqueuing
the same id for the same channel again is a no-op.

Delivery is at least once: a daemon killed while a receiver is answering
delivers that notification again after the restart, with the same id, so
the receiver can drop the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ocrfleet.clock import Clock
from ocrfleet.config.alerting import OutboxConfig
from ocrfleet.notify.channels import Channel, DeliveryError
from ocrfleet.notify.notification import Notification
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.store.connections import StoreConnections, StoreError

log = logging.getLogger(__name__)

OUTCOMES = ("delivered", "retried", "failed", "expired")
FINISHED_STATES = ("delivered", "failed", "expired")

# The loop compares with clock.now() at least this often (seconds), so a
# clock moved from outside (a test's ManualClock, an NTP step) is noticed.
MAX_IDLE_WAIT = 1.0
# Rows written by another process without wake() are found after this long.
RESCAN_INTERVAL = 30.0
# After a SQLite error (disk full, database locked), wait this long and retry.
DATABASE_RETRY_WAIT = 1.0
PURGE_INTERVAL = 3600.0
MAX_ERROR_LENGTH = 500
# A delay is never computed from a larger power of two (a float overflows
# long before attempts do).
_MAX_EXPONENT = 60

_T = TypeVar("_T")


def insert_notifications(
    db: sqlite3.Connection, notifications: Sequence[Notification], now: float
) -> int:
    """Outbox rows for `notifications`, inside the caller's transaction; how many were new.

    An id already queued for the same channel is left alone: the id is the
    idempotency key. The alert engine calls this in the transaction that
    records its alerts as notified.
    """
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO outbox (id, channel, created_at, payload, state, attempts,"
        " next_attempt_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)",
        [(n.id, n.channel, n.created_at, n.to_json(), now) for n in notifications],
    )
    return db.total_changes - before


@dataclass
class DeliveryStats:
    """Counters for `ocrfleet_notifications_total{channel,outcome}`.

    outcome: delivered, retried (a failed try that will be tried again),
    failed (not retryable), expired (given up after give_up_after).
    """

    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, channel: str, outcome: str, amount: int = 1) -> None:
        key = (channel, outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + amount


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: str
    channel: str
    created_at: float
    payload: str
    state: str  # pending, delivered, failed or expired
    attempts: int
    next_attempt_at: float
    last_error: str | None
    finished_at: float | None


_COLUMNS = (
    "id, channel, created_at, payload, state, attempts, next_attempt_at, last_error, finished_at"
)


def _row(values: Sequence[Any]) -> OutboxRow:
    return OutboxRow(*values)


def _short(error: str) -> str:
    """An error as stored and logged: a receiver may answer with a whole page."""
    return error if len(error) <= MAX_ERROR_LENGTH else error[: MAX_ERROR_LENGTH - 3] + "..."


def retry_delay(attempts: int, config: OutboxConfig) -> float:
    """The wait after `attempts` failed tries, without jitter: doubling up to retry_max."""
    exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
    return float(min(config.retry_max, config.retry_initial * 2**exponent))


class Outbox:
    """The `outbox` table. Thread-safe: one connection, used under a lock."""

    def __init__(self, connections: StoreConnections, config: OutboxConfig, clock: Clock) -> None:
        self.path = connections.path
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        # Used from the dispatcher's worker threads, under the lock.
        self._db = connections.connect(any_thread=True, timeout=5.0)

    def enqueue(self, notifications: Sequence[Notification]) -> int:
        """Store notifications (each for its own `channel`); returns how many were new."""
        now = self._clock.now()
        new: int = self._write(lambda db: insert_notifications(db, notifications, now))
        return new

    def pending(self) -> int:
        """Rows not yet delivered, failed or expired (for `ocrfleet_outbox_pending`)."""
        return int(self._read("SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0])

    def rows(self, state: str | None = None) -> list[OutboxRow]:
        """Rows oldest first, all or those in `state`: for inspection."""
        if state is None:
            found = self._read(f"SELECT {_COLUMNS} FROM outbox ORDER BY created_at, rowid")
        else:
            found = self._read(
                f"SELECT {_COLUMNS} FROM outbox WHERE state = ? ORDER BY created_at, rowid",
                (state,),
            )
        return [_row(values) for values in found]

    def head(self, channel: str) -> OutboxRow | None:
        """The channel's oldest pending row: the only one that may be delivered next."""
        found = self._read(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND channel = ?"
            " ORDER BY created_at, rowid LIMIT 1",
            (channel,),
        )
        return _row(found[0]) if found else None

    def pending_channels(self) -> set[str]:
        return {
            str(r[0])
            for r in self._read("SELECT DISTINCT channel FROM outbox WHERE state = 'pending'")
        }

    def oldest_pending(self) -> float | None:
        """created_at of the oldest pending row (it expires first)."""
        value = self._read("SELECT min(created_at) FROM outbox WHERE state = 'pending'")[0][0]
        return None if value is None else float(value)

    def expire(self, now: float) -> list[OutboxRow]:
        """Give up on pending rows created more than give_up_after before `now`."""
        cutoff = now - self._config.give_up_after

        def expire(db: sqlite3.Connection) -> list[OutboxRow]:
            found = db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND created_at <= ?"
                " ORDER BY created_at, rowid",
                (cutoff,),
            ).fetchall()
            db.execute(
                "UPDATE outbox SET state = 'expired', finished_at = ?"
                " WHERE state = 'pending' AND created_at <= ?",
                (now, cutoff),
            )
            return [_row(values) for values in found]

        return self._write(expire)

    def mark_delivered(self, row: OutboxRow, now: float) -> None:
        self._finish(row, "delivered", now, None)

    def mark_failed(self, row: OutboxRow, now: float, error: str) -> None:
        self._finish(row, "failed", now, error)

    def schedule_retry(self, row: OutboxRow, next_attempt_at: float, error: str) -> None:
        self._write(
            lambda db: db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE id = ? AND channel = ? AND state = 'pending'",
                (next_attempt_at, error, row.id, row.channel),
            )
        )

    def purge(self, now: float) -> int:
        """Delete delivered, failed and expired rows finished over keep_delivered ago."""
        cutoff = now - self._config.keep_delivered

        def purge(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "DELETE FROM outbox WHERE state IN (?, ?, ?) AND finished_at < ?",
                (*FINISHED_STATES, cutoff),
            )
            return int(cursor.rowcount)

        return self._write(purge)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _finish(self, row: OutboxRow, state: str, now: float, error: str | None) -> None:
        self._write(
            lambda db: db.execute(
                "UPDATE outbox SET state = ?, finished_at = ?, last_error = coalesce(?, last_error)"
                " WHERE id = ? AND channel = ? AND state = 'pending'",
                (state, now, error, row.id, row.channel),
            )
        )

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise StoreError(f"outbox not readable: {exc}") from exc

    def _write(self, change: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `change` in one committed transaction."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    result = change(self._db)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"outbox not saved: {exc}") from exc
            return result


@dataclass
class _Scan:
    # Per idle configured channel with pending rows: when its oldest row is due.
    channels_due: dict[str, float] = field(default_factory=dict)
    # When the oldest pending row expires, rows of unknown channels included.
    first_expiry: float | None = None

    def next_due(self) -> float | None:
        times = [*self.channels_due.values()]
        if self.first_expiry is not None:
            times.append(self.first_expiry)
        return min(times, default=None)


class Dispatcher:
    """Delivers the outbox's due rows through their channels, on the event loop.

    Per channel, rows go out one at a time, oldest first, and a row waiting
    for its retry holds back the younger ones: a resolution never overtakes
    the firing notification it resolves. Channels do not wait for each other.
    """

    def __init__(
        self,
        connections: StoreConnections,
        channels: Mapping[str, Channel],
        config: OutboxConfig,
        clock: Clock,
        *,
        jitter: random.Random | None = None,
    ) -> None:
        self.stats = DeliveryStats()
        self._connections = connections
        self._channels = dict(channels)
        self._config = config
        self._clock = clock
        self._jitter = jitter if jitter is not None else random.Random()
        self._attention = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failures = RateLimitedLog(log, interval=60.0)
        self._database_log = RateLimitedLog(log, interval=60.0)
        self._unknown_channel_log = RateLimitedLog(log, interval=3600.0)
        self._last_purge: float | None = None
        # Every series exists from the start, so rate() sees the first event.
        for name in self._channels:
            for outcome in OUTCOMES:
                self.stats.count(name, outcome, 0)

    def wake(self) -> None:
        """New rows were enqueued: look now instead of at the next timer."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._attention.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._attention.set()
        else:
            loop.call_soon_threadsafe(self._attention.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then return after in-flight deliveries end or time out."""
        self._loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(self._forward_stop(stop))
        workers: dict[str, asyncio.Task[None]] = {}
        outbox: Outbox | None = None
        try:
            outbox = await self._open(stop)
            while outbox is not None and not stop.is_set():
                self._attention.clear()
                try:
                    expired = await asyncio.to_thread(outbox.expire, self._clock.now())
                    self._note_expired(expired)
                    scan = await asyncio.to_thread(self._scan, outbox, set(workers))
                except StoreError as exc:
                    self._database_log.error("scan", "outbox: %s; trying again", exc)
                    await self._pause(stop, DATABASE_RETRY_WAIT)
                    continue
                now = self._clock.now()
                for name, due_at in scan.channels_due.items():
                    if name not in workers and due_at <= now:
                        workers[name] = self._start_worker(outbox, name, stop, workers)
                await self._idle(scan.next_due())
        except asyncio.CancelledError:
            # Cancelled rather than stopped: nobody waits for the deliveries.
            for task in workers.values():
                task.cancel()
            raise
        finally:
            watcher.cancel()
            if workers:
                await asyncio.gather(*workers.values(), return_exceptions=True)
            if outbox is not None:
                outbox.close()

    async def _open(self, stop: asyncio.Event) -> Outbox | None:
        while not stop.is_set():
            try:
                return await asyncio.to_thread(Outbox, self._connections, self._config, self._clock)
            except StoreError as exc:
                self._database_log.error("open", "outbox: %s; trying again", exc)
                await self._pause(stop, DATABASE_RETRY_WAIT)
        return None

    def _scan(self, outbox: Outbox, busy: Collection[str]) -> _Scan:
        """Purge now and then; per idle channel, when its next row is due.

        Runs in a worker thread: every call here may wait for SQLite.
        """
        now = self._clock.now()
        scan = _Scan()
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            outbox.purge(now)
            self._last_purge = now
        for name in outbox.pending_channels():
            if name not in self._channels:
                self._unknown_channel_log.warning(
                    f"unknown:{name}",
                    "outbox: notifications for channel %r wait, but no such channel is"
                    " configured; they expire %.0f s after they were made",
                    name,
                    self._config.give_up_after,
                )
                continue
            if name in busy:
                continue
            head = outbox.head(name)
            if head is not None:
                scan.channels_due[name] = head.next_attempt_at
        oldest = outbox.oldest_pending()
        if oldest is not None:
            scan.first_expiry = oldest + self._config.give_up_after
        return scan

    def _note_expired(self, rows: Sequence[OutboxRow]) -> None:
        for row in rows:
            self.stats.count(row.channel, "expired")
            log.warning(
                "outbox: gave up on notification %s for channel %r: not delivered within %.0f s"
                " (%d tries; last error: %s)",
                row.id,
                row.channel,
                self._config.give_up_after,
                row.attempts,
                row.last_error or "none",
            )

    def _start_worker(
        self,
        outbox: Outbox,
        name: str,
        stop: asyncio.Event,
        workers: dict[str, asyncio.Task[None]],
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._work(outbox, name, stop), name=f"outbox-{name}")

        def finished(done: asyncio.Task[None]) -> None:
            if workers.get(name) is done:
                del workers[name]
            self._attention.set()

        task.add_done_callback(finished)
        return task

    async def _work(self, outbox: Outbox, name: str, stop: asyncio.Event) -> None:
        """Deliver the channel's due rows oldest first, until none is due or stop is set."""
        channel = self._channels[name]
        try:
            while not stop.is_set():
                try:
                    head = await asyncio.to_thread(outbox.head, name)
                except StoreError as exc:
                    self._database_log.error("head", "outbox: %s; trying again", exc)
                    return
                now = self._clock.now()
                if head is None or head.next_attempt_at > now:
                    return
                if head.created_at <= now - self._config.give_up_after:
                    return  # the next scan expires it and counts it
                if not await self._deliver(outbox, channel, head, stop):
                    return
        except Exception:
            log.exception("outbox: the delivery worker of channel %r failed", name)
            # The next scan starts a new worker: not at once, in case it fails alike.
            await self._pause(stop, DATABASE_RETRY_WAIT)

    async def _deliver(
        self, outbox: Outbox, channel: Channel, row: OutboxRow, stop: asyncio.Event
    ) -> bool:
        """One try of one row, and its outcome recorded. False: the outcome was not saved."""
        try:
            notification = Notification.from_json(row.payload)
        except Exception as exc:
            # Whatever is wrong with the stored text, trying again cannot fix it.
            error = _short(f"unreadable stored notification: {type(exc).__name__}: {exc}")
            log.error("outbox: notification %s for %r: %s", row.id, row.channel, error)
            return await self._record(
                stop, outbox.mark_failed, row, self._clock.now(), error, outcome="failed"
            )
        try:
            await asyncio.wait_for(channel.deliver(notification), self._config.delivery_timeout)
        except DeliveryError as exc:
            error = _short(str(exc) or type(exc).__name__)
            if not exc.retryable:
                log.error(
                    "outbox: channel %r refused notification %s (not retried): %s",
                    row.channel,
                    row.id,
                    error,
                )
                return await self._record(
                    stop, outbox.mark_failed, row, self._clock.now(), error, outcome="failed"
                )
            return await self._retry_later(outbox, row, error, stop)
        except TimeoutError:
            error = f"no answer within {self._config.delivery_timeout:g} s"
            return await self._retry_later(outbox, row, error, stop)
        except Exception as exc:
            error = _short(f"{type(exc).__name__}: {exc}")
            return await self._retry_later(outbox, row, error, stop)
        return await self._record(
            stop, outbox.mark_delivered, row, self._clock.now(), outcome="delivered"
        )

    async def _retry_later(
        self, outbox: Outbox, row: OutboxRow, error: str, stop: asyncio.Event
    ) -> bool:
        attempt = row.attempts + 1
        delay = retry_delay(attempt, self._config) * self._jitter.uniform(0.9, 1.1)
        self._failures.warning(
            f"failed:{row.channel}",
            "outbox: delivery to %r failed (notification %s, attempt %d): %s; next try in %.0f s",
            row.channel,
            row.id,
            attempt,
            error,
            delay,
        )
        return await self._record(
            stop,
            outbox.schedule_retry,
            row,
            self._clock.now() + delay,
            error,
            outcome="retried",
        )

    async def _record(
        self,
        stop: asyncio.Event,
        change: Callable[..., None],
        row: OutboxRow,
        *args: object,
        outcome: str,
    ) -> bool:
        """Save an outcome, retrying while SQLite fails.

        Given up only at stop: the row then stays pending and is delivered
        again after the restart, which its idempotency key makes harmless.
        """
        while True:
            try:
                await asyncio.to_thread(change, row, *args)
            except StoreError as exc:
                self._database_log.error(
                    "record",
                    "outbox: outcome %s of notification %s for %r not saved: %s",
                    outcome,
                    row.id,
                    row.channel,
                    exc,
                )
                if stop.is_set():
                    return False
                await self._pause(stop, DATABASE_RETRY_WAIT)
                continue
            self.stats.count(row.channel, outcome)
            return True

    async def _idle(self, next_due: float | None) -> None:
        """Wait for wake(), a finished worker, stop, the next due row or the rescan time."""
        started = time.monotonic()
        while not self._attention.is_set():
            now = self._clock.now()
            if next_due is not None and now >= next_due:
                return
            left = RESCAN_INTERVAL - (time.monotonic() - started)
            if left <= 0:
                return
            timeout = min(MAX_IDLE_WAIT, left)
            if next_due is not None:
                timeout = min(timeout, next_due - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._attention.wait(), timeout)

    async def _forward_stop(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._attention.set()

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
