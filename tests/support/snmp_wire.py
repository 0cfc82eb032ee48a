"""SNMP v1/v2c messages built and read with pysnmp, the reference codec.

For agents the tests script by hand, where snmpsim cannot misbehave on cue.
"""

from __future__ import annotations

from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v1, v2c


def response(
    community: bytes,
    request_id: int,
    varbinds: list[tuple[str, Any]],
    status: int = 0,
    index: int = 0,
    version: int = 1,
) -> bytes:
    module: Any = v1 if version == 0 else v2c
    pdu = module.GetResponsePDU()
    module.apiPDU.set_defaults(pdu)
    module.apiPDU.set_request_id(pdu, request_id)
    module.apiPDU.set_error_status(pdu, status)
    module.apiPDU.set_error_index(pdu, index)
    module.apiPDU.set_varbinds(pdu, varbinds)
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, community)
    module.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def request(data: bytes) -> tuple[int, int, list[str], int]:
    """(request-id, PDU tag number, OIDs, max-repetitions or 0) of a v2c request."""
    message, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(message)
    tag = int(pdu.tagSet[0][2])
    repetitions = int(v2c.apiBulkPDU.get_max_repetitions(pdu)) if tag == 5 else 0
    oids = [str(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
    return int(v2c.apiPDU.get_request_id(pdu)), tag, oids, repetitions
