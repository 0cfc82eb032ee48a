"""The BER wire format of SNMPv1 and v2c messages (RFC 1157, RFC 3416).

Only what a manager needs: encode GET, GETNEXT and GETBULK requests, decode
the agent's Response-PDU. SNMPv3 wraps the same PDUs (ocrfleet/snmp/usm_codec.py).
pysnmp's generic ASN.1 machinery costs about ten times the CPU of this narrow
codec, which is most of the cost of polling a large fleet (bench/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.values import SnmpValue

GET: Final = 0xA0
GET_NEXT: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK: Final = 0xA5
REPORT: Final = 0xA8

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
    `truncated` tells a message cut short (a length that runs past the end of
    the datagram: an agent or a link with too small a buffer) from one that
    is not an SNMP message at all.
    """

    def __init__(
        self, message: str, request_id: int | None = None, *, truncated: bool = False
    ) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.truncated = truncated

    @property
    def reason(self) -> str:
        """`truncated` or `malformed`: the poll failure reason and metric label value."""
        return "truncated" if self.truncated else "malformed"

    def naming(self, request_id: int) -> BerError:
        """The same error, now known to answer `request_id`."""
        return BerError(str(self), request_id, truncated=self.truncated)


@dataclass(frozen=True, slots=True)
class Response:
    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[Varbind]


@dataclass(frozen=True, slots=True)
class Pdu:
    pdu_type: int
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


encode_tlv: Final = _tlv
encode_integer: Final = _integer


def read_tlv(data: bytes, pos: int, limit: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the TLV at `pos`.

    Only the failures do more work than before they were told apart: a good
    answer pays nothing for the diagnosis.
    """
    if pos + 2 > limit:
        raise _short_header(data, pos, limit)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise BerError(f"unsupported length encoding 0x{length:02x} at byte {pos - 1}")
        if pos + count > limit:
            raise _short_header(data, pos - 2, limit)
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > limit:
        raise _overrun(data, tag, length, pos, limit)
    return tag, pos, end


def _short_header(data: bytes, pos: int, limit: int) -> BerError:
    """A tag and length that do not fit before `limit`."""
    if limit >= len(data):
        return BerError(
            f"the {len(data)}-byte datagram ends inside the tag and length at byte {pos}",
            truncated=True,
        )
    return BerError(f"the tag and length at byte {pos} run past their enclosing value at {limit}")


def _overrun(data: bytes, tag: int, length: int, start: int, limit: int) -> BerError:
    """A value whose length runs past the end of what encloses it."""
    if start + length > len(data):
        return BerError(
            f"BER length {length} of tag 0x{tag:02x} at byte {start} runs past"
            f" the end of the {len(data)}-byte datagram",
            truncated=True,
        )
    return BerError(
        f"BER length {length} of tag 0x{tag:02x} at byte {start} runs past"
        f" its enclosing value, which ends at byte {limit}"
    )


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
    pdu = encode_pdu(pdu_type, request_id, encoded_oids, non_repeaters, max_repetitions)
    return _tlv(_SEQUENCE, _integer(version) + _tlv(_OCTET_STRING, community) + pdu)


def encode_pdu(
    pdu_type: int,
    request_id: int,
    encoded_oids: list[bytes],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """The PDU alone, as v1/v2c messages and v3 scopedPDUs carry it."""
    null = b"\x05\x00"
    bindings = b"".join([_tlv(_SEQUENCE, oid + null) for oid in encoded_oids])
    return _tlv(
        pdu_type,
        _integer(request_id)
        + _integer(non_repeaters)
        + _integer(max_repetitions)
        + _tlv(_SEQUENCE, bindings),
    )


class ResponseDecoder:
    """Decodes Response-PDUs; keeps the OIDs it has seen, since polls repeat them.

    One per SNMP service: a fleet asks the same tables of many devices, so
    most OIDs in an answer were decoded before.
    """

    def __init__(self, max_cached_oids: int = 200_000) -> None:
        self._oids: dict[bytes, str] = {}
        self._max_cached_oids = max_cached_oids

    def decode(self, data: bytes) -> Response:
        if not data:
            raise BerError("empty datagram")
        try:
            return self._decode(data)
        except BerError:
            raise
        except (IndexError, ValueError) as exc:
            raise BerError(f"malformed message: {exc}") from None

    _header = staticmethod(read_tlv)

    def _int(self, data: bytes, pos: int, limit: int, what: str) -> tuple[int, int]:
        tag, start, end = self._header(data, pos, limit)
        if tag != _INTEGER or start == end:
            raise BerError(f"{what} at byte {pos} is not an INTEGER (tag 0x{tag:02x})")
        return int.from_bytes(data[start:end], "big", signed=True), end

    def _decode(self, data: bytes) -> Response:
        header = self._header
        if data[0] != _SEQUENCE:
            # Checked first: garbage is "malformed" whatever its second byte says.
            raise BerError(f"not an SNMP message: byte 0 is 0x{data[0]:02x}, not a SEQUENCE")
        tag, pos, limit = header(data, 0, len(data))
        version, pos = self._int(data, pos, limit, "version")
        at = pos
        tag, start, pos = header(data, pos, limit)
        if tag != _OCTET_STRING:
            raise BerError(f"community at byte {at} is not an OCTET STRING (tag 0x{tag:02x})")
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
            raise exc.naming(request_id) from None
        except (IndexError, ValueError) as exc:
            raise BerError(f"malformed varbind: {exc}", request_id) from None
        return Response(version, bytes(community), request_id, error_status, error_index, varbinds)

    def decode_pdu(self, data: bytes, pos: int, limit: int) -> Pdu:
        """The Response or Report PDU at `pos`, as a v3 scopedPDU carries it."""
        try:
            pdu_type, pos, limit = self._header(data, pos, limit)
            if pdu_type not in (RESPONSE, REPORT):
                raise BerError(f"PDU type 0x{pdu_type:02x} is not a Response or Report")
            request_id, pos = self._int(data, pos, limit, "request-id")
            error_status, pos = self._int(data, pos, limit, "error-status")
            error_index, pos = self._int(data, pos, limit, "error-index")
            varbinds = self._varbinds(data, pos, limit)
        except (IndexError, ValueError) as exc:
            if isinstance(exc, BerError):
                raise
            raise BerError(f"malformed PDU: {exc}") from None
        return Pdu(pdu_type, request_id, error_status, error_index, varbinds)

    def _varbinds(self, data: bytes, pos: int, limit: int) -> list[Varbind]:
        header = self._header
        at = pos
        tag, pos, limit = header(data, pos, limit)
        if tag != _SEQUENCE:
            raise BerError(f"variable-bindings at byte {at} is not a SEQUENCE (tag 0x{tag:02x})")
        oids = self._oids
        found: list[Varbind] = []
        while pos < limit:
            # Offsets in these errors are of contents: the hot loop keeps no
            # tag offsets for them.
            tag, pos, end = header(data, pos, limit)
            if tag != _SEQUENCE:
                raise BerError(
                    f"variable-binding with contents at byte {pos} is not a SEQUENCE"
                    f" (tag 0x{tag:02x})"
                )
            tag, start, pos = header(data, pos, end)
            if tag != _OBJECT_ID:
                raise BerError(
                    f"variable-binding name with contents at byte {start} is not an"
                    f" OBJECT IDENTIFIER (tag 0x{tag:02x})"
                )
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
        raise BerError("OBJECT IDENTIFIER ends inside an arc")
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
