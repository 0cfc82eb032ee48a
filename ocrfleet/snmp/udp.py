"""SNMPv1/v2c requests over one shared UDP socket per address family.

A socket per device would need a file descriptor per device (a 1,000-printer
fleet would hit the usual limit of 1,024); one socket with answers matched
by request-id and sender is what SNMP managers do. An answer from another
address than the one asked, or with another request-id or community, is
dropped: it is a late answer to a request already given up, or a spoof.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from dataclasses import dataclass, field

from ocrfleet.snmp.ber import BerError, Response, ResponseDecoder
from ocrfleet.snmp.values import SnmpError

log = logging.getLogger(__name__)

_MAX_DATAGRAM = 65_535
Address = tuple[str, int]


@dataclass(eq=False)
class _Pending:
    future: asyncio.Future[Response]
    address: Address
    community: bytes
    message: bytes
    tries_left: int
    timeout: float
    tries: int
    timer: asyncio.TimerHandle | None = field(default=None)


class UdpRequester:
    """Sends requests and hands each answer to the request that awaits it."""

    def __init__(self) -> None:
        self._decoder = ResponseDecoder()
        self._sockets: dict[int, socket.socket] = {}
        self._pending: dict[int, _Pending] = {}
        self._next_id = random.randrange(1, 1 << 30)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0

    def request_id(self) -> int:
        self._next_id = self._next_id + 1 if self._next_id < 0x7FFFFFFF else 1
        return self._next_id

    async def resolve(self, host: str, port: int) -> tuple[int, Address]:
        """(address family, address) for a host name or IP; once per client."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise SnmpError("unreachable", f"{host}: {exc}") from exc
        # IPv4 first: "localhost" often resolves to ::1 first, and most
        # agents (snmpsim, many printers) listen on IPv4 only.
        found.sort(key=lambda entry: entry[0] != socket.AF_INET)
        family, _, _, _, address = found[0]
        return family, (str(address[0]), int(address[1]))

    async def exchange(
        self,
        family: int,
        address: Address,
        request_id: int,
        community: bytes,
        message: bytes,
        timeout: float,
        retries: int,
    ) -> Response:
        """Send `message`, resending on timeout; the first matching answer wins.

        Every try carries the same request-id, so a late answer to an earlier
        try still counts.
        """
        loop = asyncio.get_running_loop()
        sock = self._socket(family, loop)
        pending = _Pending(
            loop.create_future(), address, community, message, retries, timeout, retries + 1
        )
        self._pending[request_id] = pending
        try:
            self._send(sock, pending)
            pending.timer = loop.call_later(timeout, self._expired, sock, request_id)
            return await pending.future
        finally:
            if pending.timer is not None:
                pending.timer.cancel()
            if self._pending.get(request_id) is pending:
                del self._pending[request_id]

    def _send(self, sock: socket.socket, pending: _Pending) -> None:
        try:
            sock.sendto(pending.message, pending.address)
        except BlockingIOError:
            pass  # the send buffer is full: the timeout resends
        except OSError as exc:
            raise SnmpError("unreachable", f"{pending.address[0]}: {exc.strerror or exc}") from exc

    def _expired(self, sock: socket.socket, request_id: int) -> None:
        pending = self._pending.get(request_id)
        if pending is None or pending.future.done():
            return
        if pending.tries_left <= 0:
            pending.future.set_exception(
                SnmpError("timeout", _no_response(pending.timeout, pending.tries))
            )
            return
        pending.tries_left -= 1
        try:
            self._send(sock, pending)
        except SnmpError as exc:
            pending.future.set_exception(exc)
            return
        loop = pending.future.get_loop()
        pending.timer = loop.call_later(pending.timeout, self._expired, sock, request_id)

    def _socket(self, family: int, loop: asyncio.AbstractEventLoop) -> socket.socket:
        sock = self._sockets.get(family)
        if sock is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
            loop.add_reader(sock.fileno(), self._readable, sock)
            self._loop = loop
            self._sockets[family] = sock
        return sock

    def _readable(self, sock: socket.socket) -> None:
        # Drain what is queued: one wake-up per burst of answers, not per answer.
        while True:
            try:
                data, sender = sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # An ICMP error queued on the socket; the request it belongs
                # to is not known here and ends by its timeout.
                log.debug("SNMP socket error: %s", exc)
                continue
            self._answer(data, (str(sender[0]), int(sender[1])))

    def _answer(self, data: bytes, sender: Address) -> None:
        try:
            response = self._decoder.decode(data)
        except BerError as exc:
            pending = self._pending.get(exc.request_id) if exc.request_id is not None else None
            if pending is not None and pending.address == sender and not pending.future.done():
                pending.future.set_exception(
                    SnmpError("protocol", f"malformed answer from {sender[0]}: {exc}")
                )
            else:
                self.dropped += 1
            return
        pending = self._pending.get(response.request_id)
        if (
            pending is None
            or pending.address != sender
            or pending.community != response.community
            or pending.future.done()
        ):
            self.dropped += 1
            return
        pending.future.set_result(response)

    def close(self) -> None:
        for sock in self._sockets.values():
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._sockets.clear()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()
        self._pending.clear()


def _no_response(timeout: float, tries: int) -> str:
    return f"no response in {tries} {'try' if tries == 1 else 'tries'} of {timeout:g} s"
