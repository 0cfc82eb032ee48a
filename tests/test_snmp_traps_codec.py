"""Our trap and inform decoder against pysnmp's codec, the reference here.

Notifications pysnmp encodes must decode in ours to the same fields; the
answer to an inform must decode in pysnmp as the Response the sender waits
for; and no byte string makes the decoder fail with anything but BerError.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1155, rfc1157
from pysnmp.proto.api import v1, v2c

from ocrfleet.snmp.ber import GET, encode_oid, encode_request
from ocrfleet.snmp.traps_codec import (
    SNMP_TRAP_OID,
    BerError,
    Notification,
    NotificationDecoder,
    UnsupportedVersion,
)
from ocrfleet.snmp.traps_names import trap_name
from tests.test_snmp_ber import OIDS, Expected, _value_pairs

SYS_UP_TIME = "1.3.6.1.2.1.1.3.0"
PRINTER_ALERT = "1.3.6.1.2.1.43.18.2.0.1"


def _v3_message() -> bytes:
    # msgVersion 3, then a msgGlobalData this decoder never reads.
    global_data = bytes.fromhex("020101020300ffe3040104020103")
    body = b"\x02\x01\x03\x30" + bytes([len(global_data)]) + global_data
    return b"\x30" + bytes([len(body)]) + body


V3_MESSAGE = _v3_message()


def v2_notification(
    community: bytes,
    request_id: int,
    trap_oid: str,
    varbinds: list[tuple[str, Any]],
    inform: bool = False,
) -> bytes:
    pdu = v2c.InformRequestPDU() if inform else v2c.SNMPv2TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiTrapPDU.set_request_id(pdu, request_id)
    v2c.apiTrapPDU.set_varbinds(
        pdu,
        [
            (SYS_UP_TIME, v2c.TimeTicks(4200)),
            (SNMP_TRAP_OID, v2c.ObjectIdentifier(trap_oid)),
            *varbinds,
        ],
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def v1_trap(
    community: bytes,
    enterprise: str,
    agent_address: str,
    generic: int,
    specific: int,
    timestamp: int,
    varbinds: list[tuple[str, Any]],
) -> bytes:
    pdu = v1.TrapPDU()
    v1.apiTrapPDU.set_defaults(pdu)
    v1.apiTrapPDU.set_enterprise(pdu, v1.ObjectIdentifier(enterprise))
    address = rfc1155.NetworkAddress().setComponentByPosition(0, v1.IpAddress(agent_address))
    pdu.setComponentByPosition(1, address)
    v1.apiTrapPDU.set_generic_trap(pdu, rfc1157.genericTrap.clone(generic))
    v1.apiTrapPDU.set_specific_trap(pdu, specific)
    v1.apiTrapPDU.set_timestamp(pdu, timestamp)
    v1.apiTrapPDU.set_varbinds(pdu, varbinds)
    message = v1.Message()
    v1.apiMessage.set_defaults(message)
    v1.apiMessage.set_community(message, community)
    v1.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _v1_value_pairs() -> st.SearchStrategy[tuple[Any, Expected]]:
    """SNMPv1 has no Counter64 and no exception values."""
    u32 = st.integers(0, 2**32 - 1)
    return st.one_of(
        st.integers(-(2**31), 2**31 - 1).map(lambda i: (v1.Integer(i), i)),
        st.binary(max_size=200).map(lambda b: (v1.OctetString(b), b)),
        OIDS.map(lambda o: (v1.ObjectIdentifier(o), o)),
        u32.map(lambda i: (v1.Counter(i), i)),
        u32.map(lambda i: (v1.Gauge(i), i)),
        u32.map(lambda i: (v1.TimeTicks(i), i)),
    )


ADDRESSES = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


@settings(max_examples=200)
@given(
    community=st.binary(max_size=40),
    request_id=st.integers(-(2**31), 2**31 - 1),
    trap_oid=OIDS,
    pairs=st.lists(st.tuples(OIDS, _value_pairs()), max_size=30),
    inform=st.booleans(),
)
def test_v2_notifications_decode_as_pysnmp_encoded_them(
    community: bytes,
    request_id: int,
    trap_oid: str,
    pairs: list[tuple[str, tuple[Any, Expected]]],
    inform: bool,
) -> None:
    data = v2_notification(
        community, request_id, trap_oid, [(oid, value) for oid, (value, _) in pairs], inform
    )
    found = NotificationDecoder().decode_notification(data)
    assert (found.version, found.community, found.trap_oid) == (1, community, trap_oid)
    assert found.agent_address is None
    assert found.varbinds == [
        (SYS_UP_TIME, 4200),
        (SNMP_TRAP_OID, trap_oid),
        *[(oid, expected) for oid, (_, expected) in pairs],
    ]
    if not inform:
        assert (found.request_id, found.response) == (None, None)
        return
    assert found.request_id == request_id and found.response is not None
    # The answer is what the sender waits for: a Response with its
    # request-id and its variable-bindings, no error.
    message, rest = decoder.decode(found.response, asn1Spec=v2c.Message())
    assert rest == b""
    assert bytes(v2c.apiMessage.get_community(message)) == community
    pdu = v2c.apiMessage.get_pdu(message)
    assert pdu.tagSet == v2c.ResponsePDU.tagSet
    assert int(v2c.apiPDU.get_request_id(pdu)) == request_id
    assert int(v2c.apiPDU.get_error_status(pdu)) == 0
    assert int(v2c.apiPDU.get_error_index(pdu)) == 0
    answered = [str(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
    assert answered == [oid for oid, _ in found.varbinds]


@settings(max_examples=200)
@given(
    community=st.binary(max_size=40),
    enterprise=OIDS,
    agent_address=ADDRESSES,
    generic=st.integers(0, 6),
    specific=st.integers(0, 2**31 - 1),
    timestamp=st.integers(0, 2**32 - 1),
    pairs=st.lists(st.tuples(OIDS, _v1_value_pairs()), max_size=30),
)
def test_v1_traps_decode_with_their_rfc3584_notification_oid(
    community: bytes,
    enterprise: str,
    agent_address: str,
    generic: int,
    specific: int,
    timestamp: int,
    pairs: list[tuple[str, tuple[Any, Expected]]],
) -> None:
    data = v1_trap(
        community,
        enterprise,
        agent_address,
        generic,
        specific,
        timestamp,
        [(oid, value) for oid, (value, _) in pairs],
    )
    found = NotificationDecoder().decode_notification(data)
    expected_oid = (
        f"{enterprise}.0.{specific}" if generic == 6 else f"1.3.6.1.6.3.1.1.5.{generic + 1}"
    )
    assert found == Notification(
        0,
        community,
        expected_oid,
        agent_address,
        [(oid, expected) for oid, (_, expected) in pairs],
    )


def test_a_v1_printer_alert_and_a_v2_one_carry_one_name() -> None:
    v1_alert = v1_trap(b"public", "1.3.6.1.2.1.43.18.2", "192.0.2.7", 6, 1, 100, [])
    v2_alert = v2_notification(b"public", 1, PRINTER_ALERT, [])
    decode = NotificationDecoder().decode_notification
    assert decode(v1_alert).trap_oid == decode(v2_alert).trap_oid == PRINTER_ALERT
    assert trap_name(PRINTER_ALERT) == "printerAlert"
    link_down = v1_trap(b"public", "1.3.6.1.4.1.9", "192.0.2.7", 2, 0, 100, [])
    assert trap_name(decode(link_down).trap_oid) == "linkDown"
    assert trap_name("1.3.6.1.4.1.9.9.1") == "other"


def test_a_v3_message_is_unsupported_not_undecodable() -> None:
    with pytest.raises(UnsupportedVersion) as raised:
        NotificationDecoder().decode_notification(V3_MESSAGE)
    assert raised.value.version == 3
    assert "SNMP version 3" in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "0-byte datagram ends inside"),
        (b"\x04\x00", "not an SNMP message"),
        # A v2c GET is no notification.
        (encode_request(1, b"public", GET, 1, [encode_oid(SYS_UP_TIME)]), "PDU type 0xa0"),
    ],
)
def test_what_is_not_a_notification_is_a_clear_ber_error(data: bytes, message: str) -> None:
    with pytest.raises(BerError, match=message):
        NotificationDecoder().decode_notification(data)


def test_a_v2_trap_without_snmp_trap_oid_is_refused() -> None:
    pdu = v2c.SNMPv2TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiTrapPDU.set_varbinds(pdu, [(SYS_UP_TIME, v2c.TimeTicks(1))])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, b"public")
    v2c.apiMessage.set_pdu(message, pdu)
    with pytest.raises(BerError, match="snmpTrapOID"):
        NotificationDecoder().decode_notification(bytes(encoder.encode(message)))


def test_a_v2_trap_in_a_v1_message_is_refused() -> None:
    data = bytearray(v2_notification(b"public", 1, PRINTER_ALERT, []))
    assert data[2:5] == b"\x02\x01\x01"
    data[4] = 0  # version field: SNMPv1
    with pytest.raises(BerError, match="not a notification of SNMP version 0"):
        NotificationDecoder().decode_notification(bytes(data))


@settings(max_examples=1000)
@given(st.binary(max_size=300))
def test_no_bytes_make_the_decoder_fail_otherwise(data: bytes) -> None:
    with contextlib.suppress(BerError):
        NotificationDecoder().decode_notification(data)


@settings(max_examples=500)
@given(
    inform=st.booleans(),
    v1_form=st.booleans(),
    cut=st.integers(0, 200),
    flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
)
def test_damaged_notifications_fail_only_with_ber_error(
    inform: bool, v1_form: bool, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(
        v1_trap(
            b"public", "1.3.6.1.4.1.9", "192.0.2.7", 6, 3, 5, [("1.3.6.1.2.1.1.5.0", v1.Integer(1))]
        )
        if v1_form
        else v2_notification(
            b"public", 9, PRINTER_ALERT, [("1.3.6.1.2.1.1.5.0", v2c.Integer(1))], inform
        )
    )
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    with contextlib.suppress(BerError):
        NotificationDecoder().decode_notification(bytes(data[: len(data) - cut % len(data)]))
