"""The daemon's one SNMP service: clients for devices, and the bound on polls at once."""

from __future__ import annotations

from ocrfleet.snmp.ber import OidEncoder
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.community import CommunityClient
from ocrfleet.snmp.diagnosis_metrics import AnswerStats
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c
from ocrfleet.snmp.udp import UdpRequester
from ocrfleet.snmp.usm import UsmClient, UsmShared


class SnmpService:
    """The daemon's SNMP requests, v1/v2c and v3 alike, over one UDP socket."""

    def __init__(self, answers: AnswerStats | None = None) -> None:
        self._udp = UdpRequester(answers)
        self._encode_oid = OidEncoder()
        self._usm = UsmShared()

    async def client(self, options: SnmpDeviceOptions) -> SnmpClient:
        family, address = await self._udp.resolve(options.host, options.port)
        if isinstance(options.snmp, SnmpV1V2c):
            return CommunityClient(options, self._udp, self._encode_oid, family, address)
        return UsmClient(options, self._udp, self._encode_oid, family, address, self._usm)

    def close(self) -> None:
        self._udp.close()
