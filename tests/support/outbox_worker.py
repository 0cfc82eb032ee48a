"""A channel that POSTs notifications over HTTP, and a dispatcher process using it.

Run as `python -m tests.support.outbox_worker DATABASE PORT`: it delivers
the outbox of DATABASE to http://127.0.0.1:PORT/hook until it is killed,
which is what the crash test does to it mid-delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from ocrfleet.clock import SystemClock
from ocrfleet.config.alerting import OutboxConfig
from ocrfleet.notify.channels import Channel, DeliveryError
from ocrfleet.notify.notification import Notification
from ocrfleet.notify.outbox import Dispatcher
from ocrfleet.store.connections import StoreConnections

HOOK_CHANNEL = "hook"


class HttpPostChannel(Channel):
    """POSTs the notification's JSON with its id as `Idempotency-Key`.

    Plain HTTP/1.0 over asyncio streams, so a timeout or a stop cancels it
    cleanly. 5xx, 408 and 429 are worth retrying; other statuses are not.
    """

    def __init__(self, name: str, port: int, host: str = "127.0.0.1") -> None:
        super().__init__(name)
        self._host = host
        self._port = port

    async def deliver(self, notification: Notification) -> None:
        body = notification.to_json().encode()
        head = (
            f"POST /hook HTTP/1.0\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/json\r\n"
            f"Idempotency-Key: {notification.id}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            writer.write(head.encode() + body)
            await writer.drain()
            status_line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            raise DeliveryError(f"not an HTTP answer: {status_line[:80]!r}")
        status = int(parts[1])
        if 200 <= status < 300:
            return
        raise DeliveryError(f"HTTP {status}", retryable=status >= 500 or status in (408, 429))


async def _deliver_forever(database: Path, port: int) -> None:
    dispatcher = Dispatcher(
        StoreConnections(database),
        {HOOK_CHANNEL: HttpPostChannel(HOOK_CHANNEL, port)},
        OutboxConfig(),
        SystemClock(),
    )
    await dispatcher.run(asyncio.Event())


def main(argv: list[str]) -> None:
    database, port = argv
    asyncio.run(_deliver_forever(Path(database), int(port)))


if __name__ == "__main__":
    main(sys.argv[1:])
