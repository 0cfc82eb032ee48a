"""An SNMP trap receiver: a trap from a known device makes it be polled at once.

The trap itself is not read for meaning: whatever it says (a jam, a link
going down, a restart), the device's next poll is moved to now, and the
device's kind reads the new state as on every poll. So a jam reaches the
front desk in seconds, not at the next poll interval.

SNMPv1 and v2c traps and v2c informs are accepted, checked against the
sending device's configured community. SNMPv3 notifications are not: they
are counted and logged.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
import socket
from collections.abc import Callable, Mapping

from ocrfleet.config.models import SnmpTrapsConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.snmp.traps_codec import (
    BerError,
    Notification,
    NotificationDecoder,
    UnsupportedVersion,
)
from ocrfleet.snmp.traps_metrics import TrapCollector, TrapResult, TrapStats
from ocrfleet.snmp.traps_names import trap_name
from ocrfleet.snmp.traps_senders import SenderTable, build_sender_table

log = logging.getLogger(__name__)

Address = tuple[str, int]


class TrapReceiver(asyncio.DatagramProtocol):
    """Receives traps on one UDP socket, bound when built so a taken port fails at start-up.

    `poll_now(key)` moves a device's next poll to now; False if it is not polled.
    """

    def __init__(self, config: SnmpTrapsConfig, poll_now: Callable[[DeviceKey], bool]) -> None:
        self._config = config
        self._poll_now = poll_now
        self._socket = _bind(config.listen, config.port)
        self._decoder = NotificationDecoder()
        self._table = SenderTable()
        self._transport: asyncio.DatagramTransport | None = None
        self._resolving: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_poll: dict[DeviceKey, float] = {}
        self._deferred: dict[DeviceKey, asyncio.TimerHandle] = {}
        # Keyed by what went wrong, not by sender: spoofed senders must not
        # grow it.
        self._log = RateLimitedLog(log, interval=60.0)
        self.stats = TrapStats()
        # Set once the devices' host names are resolved; traps before that
        # count as from unknown sources.
        self.resolved = asyncio.Event()

    @property
    def address(self) -> Address:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def collector(self) -> TrapCollector:
        return TrapCollector(lambda: self.stats)

    # -- lifecycle ---------------------------------------------------------

    async def start(self, devices: Mapping[DeviceKey, DeviceInfo]) -> None:
        loop = self._loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=self._socket)
        self._transport = transport
        self.reload(devices)
        host, port = self.address
        log.info("SNMP traps at udp %s:%d", host, port)

    def reload(self, devices: Mapping[DeviceKey, DeviceInfo]) -> None:
        """Match traps against this device list, its host names resolved again.

        Called on the event loop; before start() it does nothing.
        """
        if self._loop is None:
            return
        self.stats.forget_all_but(devices.keys())
        if self._resolving is not None:
            self._resolving.cancel()
        # Resolved in the background: a slow DNS server must not hold up
        # start-up or a reload.
        self._resolving = self._loop.create_task(
            self._resolve(dict(devices)), name="snmp-trap-senders"
        )

    async def _resolve(self, devices: Mapping[DeviceKey, DeviceInfo]) -> None:
        self._table = await build_sender_table(devices, self._config.senders)
        self.resolved.set()

    def close(self) -> None:
        if self._resolving is not None:
            self._resolving.cancel()
        for timer in self._deferred.values():
            timer.cancel()
        self._deferred.clear()
        if self._transport is not None:
            self._transport.close()
        else:
            self._socket.close()

    # -- receiving ---------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        sender = (str(addr[0]), int(addr[1]))
        try:
            self.receive(data, sender)
        except Exception:
            # A bug here must cost one trap, never the receiver.
            self.stats.count(TrapResult.UNDECODABLE)
            self._log.error("crash", "SNMP trap from %s not handled", sender[0], exc_info=True)

    def error_received(self, exc: Exception) -> None:
        log.debug("SNMP trap socket: %s", exc)

    def receive(self, data: bytes, sender: Address) -> TrapResult:
        """Handle one datagram; what became of it, also counted."""
        result = self._handle(data, sender)
        self.stats.count(result)
        return result

    def _handle(self, data: bytes, sender: Address) -> TrapResult:
        try:
            notification = self._decoder.decode_notification(data)
        except UnsupportedVersion as exc:
            self._log.warning(
                "unsupported_version",
                "SNMP trap from %s ignored: %s; SNMPv3 traps are not accepted, only v1 and v2c",
                sender[0],
                exc,
            )
            return TrapResult.UNSUPPORTED_VERSION
        except BerError as exc:
            self._log.warning("undecodable", "undecodable SNMP trap from %s: %s", sender[0], exc)
            return TrapResult.UNDECODABLE
        candidates = self._table.candidates((sender[0], notification.agent_address))
        if not candidates:
            self._log.warning(
                "unknown_source",
                "SNMP trap from %s (agent-addr %s) matches no SNMPv1/v2c device; ignored",
                sender[0],
                notification.agent_address or "-",
            )
            return TrapResult.UNKNOWN_SOURCE
        matched = [
            c.key for c in candidates if hmac.compare_digest(c.community, notification.community)
        ]
        if not matched:
            self._log.warning(
                "bad_community",
                "SNMP trap from %s ignored: its community is not the one configured for %s",
                sender[0],
                ", ".join(str(c.key) for c in candidates),
            )
            return TrapResult.BAD_COMMUNITY
        if notification.response is not None and self._transport is not None:
            # Answered before polling: the sender stops resending either way.
            self._transport.sendto(notification.response, sender)
        results = [self._accept(key, notification) for key in matched]
        return TrapResult.POLLED if TrapResult.POLLED in results else results[0]

    def _accept(self, key: DeviceKey, notification: Notification) -> TrapResult:
        name = trap_name(notification.trap_oid)
        self.stats.count_device(key, name)
        loop = asyncio.get_running_loop()
        now = loop.time()
        last = self._last_poll.get(key)
        interval = self._config.min_poll_interval
        if last is not None and now - last < interval:
            # One poll at the end of the window still reads what this trap
            # announced, however many traps come in it.
            if key not in self._deferred:
                self._deferred[key] = loop.call_later(
                    last + interval - now, self._deferred_poll, key
                )
            log.debug("SNMP trap %s (%s) from %s: poll deferred", name, notification.trap_oid, key)
            return TrapResult.RATE_LIMITED
        self._last_poll[key] = now
        if not self._poll_now(key):
            return TrapResult.UNKNOWN_SOURCE
        log.info("SNMP trap %s (%s) from %s: polling it now", name, notification.trap_oid, key)
        return TrapResult.POLLED

    def _deferred_poll(self, key: DeviceKey) -> None:
        del self._deferred[key]
        self._last_poll[key] = asyncio.get_running_loop().time()
        if self._poll_now(key):
            log.info(
                "polling %s now, after SNMP traps in the last %g s",
                key,
                self._config.min_poll_interval,
            )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = ""
        if exc.errno == errno.EACCES and port < 1024:
            hint = (
                "; ports below 1024 need root or the capability CAP_NET_BIND_SERVICE,"
                " or set snmp.traps.port to a high port such as 1162 (docs/snmp.md)"
            )
        raise OSError(
            f"snmp.traps: cannot listen on udp {host}:{port}: {exc.strerror or exc}{hint}"
        ) from None
    sock.setblocking(False)
    return sock
