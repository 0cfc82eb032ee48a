"""A thread that makes the store's writes, on a connection of its own.

MQTT callbacks must return quickly (the same thread answers the broker's
keep-alives), so writes are handed over through a bounded queue. A session
event is acknowledged to the broker only after its transaction committed:
an event lost in a crash is redelivered, and a redelivered one is recognised
by the store and not counted twice.

A batch of session events the store refuses (a full or read-only disk, an
I/O error, a lock held too long) is tried again, with growing pauses, until
it is written: its events stay unacknowledged meanwhile, so the broker holds
back the rest, and ingestion resumes by itself once the cause is gone.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ocrfleet.devices import DeviceKey
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.sessions import SessionEvent
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import SessionOutcome, Store, StoreError
from ocrfleet.store.health import StoreHealth, StoreOperation
from ocrfleet.store.sequencer import Plan, Sequencer, StreamKey

log = logging.getLogger(__name__)

Ack = Callable[[], None]
SessionListener = Callable[[DeviceKey, SessionEvent, SessionOutcome], None]
# Where numbered streams stand after a commit, for the acknowledgements.
CommitListener = Callable[[Mapping[StreamKey, int]], None]
# Why an event's times cannot be true, or None (ocrfleet.sessions.implausible_times).
TimeCheck = Callable[[SessionEvent], str | None]
_T = TypeVar("_T")

# What a store refusing a write raises; anything else is a bug.
_STORE_FAILURES = (sqlite3.Error, StoreError, OSError)


@dataclass
class SessionStats:
    """What became of session events; written by the writer thread only, read by scrapes."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, n: int = 1) -> None:
        if n:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses between attempts at a batch the store refused: doubling, capped."""

    initial: float = 0.5
    maximum: float = 30.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * 2, self.maximum)


@dataclass(frozen=True, slots=True)
class _SessionWrite:
    key: DeviceKey
    event: SessionEvent
    ack: Ack | None


@dataclass(frozen=True, slots=True)
class _SeenWrite:
    seen: Mapping[DeviceKey, tuple[str, float]]
    done: threading.Event | None


@dataclass(frozen=True, slots=True)
class _Task:
    run: Callable[[Store], object]


_STOP = object()
_BATCH = 500
# Longest a caller waits for room in a full queue or for its seen write.
_SUBMIT_TIMEOUT = 10.0


class StoreWriter:
    def __init__(
        self,
        connections: StoreConnections,
        on_session: SessionListener,
        max_queue: int = 10_000,
        *,
        health: StoreHealth | None = None,
        backoff: Backoff = Backoff(),
        check_times: TimeCheck = lambda event: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._connections = connections
        self._on_session = on_session
        self._check_times = check_times
        self._clock = clock
        self.on_committed: CommitListener = lambda positions: None
        self.stats = SessionStats()
        self._sequencer = Sequencer(
            lambda key, stream: self._open_store().stream_position(key, stream)
        )
        self.health = health if health is not None else StoreHealth(connections.path)
        self._backoff = backoff
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._store: Store | None = None
        self._log = RateLimitedLog(log, interval=60.0)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def submit_session(
        self, key: DeviceKey, event: SessionEvent, ack: Ack | None, timeout: float
    ) -> bool:
        """Queue a session event; False when the queue stayed full for `timeout`."""
        try:
            self._queue.put(_SessionWrite(key, event, ack), timeout=timeout)
        except queue.Full:
            return False
        return True

    def submit_seen(self, seen: Mapping[DeviceKey, tuple[str, float]], wait: bool = False) -> None:
        done = threading.Event() if wait else None
        if not self._put(_SeenWrite(seen, done), "last-seen times"):
            return
        if done is None:
            return
        # Waiting for a writer stuck on a refused batch would only delay the
        # shutdown: the last-seen times are not worth it.
        deadline = time.monotonic() + _SUBMIT_TIMEOUT
        while not done.wait(0.1):
            if self.health.problem is not None or time.monotonic() > deadline:
                return

    def submit_task(self, task: Callable[[Store], object]) -> None:
        """Run `task(store)` on the writer thread, in order with the other writes."""
        self._put(_Task(task), "a store task")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def held(self) -> int:
        """Numbered session events that came early and wait for the ones before them."""
        return self._sequencer.held

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 3.0) -> None:
        """Write what is queued and stop; a refused batch is left unacknowledged."""
        if not self._thread.is_alive():
            return
        self._stopping.set()
        # A full queue means a busy writer, which sees _stopping between batches.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)
        self._thread.join(timeout)

    def _put(self, item: object, what: str) -> bool:
        try:
            self._queue.put(item, timeout=_SUBMIT_TIMEOUT)
        except queue.Full:
            self._log.warning("queue-full", "store queue full; %s dropped", what)
            return False
        return True

    # -- the writer thread ---------------------------------------------------

    def _run(self) -> None:
        try:
            self._store = Store(self._connections)
        except BaseException as exc:  # reported to start(), which re-raises it
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                items = [self._queue.get()]
                while len(items) < _BATCH:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(item is _STOP for item in items) or self._stopping.is_set()
                self._write([item for item in items if item is not _STOP], retry=not stop)
                if stop or self._stopping.is_set():
                    self._drain()
                    return
        finally:
            if self._store is not None:
                self._store.close()

    def _drain(self) -> None:
        rest = []
        while True:
            try:
                rest.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._write([item for item in rest if item is not _STOP], retry=False)

    def _write(self, items: list[object], retry: bool) -> None:
        sessions = [item for item in items if isinstance(item, _SessionWrite)]
        if sessions:
            self._write_sessions(sessions, retry)
        for item in items:
            if isinstance(item, _Task):
                self._run_task(item)
            if isinstance(item, _SeenWrite):
                self._write_seen(item)

    def _write_sessions(self, sessions: list[_SessionWrite], retry: bool) -> None:
        for delay in self._backoff.delays():
            try:
                plan, applied, outcomes = self._with_store(
                    lambda store: self._commit_sessions(store, sessions)
                )
            except _STORE_FAILURES as exc:
                self._failed(StoreOperation.SESSIONS, exc)
                self._log.error(
                    "sessions",
                    "could not store %d session events (trying again in %.1f s): %s",
                    len(sessions),
                    delay,
                    exc,
                )
                # Stopping: not acknowledged, so the broker redelivers them.
                if not retry or self._stopping.wait(delay):
                    return
                continue
            except Exception:
                # A bug, not the disk: trying again would fail the same way.
                log.exception("could not store %d session events", len(sessions))
                return
            self.health.written()
            self._committed(plan, applied, outcomes)
            for write in sessions:
                if write.ack is not None:
                    write.ack()
            return

    def _commit_sessions(
        self, store: Store, sessions: list[_SessionWrite]
    ) -> tuple[Plan, list[tuple[DeviceKey, SessionEvent]], list[SessionOutcome]]:
        """Put numbered events in order, refuse impossible times, and commit what is left."""
        plan = self._sequencer.plan((w.key, w.event) for w in sessions)
        applied = [(key, event) for key, event in plan.apply if self._plausible(key, event)]
        outcomes = store.record_session_events(applied, plan.positions, self._clock())
        return plan, applied, outcomes

    def _plausible(self, key: DeviceKey, event: SessionEvent) -> bool:
        problem = self._check_times(event)
        if problem is not None:
            self._log.warning(
                "implausible_time",
                "refused session event %s of %s/%s: %s",
                event.session_id,
                key.site,
                key.device,
                problem,
            )
        return problem is None

    def _committed(
        self,
        plan: Plan,
        applied: list[tuple[DeviceKey, SessionEvent]],
        outcomes: list[SessionOutcome],
    ) -> None:
        self._sequencer.adopt(plan)
        # Counted once committed: a batch the store refused is planned again.
        self.stats.count("implausible_time", len(plan.apply) - len(applied))
        self.stats.count("duplicate", plan.duplicates)
        self.stats.count("skipped", plan.skipped)
        for (key, event), outcome in zip(applied, outcomes, strict=True):
            self.stats.count(outcome.value)
            if outcome is not SessionOutcome.DUPLICATE:
                self._on_session(key, event, outcome)
        if plan.positions:
            self.on_committed(plan.positions)

    def _write_seen(self, item: _SeenWrite) -> None:
        try:
            self._with_store(lambda store: store.record_seen(item.seen))
        except _STORE_FAILURES as exc:
            # The next flush writes newer times: not worth holding anything up.
            self._failed(StoreOperation.SEEN, exc)
            self._log.error("seen", "could not store last-seen times: %s", exc)
        except Exception:
            log.exception("could not store last-seen times")
        else:
            if item.seen:
                self.health.written()
        finally:
            if item.done is not None:
                item.done.set()

    def _run_task(self, item: _Task) -> None:
        try:
            self._with_store(item.run)
        except _STORE_FAILURES as exc:
            self._failed(StoreOperation.TASK, exc)
            self._log.error("task", "store task failed: %s", exc)
        except Exception:
            log.exception("store task failed")
        else:
            self.health.written()

    def _with_store(self, use: Callable[[Store], _T]) -> _T:
        """`use(store)`, on a fresh connection after a failure.

        A connection that hit an I/O error may keep failing after the disk
        recovered; a new one starts clean.
        """
        store = self._open_store()
        try:
            return use(store)
        except _STORE_FAILURES:
            self._store = None
            with contextlib.suppress(sqlite3.Error):
                store.close()
            raise

    def _open_store(self) -> Store:
        if self._store is None:
            self._store = Store(self._connections)
        return self._store

    def _failed(self, operation: StoreOperation, exc: BaseException) -> None:
        if self.health.failed(operation, exc):
            log.error("%s", self.health.problem)
