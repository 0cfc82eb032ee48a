"""The outbox: stored first, delivered at least once, in order, with back-off.

Deliveries go over real HTTP to a receiver on 127.0.0.1; time that matters
(back-off, expiry) is a ManualClock the tests move.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import pytest
from prometheus_client import CollectorRegistry

from ocrfleet.clock import ManualClock, SystemClock
from ocrfleet.config.alerting import OutboxConfig
from ocrfleet.metrics.outbox import OutboxCollector
from ocrfleet.notify.channels import Channel
from ocrfleet.notify.notification import AlertItem, Notification
from ocrfleet.notify.outbox import Dispatcher, Outbox, retry_delay
from ocrfleet.store.connections import StoreConnections
from tests.support.outbox_worker import HOOK_CHANNEL, HttpPostChannel

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0
# A guard against a hung test, never an expectation of speed.
PATIENCE = 20.0


# -- a receiver of webhooks --------------------------------------------------


@dataclass
class Received:
    key: str  # the Idempotency-Key header
    body_id: str  # the notification id inside the JSON
    status: int | None = None  # what it was answered; None while held


class Receiver:
    """An HTTP server recording POSTs; `status` picks each answer; `hold` delays them."""

    def __init__(self, status: Callable[[Received], int] = lambda request: 200) -> None:
        self.status = status
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._released = threading.Event()
        self._released.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def keys(self) -> list[str]:
        return [request.key for request in self.requests]

    def answered(self, status: int) -> list[str]:
        return [request.key for request in self.requests if request.status == status]

    def hold(self) -> None:
        """Accept and read requests but answer none until release()."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = Received(
                    key=self.headers.get("Idempotency-Key", ""),
                    body_id=str(json.loads(body).get("id")),
                )
                with receiver._lock:
                    receiver._requests.append(request)
                receiver._released.wait()
                status = receiver.status(request)
                request.status = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed mid-delivery)

            def log_message(self, format: str, *args: object) -> None:
                return None

        return Handler


# -- helpers -----------------------------------------------------------------


def notification(
    id: str, created_at: float, channel: str = HOOK_CHANNEL, status: str = "firing"
) -> Notification:
    item = AlertItem(
        key=f"printer_jammed:lib/{id}",
        fingerprint=id[:8],
        rule="printer_jammed",
        status="firing" if status == "firing" else "resolved",
        severity="warning",
        labels={"alertname": "printer_jammed", "severity": "warning", "site": "lib"},
        summary="printer jammed",
        description="",
        starts_at=created_at,
        ends_at=None if status == "firing" else created_at,
    )
    return Notification(
        id=id,
        channel=channel,
        group_key="lib",
        group_labels={"site": "lib"},
        type="alert",
        status=item.status,
        created_at=created_at,
        items=(item,),
    )


def row_of(outbox: Outbox, id: str, channel: str = HOOK_CHANNEL) -> tuple[str, int, float, str]:
    """(state, attempts, next_attempt_at, last_error) of one row."""
    [row] = [r for r in outbox.rows() if r.id == id and r.channel == channel]
    return row.state, row.attempts, row.next_attempt_at, row.last_error or ""


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, PATIENCE)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "ocrfleet.sqlite"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running_receiver:
        yield running_receiver


def hook(receiver: Receiver) -> dict[str, Channel]:
    return {HOOK_CHANNEL: HttpPostChannel(HOOK_CHANNEL, receiver.port)}


# -- storing -----------------------------------------------------------------


def test_enqueue_is_idempotent_per_id_and_channel(database: Path) -> None:
    clock = ManualClock(T0)
    outbox = Outbox(StoreConnections(database), OutboxConfig(), clock)
    first = notification("n1", T0)
    assert outbox.enqueue([first]) == 1
    clock.advance(30)
    assert outbox.enqueue([first]) == 0
    assert outbox.enqueue([notification("n1", T0, channel="frontdesk")]) == 1
    assert outbox.enqueue([first, notification("n2", T0 + 1)]) == 1
    outbox.close()

    # Committed when enqueue returned: a new connection sees every row.
    reopened = Outbox(StoreConnections(database), OutboxConfig(), clock)
    rows = reopened.rows()
    assert [(r.id, r.channel) for r in rows] == [
        ("n1", HOOK_CHANNEL),
        ("n1", "frontdesk"),
        ("n2", HOOK_CHANNEL),
    ]
    assert all(r.state == "pending" and r.attempts == 0 for r in rows)
    # The repeat did not move the first row's schedule.
    assert rows[0].next_attempt_at == T0
    assert Notification.from_json(rows[0].payload) == first
    assert reopened.pending() == 3
    reopened.close()


def test_purge_deletes_only_rows_finished_long_ago(database: Path) -> None:
    config = OutboxConfig(keep_delivered=3600)
    outbox = Outbox(StoreConnections(database), config, ManualClock(T0))
    outbox.enqueue([notification(f"n{i}", T0 + i) for i in range(4)])
    old, recent, refused, waiting = outbox.rows()
    outbox.mark_delivered(old, T0 - 3601)
    outbox.mark_delivered(recent, T0 - 10)
    outbox.mark_failed(refused, T0 - 7200, "HTTP 400")
    assert outbox.purge(T0) == 2
    assert [r.id for r in outbox.rows()] == [recent.id, waiting.id]
    assert outbox.pending() == 1
    outbox.close()


# -- delivering --------------------------------------------------------------


def test_outage_then_recovery_delivers_everything_in_order_with_back_off(
    database: Path, receiver: Receiver
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig(retry_initial=5, retry_max=600)
    down_until = T0 + 600  # the receiver is down for ten minutes
    receiver.status = lambda request: 503 if clock.now() < down_until else 200
    outbox = Outbox(StoreConnections(database), config, clock)
    # A firing notification, its resolution, and another group's.
    sent = [
        notification("a-firing", T0 - 3),
        notification("a-resolved", T0 - 2, status="resolved"),
        notification("b-firing", T0 - 1),
    ]
    outbox.enqueue(sent)
    dispatcher = Dispatcher(
        StoreConnections(database), hook(receiver), config, clock, jitter=random.Random(7)
    )

    def tried(failed_before: int) -> Callable[[], bool]:
        def done() -> bool:
            state, attempts, _, _ = row_of(outbox, "a-firing")
            return state == "delivered" or attempts > failed_before

        return done

    async def scenario() -> int:
        failed_tries = 0
        async with running(dispatcher):
            while True:
                await until(tried(failed_tries), f"try {failed_tries + 1}")
                state, attempts, next_attempt_at, error = row_of(outbox, "a-firing")
                if state == "delivered":
                    break
                failed_tries += 1
                assert attempts == failed_tries
                assert error == "HTTP 503"
                nominal = min(600.0, 5.0 * 2 ** (failed_tries - 1))
                assert 0.9 * nominal <= next_attempt_at - clock.now() <= 1.1 * nominal
                # Younger rows wait behind the oldest: order beats speed.
                assert receiver.keys() == ["a-firing"] * failed_tries
                clock.set(next_attempt_at)
                dispatcher.wake()
            await until(lambda: outbox.pending() == 0, "the rest delivered")
        return failed_tries

    failed_tries = asyncio.run(scenario())

    # Tries at about 0, 5, 15, 35, 75, 155, 315 and 635 s: seven fail, at most
    # one more if the jitter shortened the waits.
    assert failed_tries in (7, 8)
    assert receiver.answered(503) == ["a-firing"] * failed_tries
    assert receiver.answered(200) == ["a-firing", "a-resolved", "b-firing"]
    assert all(request.key == request.body_id for request in receiver.requests)
    assert [r.state for r in outbox.rows()] == ["delivered"] * 3
    assert dispatcher.stats.outcomes == {
        (HOOK_CHANNEL, "delivered"): 3,
        (HOOK_CHANNEL, "retried"): failed_tries,
        (HOOK_CHANNEL, "failed"): 0,
        (HOOK_CHANNEL, "expired"): 0,
    }

    registry = CollectorRegistry()
    registry.register(OutboxCollector(lambda: dispatcher.stats, outbox.pending))
    labels = {"channel": HOOK_CHANNEL}
    sample = registry.get_sample_value
    assert sample("ocrfleet_notifications_total", {**labels, "outcome": "delivered"}) == 3
    assert sample("ocrfleet_notifications_total", {**labels, "outcome": "retried"}) == failed_tries
    assert sample("ocrfleet_notifications_total", {**labels, "outcome": "failed"}) == 0
    assert sample("ocrfleet_outbox_pending", {}) == 0
    outbox.close()


def test_back_off_doubles_up_to_the_maximum() -> None:
    config = OutboxConfig(retry_initial=5, retry_max=600)
    assert [retry_delay(n, config) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert retry_delay(10_000, config) == 600


def test_refused_notification_fails_at_once_and_is_not_retried(
    database: Path, receiver: Receiver
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig()
    receiver.status = lambda request: 400 if request.key == "malformed" else 200
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("malformed", T0 - 2), notification("fine", T0 - 1)])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def scenario() -> None:
        async with running(dispatcher):
            await until(lambda: outbox.pending() == 0, "both handled")
            # A day later, with something new to send: the refused one stays refused.
            clock.advance(86400)
            outbox.enqueue([notification("later", clock.now())])
            dispatcher.wake()
            await until(lambda: row_of(outbox, "later")[0] == "delivered", "the later one")

    asyncio.run(scenario())
    state, attempts, _, error = row_of(outbox, "malformed")
    assert (state, attempts, error) == ("failed", 0, "HTTP 400")
    assert receiver.keys() == ["malformed", "fine", "later"]
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "failed")] == 1
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "retried")] == 0
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "delivered")] == 2
    outbox.close()


def test_undeliverable_notifications_expire(
    database: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig(retry_initial=5, give_up_after=60)
    receiver.status = lambda request: 503
    outbox = Outbox(StoreConnections(database), config, clock)
    # "retired" was a channel of an older config: nothing can deliver it.
    outbox.enqueue([notification("n1", T0), notification("n1", T0, channel="retired")])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    def unknown_channel_warnings() -> int:
        return sum("no such channel" in r.getMessage() for r in caplog.records)

    async def scenario() -> None:
        async with running(dispatcher):
            await until(lambda: row_of(outbox, "n1")[1] == 1, "the first try")
            await until(lambda: unknown_channel_warnings() > 0, "a word about 'retired'")
            clock.set(T0 + 61)
            dispatcher.wake()
            await until(lambda: outbox.pending() == 0, "both given up")

    asyncio.run(scenario())
    assert [(r.channel, r.state) for r in outbox.rows()] == [
        (HOOK_CHANNEL, "expired"),
        ("retired", "expired"),
    ]
    assert all(r.finished_at == T0 + 61 for r in outbox.rows())
    # Not tried again once expired, though its retry was due as well.
    assert receiver.keys() == ["n1"]
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "expired")] == 1
    assert dispatcher.stats.outcomes[("retired", "expired")] == 1
    assert unknown_channel_warnings() == 1
    outbox.close()


def test_a_moved_clock_is_noticed_without_a_wake(database: Path, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig(retry_initial=5, give_up_after=60)
    receiver.status = lambda request: 503 if clock.now() < T0 + 1 else 200
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("n1", T0), notification("n1", T0, channel="retired")])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def scenario() -> None:
        async with running(dispatcher):
            await until(lambda: row_of(outbox, "n1")[1] == 1, "the first try")
            clock.set(row_of(outbox, "n1")[2])
            await until(lambda: row_of(outbox, "n1")[0] == "delivered", "the retry, when due")
            # Only the row of the unknown channel is left: its expiry alone is due.
            clock.set(T0 + 61)
            await until(lambda: outbox.pending() == 0, "the expiry, when due")

    asyncio.run(scenario())
    assert receiver.keys() == ["n1", "n1"]
    assert row_of(outbox, "n1", "retired")[0] == "expired"
    outbox.close()


def test_a_slow_channel_does_not_hold_up_another(database: Path) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig()
    with Receiver() as slow, Receiver() as fast:
        slow.hold()
        channels: dict[str, Channel] = {
            "slow": HttpPostChannel("slow", slow.port),
            "fast": HttpPostChannel("fast", fast.port),
        }
        outbox = Outbox(StoreConnections(database), config, clock)
        outbox.enqueue(
            [notification("n1", T0, channel="slow"), notification("n2", T0 + 1, channel="fast")]
        )
        dispatcher = Dispatcher(StoreConnections(database), channels, config, clock)

        async def scenario() -> None:
            async with running(dispatcher):
                await until(lambda: slow.keys() == ["n1"], "the slow delivery to start")
                await until(lambda: row_of(outbox, "n2", "fast")[0] == "delivered", "the fast one")
                assert row_of(outbox, "n1", "slow")[0] == "pending"
                slow.release()
                await until(lambda: outbox.pending() == 0, "the slow one")

        asyncio.run(scenario())
        outbox.close()


def test_a_delivery_without_answer_times_out_and_is_retried(
    database: Path, receiver: Receiver
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig(delivery_timeout=0.2)
    receiver.hold()
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("n1", T0)])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def scenario() -> None:
        async with running(dispatcher):
            await until(lambda: row_of(outbox, "n1")[1] == 1, "the timeout")
            receiver.release()
            clock.set(row_of(outbox, "n1")[2])
            dispatcher.wake()
            await until(lambda: outbox.pending() == 0, "the retry")

    asyncio.run(scenario())
    assert row_of(outbox, "n1")[3] == "no answer within 0.2 s"
    assert receiver.keys() == ["n1", "n1"]
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "retried")] == 1
    outbox.close()


def test_an_unreadable_row_fails_and_the_rest_goes_on(database: Path, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig()
    outbox = Outbox(StoreConnections(database), config, clock)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO outbox (id, channel, created_at, payload, next_attempt_at)"
            " VALUES ('garbled', ?, ?, '{\"id\": truncat', ?)",
            (HOOK_CHANNEL, T0 - 1, T0),
        )
    db.close()
    outbox.enqueue([notification("fine", T0)])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def scenario() -> None:
        async with running(dispatcher):
            await until(lambda: outbox.pending() == 0, "both handled")

    asyncio.run(scenario())
    state, _, _, error = row_of(outbox, "garbled")
    assert state == "failed"
    assert error.startswith("unreadable stored notification")
    assert receiver.keys() == ["fine"]
    outbox.close()


def test_a_failing_database_write_loses_nothing_and_repeats_nothing(
    database: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig()
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("n1", T0)])
    # Every change of an outbox row fails, as on a full disk.
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON outbox"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    db.close()
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    def complaints() -> int:
        return sum("not saved" in r.getMessage() for r in caplog.records)

    async def scenario() -> None:
        async with running(dispatcher) as task:
            await until(lambda: complaints() > 0, "the failed write to be logged")
            assert not task.done()
            with sqlite3.connect(database) as db:
                db.execute("DROP TRIGGER refuse")
            db.close()
            await until(lambda: outbox.pending() == 0, "the outcome saved")

    asyncio.run(scenario())
    assert row_of(outbox, "n1")[0] == "delivered"
    assert receiver.keys() == ["n1"]
    assert dispatcher.stats.outcomes[(HOOK_CHANNEL, "delivered")] == 1
    outbox.close()


# -- stopping and crashing ---------------------------------------------------


def test_stop_lets_the_delivery_in_flight_finish(database: Path, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig()
    receiver.hold()
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("n1", T0), notification("n2", T0 + 1)])
    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        await until(lambda: receiver.keys() == ["n1"], "the first delivery to start")
        stop.set()
        await asyncio.sleep(0)
        assert not task.done()
        receiver.release()
        await asyncio.wait_for(task, PATIENCE)

    asyncio.run(scenario())
    # The one in flight was finished and recorded; the next one waits for the restart.
    assert [(r.id, r.state) for r in outbox.rows()] == [("n1", "delivered"), ("n2", "pending")]
    assert receiver.keys() == ["n1"]
    outbox.close()


def test_a_restarted_dispatcher_resumes_where_the_last_stopped(
    database: Path, receiver: Receiver
) -> None:
    clock = ManualClock(T0)
    config = OutboxConfig(retry_initial=5)
    receiver.status = lambda request: 503
    outbox = Outbox(StoreConnections(database), config, clock)
    outbox.enqueue([notification("n1", T0), notification("n2", T0 + 1)])
    first = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def first_run() -> None:
        async with running(first):
            await until(lambda: row_of(outbox, "n1")[1] == 1, "a failed try")

    asyncio.run(first_run())
    assert outbox.pending() == 2

    receiver.status = lambda request: 200
    clock.set(row_of(outbox, "n1")[2])
    second = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def second_run() -> None:
        async with running(second):
            await until(lambda: outbox.pending() == 0, "the rest delivered")

    asyncio.run(second_run())
    assert receiver.answered(200) == ["n1", "n2"]
    assert row_of(outbox, "n1")[1] == 1  # the try before the restart still counts
    outbox.close()


def test_killed_mid_delivery_the_notification_is_delivered_again_with_the_same_key(
    database: Path, receiver: Receiver
) -> None:
    config = OutboxConfig()
    clock = SystemClock()
    outbox = Outbox(StoreConnections(database), config, clock)
    now = clock.now()
    enqueued = ["n1", "n2", "n3"]
    outbox.enqueue([notification(id, now + i) for i, id in enumerate(enqueued)])
    receiver.hold()
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_worker", str(database), str(receiver.port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_until(
            lambda: receiver.keys() == ["n1"] or worker.poll() is not None,
            "the worker's first delivery",
        )
        assert worker.poll() is None, "the worker ended by itself"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert row_of(outbox, "n1")[0] == "pending"
    receiver.release()  # its answer goes to a dead connection

    dispatcher = Dispatcher(StoreConnections(database), hook(receiver), config, clock)

    async def after_restart() -> None:
        async with running(dispatcher):
            await until(lambda: outbox.pending() == 0, "everything delivered")

    asyncio.run(after_restart())
    keys = receiver.keys()
    assert keys == ["n1", "n1", "n2", "n3"]
    assert all(request.key == request.body_id for request in receiver.requests)
    # Exactly once per idempotency key, as the receiver deduplicates.
    assert set(keys) == set(enqueued)
    assert receiver.answered(200)[-3:] == enqueued
    outbox.close()


def test_the_pending_gauge_is_left_out_when_the_outbox_cannot_be_read(database: Path) -> None:
    outbox = Outbox(StoreConnections(database), OutboxConfig(), ManualClock(T0))
    outbox.close()
    dispatcher = Dispatcher(StoreConnections(database), {}, OutboxConfig(), ManualClock(T0))
    registry = CollectorRegistry()
    registry.register(OutboxCollector(lambda: dispatcher.stats, outbox.pending))
    assert registry.get_sample_value("ocrfleet_outbox_pending", {}) is None
