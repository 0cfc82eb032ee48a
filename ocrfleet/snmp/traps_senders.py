"""Which configured device sent a trap: addresses and communities of v1/v2c SNMP devices.

Host names are resolved when the receiver starts and on every reload, not
per trap: a trap storm must not become a storm of DNS lookups.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ocrfleet.config.secrets import DeferredSecret
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device a trap from some address may come from, with the community it must carry."""

    key: DeviceKey
    community: bytes


@dataclass(frozen=True)
class SenderTable:
    """Normalised IP address -> devices at that address; replaced whole, never changed."""

    by_address: Mapping[str, tuple[Candidate, ...]] = field(default_factory=dict)
    # [snmp.traps] senders: an address that stands for one device.
    mapped: Mapping[str, Candidate] = field(default_factory=dict)

    def candidates(self, addresses: Iterable[str | None]) -> tuple[Candidate, ...]:
        """The devices of the first address that has any (the datagram's, then agent-addr)."""
        for address in addresses:
            if address is None:
                continue
            normal = normal_address(address)
            if normal is None:
                continue
            mapped = self.mapped.get(normal)
            if mapped is not None:
                return (mapped,)
            found = self.by_address.get(normal)
            if found:
                return found
        return ()


def normal_address(address: str) -> str | None:
    """One spelling per IP address; IPv4 seen through an IPv6 socket as plain IPv4."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


def community_devices(
    devices: Mapping[DeviceKey, DeviceInfo],
) -> dict[DeviceKey, tuple[str, bytes]]:
    """(host, community) of every device polled with SNMPv1 or v2c.

    Devices polled with SNMPv3 are left out: v3 traps are not accepted, and
    a v1/v2c trap from such a device has no community to be checked against.
    """
    found: dict[DeviceKey, tuple[str, bytes]] = {}
    for key, device in devices.items():
        options = device.options
        if not isinstance(options, SnmpDeviceOptions) or not isinstance(options.snmp, SnmpV1V2c):
            continue
        secret = options.snmp.community
        if isinstance(secret, DeferredSecret):
            continue
        found[key] = (options.host, secret.get_secret_value().encode())
    return found


async def build_sender_table(
    devices: Mapping[DeviceKey, DeviceInfo], senders: Mapping[str, str]
) -> SenderTable:
    """Resolve every device's host (names concurrently) and apply the explicit senders."""
    polled = community_devices(devices)
    hosts = sorted({host for host, _ in polled.values()})
    resolved = await asyncio.gather(*(_addresses(host) for host in hosts))
    addresses_of = dict(zip(hosts, resolved, strict=True))
    by_address: dict[str, list[Candidate]] = {}
    for key, (host, community) in polled.items():
        for address in addresses_of[host]:
            by_address.setdefault(address, []).append(Candidate(key, community))
    mapped: dict[str, Candidate] = {}
    by_text = {str(key): key for key in devices}
    for address, device in senders.items():
        mapped_key = by_text.get(device)
        if mapped_key is None or mapped_key not in polled:
            log.warning(
                "snmp.traps.senders.%s: %s is not a device polled with SNMPv1 or v2c; ignored",
                address,
                device,
            )
            continue
        normal = normal_address(address)
        if normal is not None:
            mapped[normal] = Candidate(mapped_key, polled[mapped_key][1])
    return SenderTable({a: tuple(c) for a, c in by_address.items()}, mapped)


async def _addresses(host: str) -> tuple[str, ...]:
    literal = normal_address(host)
    if literal is not None:
        return (literal,)
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, ValueError) as exc:
        # ValueError: a name the IDNA codec refuses ("a..b"); it must not stop
        # the other devices' names from resolving.
        log.warning(
            "SNMP traps from %s cannot be matched: its name does not resolve: %s", host, exc
        )
        return ()
    normal = (normal_address(str(entry[4][0])) for entry in found)
    return tuple(sorted({address for address in normal if address is not None}))
