"""Notifications in the BER wire format: SNMPv1 Trap-PDU, SNMPv2 Trap and Inform.

The receiving side of the codec in ber.py (RFC 1157 section 4.1.6, RFC 3416
section 4.2.6 and 4.2.7). An SNMPv1 trap is given the notification OID it
would have in SNMPv2 (RFC 3584 section 3.1), so the two look alike to the
receiver: a printer's v1 alert and its v2 alert carry one OID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.ber import (
    _IP_ADDRESS,
    _OBJECT_ID,
    _OCTET_STRING,
    _SEQUENCE,
    _TIME_TICKS,
    RESPONSE,
    BerError,
    ResponseDecoder,
    Varbind,
    _decode_oid,
    _integer,
    _tlv,
)

TRAP_V1: Final = 0xA4
INFORM: Final = 0xA6
TRAP_V2: Final = 0xA7

SNMP_TRAP_OID: Final = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAPS: Final = "1.3.6.1.6.3.1.1.5"
_ENTERPRISE_SPECIFIC = 6


class UnsupportedVersion(BerError):
    """A well-formed message header of an SNMP version this codec does not decode (v3)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"it is SNMP version {_version_name(version)}")
        self.version = version


@dataclass(frozen=True, slots=True)
class Notification:
    """A trap or inform as received.

    `version` is the wire value (0: v1, 1: v2c). `trap_oid` is the
    notification's OID (snmpTrapOID.0; for v1 translated by RFC 3584).
    `agent_address` is the v1 agent-addr field, None in v2c. An inform
    (`request_id` set) must be answered with `response`.
    """

    version: int
    community: bytes
    trap_oid: str
    agent_address: str | None
    varbinds: list[Varbind]
    request_id: int | None = None
    response: bytes | None = None


class NotificationDecoder(ResponseDecoder):
    """Decodes trap and inform messages; other PDUs are a BerError."""

    def decode_notification(self, data: bytes) -> Notification:
        try:
            return self._decode_notification(data)
        except BerError:
            raise
        except (IndexError, ValueError) as exc:
            raise BerError(f"malformed message: {exc}") from None

    def _decode_notification(self, data: bytes) -> Notification:
        header = self._header
        tag, pos, limit = header(data, 0, len(data))
        if tag != _SEQUENCE:
            raise BerError("not an SNMP message")
        version, pos = self._int(data, pos, limit, "version")
        if version not in (0, 1):
            raise UnsupportedVersion(version)
        tag, start, pos = header(data, pos, limit)
        if tag != _OCTET_STRING:
            raise BerError("community is not an OCTET STRING")
        community = bytes(data[start:pos])
        pdu_type, pos, pdu_end = header(data, pos, limit)
        if version == 0 and pdu_type == TRAP_V1:
            return self._v1_trap(data, pos, pdu_end, community)
        if version == 1 and pdu_type in (TRAP_V2, INFORM):
            return self._v2_notification(data, pos, pdu_end, community, pdu_type == INFORM)
        raise BerError(f"PDU type 0x{pdu_type:02x} is not a notification of SNMP version {version}")

    def _v1_trap(self, data: bytes, pos: int, limit: int, community: bytes) -> Notification:
        header = self._header
        tag, start, pos = header(data, pos, limit)
        if tag != _OBJECT_ID:
            raise BerError("enterprise is not an OBJECT IDENTIFIER")
        enterprise = _decode_oid(data[start:pos])
        tag, start, pos = header(data, pos, limit)
        if tag != _IP_ADDRESS or pos - start != 4:
            raise BerError("agent-addr is not an IpAddress")
        agent_address = ".".join(map(str, data[start:pos]))
        generic, pos = self._int(data, pos, limit, "generic-trap")
        specific, pos = self._int(data, pos, limit, "specific-trap")
        tag, start, pos = header(data, pos, limit)
        if tag != _TIME_TICKS:
            raise BerError("time-stamp is not TimeTicks")
        varbinds = self._varbinds(data, pos, limit)
        if 0 <= generic < _ENTERPRISE_SPECIFIC:
            trap_oid = f"{SNMP_TRAPS}.{generic + 1}"
        elif generic == _ENTERPRISE_SPECIFIC:
            trap_oid = f"{enterprise}.0.{specific}"
        else:
            raise BerError(f"generic-trap {generic} is not 0-6")
        return Notification(0, community, trap_oid, agent_address, varbinds)

    def _v2_notification(
        self, data: bytes, pos: int, limit: int, community: bytes, inform: bool
    ) -> Notification:
        request_id, pos = self._int(data, pos, limit, "request-id")
        _, pos = self._int(data, pos, limit, "error-status")
        _, varbinds_at = self._int(data, pos, limit, "error-index")
        varbinds = self._varbinds(data, varbinds_at, limit)
        _, _, varbinds_end = self._header(data, varbinds_at, limit)
        # RFC 3416 4.2.6: sysUpTime.0 first, snmpTrapOID.0 second.
        if len(varbinds) < 2 or varbinds[1][0] != SNMP_TRAP_OID:
            raise BerError("second variable-binding is not snmpTrapOID.0")
        trap_oid = varbinds[1][1]
        if not isinstance(trap_oid, str):
            raise BerError("snmpTrapOID.0 is not an OBJECT IDENTIFIER")
        if not inform:
            return Notification(1, community, trap_oid, None, varbinds)
        # The answer echoes the inform's variable-bindings (4.2.7): the bytes
        # as received, so nothing is lost in a decode and encode again.
        response = _tlv(
            _SEQUENCE,
            _integer(1)
            + _tlv(_OCTET_STRING, community)
            + _tlv(
                RESPONSE,
                _integer(request_id) + _integer(0) + _integer(0) + data[varbinds_at:varbinds_end],
            ),
        )
        return Notification(1, community, trap_oid, None, varbinds, request_id, response)


def _version_name(version: int) -> str:
    return {0: "1", 1: "2c", 3: "3"}.get(version, f"(wire value {version})")


__all__ = [
    "INFORM",
    "SNMP_TRAPS",
    "SNMP_TRAP_OID",
    "TRAP_V1",
    "TRAP_V2",
    "BerError",
    "Notification",
    "NotificationDecoder",
    "UnsupportedVersion",
]
