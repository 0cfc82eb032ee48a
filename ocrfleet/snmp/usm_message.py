"""SNMPv3 messages taken apart (RFC 3412 6, RFC 3414 2.4), before any cryptography.

Enough to match an answer to its request by msgID (ocrfleet/snmp/udp.py)
and hand the parts to the USM client, which authenticates and decrypts
them (ocrfleet/snmp/usm_codec.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.ber import BerError, read_tlv

# msgFlags (RFC 3412 6.4).
AUTH: Final = 0x01
PRIV: Final = 0x02
REPORTABLE: Final = 0x04

USM: Final = 3  # msgSecurityModel
MAX_SIZE: Final = 65_507  # the largest answer a UDP datagram can carry
# Engine boots and time are 0..2^31-1 (RFC 3414 2.2.1).
MAX_INTEGER: Final = 0x7FFF_FFFF

_INTEGER = 0x02
_OCTET_STRING = 0x04
_SEQUENCE = 0x30
_HEADER_V3 = b"\x02\x01\x03"


class V3Error(BerError):
    """An SNMPv3 message that is malformed, or whose contents cannot be read."""


@dataclass(frozen=True, slots=True)
class V3Message:
    """An SNMPv3 message taken apart, not yet authenticated nor decrypted."""

    msg_id: int
    flags: int
    security_model: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_params: bytes
    auth_start: int  # where the auth params' contents start in the datagram
    priv_params: bytes
    data: bytes  # the scopedPDU, or the encrypted scopedPDU when flags say PRIV
    datagram: bytes


def _int(data: bytes, pos: int, limit: int, what: str) -> tuple[int, int]:
    tag, start, end = read_tlv(data, pos, limit)
    if tag != _INTEGER or start == end or end - start > 5:
        raise V3Error(f"{what} is not an INTEGER")
    return int.from_bytes(data[start:end], "big", signed=True), end


def octets_at(data: bytes, pos: int, limit: int, what: str) -> tuple[int, int]:
    tag, start, end = read_tlv(data, pos, limit)
    if tag != _OCTET_STRING:
        raise V3Error(f"{what} is not an OCTET STRING")
    return start, end


def message_id(data: bytes) -> int | None:
    """The msgID of an SNMPv3 message, or None if `data` is not one; cheap."""
    try:
        tag, pos, limit = read_tlv(data, 0, len(data))
        if tag != _SEQUENCE or data[pos : pos + 3] != _HEADER_V3:
            return None
        tag, pos, limit = read_tlv(data, pos + 3, limit)
        if tag != _SEQUENCE:
            return None
        return _int(data, pos, limit, "msgID")[0]
    except (BerError, IndexError):
        return None


def decode_message(data: bytes) -> V3Message:
    """The parts of an SNMPv3 message; V3Error when it is not one."""
    try:
        return _decode_message(data)
    except V3Error:
        raise
    except BerError as exc:
        raise V3Error(str(exc), truncated=exc.truncated) from None
    except (IndexError, ValueError) as exc:
        raise V3Error(f"malformed SNMPv3 message: {exc}") from None


def _decode_message(data: bytes) -> V3Message:
    tag, pos, limit = read_tlv(data, 0, len(data))
    if tag != _SEQUENCE:
        raise V3Error("not an SNMP message")
    version, pos = _int(data, pos, limit, "msgVersion")
    if version != 3:
        raise V3Error(f"SNMP version {version + 1 if version < 2 else version}, not 3")
    tag, pos, header_end = read_tlv(data, pos, limit)
    if tag != _SEQUENCE:
        raise V3Error("msgGlobalData is not a SEQUENCE")
    msg_id, pos = _int(data, pos, header_end, "msgID")
    _, pos = _int(data, pos, header_end, "msgMaxSize")
    start, pos = octets_at(data, pos, header_end, "msgFlags")
    if pos - start != 1:
        raise V3Error("msgFlags is not one byte")
    flags = data[start]
    security_model, pos = _int(data, pos, header_end, "msgSecurityModel")
    if security_model != USM:
        raise V3Error(f"security model {security_model} is not USM (3)")
    start, pos = octets_at(data, header_end, limit, "msgSecurityParameters")
    tag, params, params_end = read_tlv(data, start, pos)
    if tag != _SEQUENCE or params_end != pos:
        raise V3Error("msgSecurityParameters is not a USM SEQUENCE")
    start, params = octets_at(data, params, params_end, "msgAuthoritativeEngineID")
    engine_id = data[start:params]
    boots, params = _int(data, params, params_end, "msgAuthoritativeEngineBoots")
    time, params = _int(data, params, params_end, "msgAuthoritativeEngineTime")
    if not (0 <= boots <= MAX_INTEGER and 0 <= time <= MAX_INTEGER):
        raise V3Error("engine boots or time out of range")
    start, params = octets_at(data, params, params_end, "msgUserName")
    user = data[start:params]
    auth_start, params = octets_at(data, params, params_end, "msgAuthenticationParameters")
    auth_params = data[auth_start:params]
    start, params = octets_at(data, params, params_end, "msgPrivacyParameters")
    priv_params = data[start:params]
    if params != params_end:
        raise V3Error("extra data in msgSecurityParameters")
    tag, start, end = read_tlv(data, pos, limit)
    if end != limit:
        raise V3Error("extra data after the scopedPDU")
    if flags & PRIV:
        if tag != _OCTET_STRING:
            raise V3Error("encrypted scopedPDU is not an OCTET STRING")
        body = data[start:end]
    else:
        if tag != _SEQUENCE:
            raise V3Error("scopedPDU is not a SEQUENCE")
        body = data[pos:end]
    return V3Message(
        msg_id,
        flags,
        security_model,
        bytes(engine_id),
        boots,
        time,
        bytes(user),
        bytes(auth_params),
        auth_start,
        bytes(priv_params),
        bytes(body),
        data,
    )
