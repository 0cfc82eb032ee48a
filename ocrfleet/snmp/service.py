"""The daemon's one SNMP service: clients for devices, and the bound on polls at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrfleet.snmp.ber import OidEncoder
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.community import CommunityClient
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c
from ocrfleet.snmp.udp import UdpRequester

if TYPE_CHECKING:
    # pysnmp costs ~40 MiB and 0.5-3 s of CPU to start: only fleets with
    # SNMPv3 devices load it.
    from ocrfleet.snmp.usm import UsmEngine


class SnmpService:
    """The daemon's SNMP requests: one UDP socket for v1/v2c, pysnmp for v3."""

    def __init__(self) -> None:
        self._udp = UdpRequester()
        self._encode_oid = OidEncoder()
        self._usm: UsmEngine | None = None

    def usm(self) -> UsmEngine:
        """The pysnmp engine for SNMPv3, built on first use."""
        if self._usm is None:
            from ocrfleet.snmp.usm import UsmEngine

            self._usm = UsmEngine()
        return self._usm

    def warm_up_v3(self) -> None:
        """Load pysnmp and build its MIB view now; blocking, so call it off the loop.

        Done inside the first v3 poll instead, its 0.5-3 s of CPU would stall
        every other poll.
        """
        self.usm().warm_up()

    async def client(self, options: SnmpDeviceOptions) -> SnmpClient:
        if isinstance(options.snmp, SnmpV1V2c):
            family, address = await self._udp.resolve(options.host, options.port)
            return CommunityClient(options, self._udp, self._encode_oid, family, address)
        return await self.usm().client(options)

    def close(self) -> None:
        self._udp.close()
        if self._usm is not None:
            self._usm.close()
