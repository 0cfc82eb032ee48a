"""SNMPv1 and v2c requests with the community string, on our own codec."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ocrfleet.snmp.ber import Varbind, encode_request
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV1V2c
from ocrfleet.snmp.udp import Address, UdpRequester
from ocrfleet.snmp.values import SnmpError


class CommunityClient(SnmpClient):
    def __init__(
        self,
        options: SnmpDeviceOptions,
        requester: UdpRequester,
        encode_oid: Callable[[str], bytes],
        family: int,
        address: Address,
    ) -> None:
        super().__init__(options)
        credentials = options.snmp
        assert isinstance(credentials, SnmpV1V2c)
        self._version = 0 if credentials.version == "1" else 1
        self._community = credentials.community.get_secret_value().encode()
        self._requester = requester
        self._encode_oid = encode_oid
        self._family = family
        self._address = address

    async def _exchange(
        self, pdu_type: int, oids: Sequence[str], max_repetitions: int = 0
    ) -> tuple[int, list[Varbind]]:
        requester = self._requester
        request_id = requester.request_id()
        message = encode_request(
            self._version,
            self._community,
            pdu_type,
            request_id,
            [self._encode_oid(oid) for oid in oids],
            max_repetitions=max_repetitions,
        )
        response = await requester.exchange(
            self._family,
            self._address,
            request_id,
            self._community,
            message,
            self._options.timeout,
            self._options.retries,
        )
        if response.version != self._version:
            raise SnmpError("protocol", f"agent answered in SNMP version {response.version}")
        return response.error_status, response.varbinds
