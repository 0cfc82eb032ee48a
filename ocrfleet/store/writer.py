"""A thread that owns the store's write connection.

MQTT callbacks must return quickly (the same thread answers the broker's
keep-alives), so writes are handed over through a bounded queue. A session
event is acknowledged to the broker only after its transaction committed:
an event lost in a crash is redelivered, and a redelivered one is recognised
by the store and not counted twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent
from ocrfleet.store.database import SessionOutcome, Store

log = logging.getLogger(__name__)

Ack = Callable[[], None]
SessionListener = Callable[[DeviceKey, SessionEvent, SessionOutcome], None]


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


class StoreWriter:
    def __init__(self, path: Path, on_session: SessionListener, max_queue: int = 10_000) -> None:
        self._path = path
        self._on_session = on_session
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

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
        self._queue.put(_SeenWrite(seen, done))
        if done is not None:
            done.wait(timeout=10)

    def submit_task(self, task: Callable[[Store], object]) -> None:
        """Run `task(store)` on the writer thread, in order with the other writes."""
        self._queue.put(_Task(task))

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 3.0) -> None:
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            store = Store(self._path)
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
                stop = any(item is _STOP for item in items)
                self._write(store, [item for item in items if item is not _STOP])
                if stop:
                    self._drain(store)
                    return
        finally:
            store.close()

    def _drain(self, store: Store) -> None:
        rest = []
        while True:
            try:
                rest.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._write(store, [item for item in rest if item is not _STOP])

    def _write(self, store: Store, items: list[object]) -> None:
        sessions = [item for item in items if isinstance(item, _SessionWrite)]
        if sessions:
            try:
                outcomes = store.record_session_events((w.key, w.event) for w in sessions)
            except Exception:
                # Not acknowledged: the broker redelivers after the next reconnect.
                log.exception("could not store %d session events", len(sessions))
            else:
                for write, outcome in zip(sessions, outcomes, strict=True):
                    if outcome is not SessionOutcome.DUPLICATE:
                        self._on_session(write.key, write.event, outcome)
                    if write.ack is not None:
                        write.ack()
        for item in items:
            if isinstance(item, _Task):
                try:
                    item.run(store)
                except Exception:
                    log.exception("store task failed")
            if isinstance(item, _SeenWrite):
                try:
                    store.record_seen(item.seen)
                except Exception:
                    log.exception("could not store last-seen times")
                if item.done is not None:
                    item.done.set()
