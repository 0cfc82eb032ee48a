"""SNMP requests (v1, v2c and v3) over one shared UDP socket per address family.

A socket per device would need a file descriptor per device (a 1,000-printer
fleet would hit the usual limit of 1,024); one socket with answers matched
by request-id and sender is what SNMP managers do. An answer from another
address than the one asked, or with another request-id or community, is
dropped: it is a late answer to a request already given up, or a spoof.
Drops are counted by reason (ocrfleet/snmp/diagnosis_metrics.py).

A datagram that does not decode cannot fail a request at once unless its
request-id could be read: anyone can send one from anywhere. It is noted on
the requests pending to the address it came from instead, and a request
that then gets no valid answer fails with its reason (`truncated`,
`malformed`) rather than as a `timeout`: an agent that answers garbage is
not an agent that is off. An SNMPv3 msgID proves no more than the address:
a v3 datagram that does not decode, or does not pass the USM client's
checks unauthenticated, is noted on its request, never fails it at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ocrfleet.snmp.ber import BerError, Response, ResponseDecoder
from ocrfleet.snmp.diagnosis_metrics import AnswerStats, DropReason
from ocrfleet.snmp.usm_message import V3Error, V3Message, decode_message, message_id
from ocrfleet.snmp.values import SnmpError

log = logging.getLogger(__name__)

_MAX_DATAGRAM = 65_535
_LAST_REQUEST_ID = 0x7FFFFFFF
# How many of the last request-ids sent an answer may carry to count as
# late rather than unknown: about an hour of a 1,000-device fleet's polls.
_RECENT_REQUEST_IDS = 1 << 20
Address = tuple[str, int]
T = TypeVar("T")


@dataclass(eq=False)
class _Pending:
    future: asyncio.Future[Any]  # a Response, or what `accept` makes of a v3 answer
    address: Address
    community: bytes
    message: bytes
    tries_left: int
    timeout: float
    tries: int
    timer: asyncio.TimerHandle | None = field(default=None)
    # SNMPv3: checks an answer (authentication, time window, decryption) and
    # returns the result, or None to drop it and keep waiting.
    accept: Callable[[V3Message], Any] | None = None
    # Undecodable answers from the address asked: reason -> (count, first error).
    undecodable: dict[str, tuple[int, str]] = field(default_factory=dict)

    def note(self, error: BerError) -> None:
        seen = self.undecodable.get(error.reason)
        self.undecodable[error.reason] = (1, str(error)) if seen is None else (seen[0] + 1, seen[1])


class UdpRequester:
    """Sends requests and hands each answer to the request that awaits it."""

    def __init__(self, stats: AnswerStats | None = None) -> None:
        self._decoder = ResponseDecoder()
        self._sockets: dict[int, socket.socket] = {}
        self._pending: dict[int, _Pending] = {}
        # The request-ids pending per address, for the undecodable answers
        # that come from it (a scan of all pending requests per datagram
        # would let a flood of garbage cost CPU in proportion to the fleet).
        self._by_address: dict[Address, set[int]] = {}
        self._next_id = random.randrange(1, 1 << 30)
        self._issued = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = stats if stats is not None else AnswerStats()

    def request_id(self) -> int:
        self._next_id = self._next_id + 1 if self._next_id < _LAST_REQUEST_ID else 1
        self._issued += 1
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
        pending = _Pending(
            loop.create_future(), address, community, message, retries, timeout, retries + 1
        )
        response: Response = await self._wait(family, request_id, pending)
        return response

    async def exchange_v3(
        self,
        family: int,
        address: Address,
        msg_id: int,
        message: bytes,
        timeout: float,
        retries: int,
        accept: Callable[[V3Message], T | None],
    ) -> T:
        """An SNMPv3 request: answers match by msgID and sender, then `accept` judges them."""
        loop = asyncio.get_running_loop()
        pending = _Pending(
            loop.create_future(),
            address,
            b"",
            message,
            retries,
            timeout,
            retries + 1,
            accept=accept,
        )
        result: T = await self._wait(family, msg_id, pending)
        return result

    async def _wait(self, family: int, request_id: int, pending: _Pending) -> Any:
        loop = asyncio.get_running_loop()
        sock = self._socket(family, loop)
        address = pending.address
        timeout = pending.timeout
        self._pending[request_id] = pending
        at_address = self._by_address.get(address)
        if at_address is None:
            at_address = self._by_address[address] = set()
        at_address.add(request_id)
        try:
            self._send(sock, pending)
            pending.timer = loop.call_later(timeout, self._expired, sock, request_id)
            return await pending.future
        finally:
            if pending.timer is not None:
                pending.timer.cancel()
            if self._pending.get(request_id) is pending:
                del self._pending[request_id]
                at_address.discard(request_id)
                if not at_address and self._by_address.get(address) is at_address:
                    del self._by_address[address]

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
            pending.future.set_exception(_no_valid_answer(pending))
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
            self.stats.in_use = True
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
            # An SNMPv3 message fails the v2c decoder at its second field.
            msg_id = message_id(data)
            if msg_id is None:
                self._undecodable(exc, sender)
            else:
                self._v3_answer(data, msg_id, sender)
            return
        pending = self._pending.get(response.request_id)
        if pending is None:
            late = self._recently_issued(response.request_id)
            self.stats.count(DropReason.LATE if late else DropReason.UNKNOWN_REQUEST)
        elif pending.address != sender:
            self.stats.count(DropReason.WRONG_SENDER)
        elif pending.accept is not None:
            self.stats.count(DropReason.UNKNOWN_REQUEST)  # a v2c answer to a v3 request
        elif pending.community != response.community:
            self.stats.count(DropReason.WRONG_COMMUNITY)
        elif pending.future.done():
            self.stats.count(DropReason.LATE)
        else:
            pending.future.set_result(response)

    def _v3_answer(self, data: bytes, msg_id: int, sender: Address) -> None:
        pending = self._pending.get(msg_id)
        if pending is None:
            late = self._recently_issued(msg_id)
            self.stats.count(DropReason.LATE if late else DropReason.UNKNOWN_REQUEST)
            return
        if pending.address != sender:
            self.stats.count(DropReason.WRONG_SENDER)
            return
        if pending.accept is None:
            self.stats.count(DropReason.UNKNOWN_REQUEST)  # a v3 answer to a v2c request
            return
        if pending.future.done():
            self.stats.count(DropReason.LATE)
            return
        try:
            result = pending.accept(decode_message(data))
        except V3Error as exc:
            # Noted, not failed: unlike a v2c answer's request-id, a msgID
            # readable in an undecodable or unauthenticated datagram proves
            # nothing, and the agent's own answer may still come.
            self.stats.count(DropReason(exc.reason))
            pending.note(exc)
            return
        except SnmpError as exc:
            pending.future.set_exception(exc)
            return
        if result is not None:
            pending.future.set_result(result)
        # None: not authentic, or a replay; the client keeps waiting.

    def _undecodable(self, error: BerError, sender: Address) -> None:
        if error.request_id is not None:
            pending = self._pending.get(error.request_id)
            if pending is not None and pending.address == sender and not pending.future.done():
                # It names a request of ours and comes from where we asked.
                pending.future.set_exception(
                    SnmpError(error.reason, f"{error.reason} answer from {_where(sender)}: {error}")
                )
                return
        self.stats.count(DropReason(error.reason))
        for request_id in self._by_address.get(sender, ()):
            self._pending[request_id].note(error)

    def _recently_issued(self, request_id: int) -> bool:
        """Whether `request_id` is one of ours from the last while: a late answer."""
        if not 0 < request_id <= _LAST_REQUEST_ID:
            return False
        back = (self._next_id - request_id) % _LAST_REQUEST_ID
        return back < min(self._issued, _RECENT_REQUEST_IDS)

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
        self._by_address.clear()


def _no_valid_answer(pending: _Pending) -> SnmpError:
    """A `timeout`, or the reason of the undecodable answers the address sent meanwhile."""
    tries = f"{pending.tries} {'try' if pending.tries == 1 else 'tries'} of {pending.timeout:g} s"
    if not pending.undecodable:
        return SnmpError("timeout", f"no response in {tries}")
    # The most frequent reason names the failure; ties go to "truncated",
    # the likelier fault of an agent that answers at all.
    seen = sorted(
        pending.undecodable.items(), key=lambda item: (-item[1][0], item[0] != "truncated")
    )
    where = _where(pending.address)
    found = "; ".join(
        f"{count} {reason} {'answer' if count == 1 else 'answers'} from {where} ({first})"
        for reason, (count, first) in seen
    )
    return SnmpError(seen[0][0], f"no valid answer in {tries}; {found}")


def _where(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
