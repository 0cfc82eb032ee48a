"""The BER wire format of SNMPv1 and v2c messages (RFC 1157, RFC 3416).

Only what a manager needs: encode GET, GETNEXT and GETBULK requests, decode
the agent's Response-PDU. pysnmp handles SNMPv3 (USM, its crypto and engine
discovery); for v1/v2c its generic ASN.1 machinery costs about ten times the
CPU of this narrow codec, which is most of the cost of polling a large fleet
(bench/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.values import SnmpValue

GET: Final = 0xA0
GET_NEXT: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK: Final = 0xA5

_INTEGER = 0x02
_OCTET_STRING = 0x04
_NULL = 0x05
_OBJECT_ID = 0x06
_SEQUENCE = 0x30
_IP_ADDRESS = 0x40
_COUNTER32 = 0x41
_GAUGE32 = 0x42
_TIME_TICKS = 0x43
_OPAQUE = 0x44
_COUNTER64 = 0x46
_NO_SUCH_OBJECT = 0x80
_NO_SUCH_INSTANCE = 0x81
_END_OF_MIB_VIEW = 0x82
_UNSIGNED = frozenset({_COUNTER32, _GAUGE32, _TIME_TICKS, _COUNTER64})

# RFC 3416 section 3, error-status.
ERROR_NAMES: Final = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)
TOO_BIG: Final = 1
NO_SUCH_NAME: Final = 2


def error_name(status: int) -> str:
    return ERROR_NAMES[status] if 0 <= status < len(ERROR_NAMES) else f"error-status {status}"


class EndOfMib:
    """The endOfMibView exception value: a walk has nothing further."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "endOfMibView"


END_OF_MIB: Final = EndOfMib()
Varbind = tuple[str, SnmpValue | EndOfMib]


class BerError(ValueError):
    """A datagram that is not a well-formed SNMP message.

    `request_id` is set when the message got as far as its request-id, so the
    request it answers can fail at once instead of waiting for its timeout.
    """

    def __init__(self, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Response:
    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[Varbind]


def _length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    return _tlv(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def encode_oid(oid: str) -> bytes:
    """A dotted OID as a complete BER TLV (tag, length, body)."""
    try:
        arcs = [int(arc) for arc in oid.strip(".").split(".")]
    except ValueError:
        raise ValueError(f"not a numeric OID: {oid!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not a valid OID: {oid!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(_OBJECT_ID, bytes(body))


class OidEncoder:
    """encode_oid with a cache: requests ask for the same roots every poll."""

    def __init__(self, max_cached_oids: int = 100_000) -> None:
        self._encoded: dict[str, bytes] = {}
        self._max_cached_oids = max_cached_oids

    def __call__(self, oid: str) -> bytes:
        found = self._encoded.get(oid)
        if found is None:
            found = encode_oid(oid)
            if len(self._encoded) >= self._max_cached_oids:
                self._encoded.clear()
            self._encoded[oid] = found
        return found


def encode_request(
    version: int,
    community: bytes,
    pdu_type: int,
    request_id: int,
    encoded_oids: list[bytes],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A request message; `encoded_oids` come from encode_oid (callers cache them).

    `version` is the wire value: 0 for v1, 1 for v2c. For GET_BULK the two
    error fields carry non-repeaters and max-repetitions (RFC 3416 4.2.3).
    """
    null = b"\x05\x00"
    bindings = b"".join([_tlv(_SEQUENCE, oid + null) for oid in encoded_oids])
    pdu = _tlv(
        pdu_type,
        _integer(request_id)
        + _integer(non_repeaters)
        + _integer(max_repetitions)
        + _tlv(_SEQUENCE, bindings),
    )
    return _tlv(_SEQUENCE, _integer(version) + _tlv(_OCTET_STRING, community) + pdu)


class ResponseDecoder:
    """Decodes Response-PDUs; keeps the OIDs it has seen, since polls repeat them.

    One per SNMP service: a fleet asks the same tables of many devices, so
    most OIDs in an answer were decoded before.
    """

    def __init__(self, max_cached_oids: int = 200_000) -> None:
        self._oids: dict[bytes, str] = {}
        self._max_cached_oids = max_cached_oids

    def decode(self, data: bytes) -> Response:
        try:
            return self._decode(data)
        except BerError:
            raise
        except (IndexError, ValueError) as exc:
            raise BerError(f"malformed message: {exc}") from None

    @staticmethod
    def _header(data: bytes, pos: int, limit: int) -> tuple[int, int, int]:
        """(tag, start of contents, end of contents) of the TLV at `pos`."""
        if pos + 2 > limit:
            raise BerError("truncated message")
        tag = data[pos]
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4:
                raise BerError("unsupported length encoding")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        end = pos + length
        if end > limit:
            raise BerError("truncated message")
        return tag, pos, end

    def _int(self, data: bytes, pos: int, limit: int, what: str) -> tuple[int, int]:
        tag, start, end = self._header(data, pos, limit)
        if tag != _INTEGER or start == end:
            raise BerError(f"{what} is not an INTEGER")
        return int.from_bytes(data[start:end], "big", signed=True), end

    def _decode(self, data: bytes) -> Response:
        header = self._header
        tag, pos, limit = header(data, 0, len(data))
        if tag != _SEQUENCE:
            raise BerError("not an SNMP message")
        version, pos = self._int(data, pos, limit, "version")
        tag, start, pos = header(data, pos, limit)
        if tag != _OCTET_STRING:
            raise BerError("community is not an OCTET STRING")
        community = data[start:pos]
        pdu_type, pos, limit = header(data, pos, limit)
        request_id, pos = self._int(data, pos, limit, "request-id")
        if pdu_type != RESPONSE:
            raise BerError(f"PDU type 0x{pdu_type:02x} is not a Response", request_id)
        try:
            error_status, pos = self._int(data, pos, limit, "error-status")
            error_index, pos = self._int(data, pos, limit, "error-index")
            varbinds = self._varbinds(data, pos, limit)
        except BerError as exc:
            raise BerError(str(exc), request_id) from None
        except (IndexError, ValueError) as exc:
            raise BerError(f"malformed varbind: {exc}", request_id) from None
        return Response(version, bytes(community), request_id, error_status, error_index, varbinds)

    def _varbinds(self, data: bytes, pos: int, limit: int) -> list[Varbind]:
        header = self._header
        tag, pos, limit = header(data, pos, limit)
        if tag != _SEQUENCE:
            raise BerError("variable-bindings is not a SEQUENCE")
        oids = self._oids
        found: list[Varbind] = []
        while pos < limit:
            tag, pos, end = header(data, pos, limit)
            if tag != _SEQUENCE:
                raise BerError("variable-binding is not a SEQUENCE")
            tag, start, pos = header(data, pos, end)
            if tag != _OBJECT_ID:
                raise BerError("variable-binding name is not an OBJECT IDENTIFIER")
            raw = data[start:pos]
            name = oids.get(raw)
            if name is None:
                name = _decode_oid(raw)
                if len(oids) >= self._max_cached_oids:
                    oids.clear()
                oids[raw] = name
            tag, start, pos = header(data, pos, end)
            found.append((name, _value(tag, data[start:pos])))
            pos = end
        return found


def _decode_oid(raw: bytes) -> str:
    if not raw:
        raise BerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    arc = 0
    for byte in raw:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if raw[-1] & 0x80:
        raise BerError("truncated OBJECT IDENTIFIER")
    first = arcs[0]
    top = 0 if first < 40 else 1 if first < 80 else 2
    arcs[0] = first - 40 * top
    return f"{top}." + ".".join(map(str, arcs))


def _value(tag: int, body: bytes) -> SnmpValue | EndOfMib:
    if tag in (_OCTET_STRING, _OPAQUE):
        return body
    if tag == _INTEGER:
        if not body:
            raise BerError("empty INTEGER")
        return int.from_bytes(body, "big", signed=True)
    if tag in _UNSIGNED:
        if not body:
            raise BerError("empty unsigned integer")
        return int.from_bytes(body, "big")
    if tag == _OBJECT_ID:
        return _decode_oid(body)
    if tag == _IP_ADDRESS:
        if len(body) != 4:
            raise BerError(f"IpAddress of {len(body)} bytes")
        return ".".join(map(str, body))
    if tag == _END_OF_MIB_VIEW:
        return END_OF_MIB
    if tag in (_NULL, _NO_SUCH_OBJECT, _NO_SUCH_INSTANCE):
        return None
    # A type this codec does not know (a vendor's, or a future one): its raw
    # contents, like an OCTET STRING, rather than failing the whole poll.
    return body
