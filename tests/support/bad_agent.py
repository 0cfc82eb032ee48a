"""An SNMP agent on 127.0.0.1 that spoils a real agent's answers on cue.

It relays each request to a real agent (snmpsim) and its answer back, as it
is, cut short, replaced by garbage, or not at all: what a printer with too
small a buffer, a web server on port 161, or a dead agent look like to the
daemon. It runs its own event loop on a thread, as the daemon in the tests
does, so a test switches its behaviour between polls.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from enum import StrEnum
from typing import Any, cast

Address = tuple[str, int]

# What a web server would answer on the agent's port: not SNMP at all.
GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


class Spoil(StrEnum):
    NOTHING = "nothing"  # the real answer, as it is
    TRUNCATE = "truncate"  # the real answer, cut to its first `keep` bytes
    GARBAGE = "garbage"  # GARBAGE instead of an answer
    SILENCE = "silence"  # no answer


class _Front(asyncio.DatagramProtocol):
    def __init__(self, agent: BadAgent) -> None:
        self._agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._agent.received(data, (str(addr[0]), int(addr[1])))


class _Back(asyncio.DatagramProtocol):
    def __init__(self, agent: BadAgent) -> None:
        self._agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._agent.answered(data)


class BadAgent:
    def __init__(self, upstream_port: int, spoil: Spoil = Spoil.NOTHING, keep: int = 40) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        # Read by the agent's loop at each datagram; set by the test between polls.
        self.spoil = spoil
        self.keep = keep
        self.requests = 0
        # How many datagrams went out per behaviour (NOTHING: real answers).
        self.sent: dict[Spoil, int] = dict.fromkeys(Spoil, 0)
        self._client: Address | None = None
        self._front = _Front(self)
        self._back = _Back(self)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> BadAgent:
        self._thread.start()
        ready: Future[int] = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        self.port = ready.result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _open(self) -> int:
        loop = asyncio.get_running_loop()
        front, _ = await loop.create_datagram_endpoint(
            lambda: self._front, local_addr=("127.0.0.1", 0)
        )
        await loop.create_datagram_endpoint(lambda: self._back, remote_addr=self.upstream)
        return int(front.get_extra_info("sockname")[1])

    async def _close(self) -> None:
        for side in (self._front, self._back):
            if side.transport is not None:
                side.transport.close()

    def received(self, data: bytes, client: Address) -> None:
        self.requests += 1
        self._client = client
        spoil = self.spoil
        if spoil is Spoil.SILENCE:
            return
        if spoil is Spoil.GARBAGE:
            self._send(GARBAGE, spoil)
            return
        assert self._back.transport is not None
        self._back.transport.sendto(data)

    def answered(self, answer: bytes) -> None:
        spoil = self.spoil
        if spoil is Spoil.TRUNCATE:
            self._send(answer[: self.keep], spoil)
        elif spoil is Spoil.NOTHING:
            self._send(answer, spoil)

    def _send(self, data: bytes, spoil: Spoil) -> None:
        assert self._front.transport is not None and self._client is not None
        self._front.transport.sendto(data, self._client)
        self.sent[spoil] += 1
