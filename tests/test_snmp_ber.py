"""Our v1/v2c codec against pysnmp's, which is the reference here.

Requests we encode must decode in pysnmp as what we meant; responses pysnmp
encodes must decode in ours to the same values; and no byte string makes
the decoder fail with anything but BerError.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder
from pysnmp.proto.api import v1, v2c

from ocrfleet.snmp.ber import (
    END_OF_MIB,
    GET,
    GET_BULK,
    GET_NEXT,
    BerError,
    EndOfMib,
    OidEncoder,
    ResponseDecoder,
    encode_oid,
    encode_request,
)
from ocrfleet.snmp.values import SnmpValue
from tests.support.snmp_wire import response

ARC = st.integers(0, 2**32 - 1)
OIDS = st.builds(
    lambda top, second, rest: ".".join(map(str, [top, second, *rest])),
    st.integers(0, 2),
    st.integers(0, 39),
    st.lists(ARC, max_size=20),
)
Expected = SnmpValue | EndOfMib


def _value_pairs() -> st.SearchStrategy[tuple[Any, Expected]]:
    """(pysnmp value, what our decoder must give for it)."""
    ints = st.integers(-(2**31), 2**31 - 1)
    u32 = st.integers(0, 2**32 - 1)
    raw = st.binary(max_size=300)
    return st.one_of(
        ints.map(lambda i: (v2c.Integer(i), i)),
        raw.map(lambda b: (v2c.OctetString(b), b)),
        OIDS.map(lambda o: (v2c.ObjectIdentifier(o), o)),
        st.binary(min_size=4, max_size=4).map(
            lambda b: (v2c.IpAddress(b), ".".join(str(x) for x in b))
        ),
        u32.map(lambda i: (v2c.Counter32(i), i)),
        u32.map(lambda i: (v2c.Gauge32(i), i)),
        u32.map(lambda i: (v2c.TimeTicks(i), i)),
        st.integers(0, 2**64 - 1).map(lambda i: (v2c.Counter64(i), i)),
        raw.map(lambda b: (v2c.Opaque(b), b)),
        st.just((v2c.NoSuchObject(""), None)),
        st.just((v2c.NoSuchInstance(""), None)),
        st.just((v2c.EndOfMibView(""), END_OF_MIB)),
        st.just((v2c.Null(""), None)),
    )


def _response(
    module: Any,
    community: bytes,
    request_id: int,
    status: int,
    index: int,
    varbinds: list[tuple[str, Any]],
) -> bytes:
    return response(community, request_id, varbinds, status, index, 0 if module is v1 else 1)


@settings(max_examples=300)
@given(
    community=st.binary(max_size=40),
    request_id=st.integers(-(2**31), 2**31 - 1),
    status=st.integers(0, 18),
    index=st.integers(0, 200),
    pairs=st.lists(st.tuples(OIDS, _value_pairs()), max_size=40),
)
def test_responses_decode_as_pysnmp_encoded_them(
    community: bytes,
    request_id: int,
    status: int,
    index: int,
    pairs: list[tuple[str, tuple[Any, Expected]]],
) -> None:
    data = _response(
        v2c, community, request_id, status, index, [(oid, value) for oid, (value, _) in pairs]
    )
    response = ResponseDecoder().decode(data)
    assert response.version == 1
    assert response.community == community
    assert (response.request_id, response.error_status, response.error_index) == (
        request_id,
        status,
        index,
    )
    assert response.varbinds == [(oid, expected) for oid, (_, expected) in pairs]


def test_v1_responses_carry_version_0() -> None:
    data = _response(v1, b"public", 7, 2, 1, [("1.3.6.1.2.1.1.1.0", v1.OctetString(b"x"))])
    response = ResponseDecoder().decode(data)
    assert (response.version, response.error_status, response.error_index) == (0, 2, 1)
    assert response.varbinds == [("1.3.6.1.2.1.1.1.0", b"x")]


def test_a_cached_oid_decodes_the_same_and_the_cache_stays_bounded() -> None:
    decoder_ = ResponseDecoder(max_cached_oids=3)
    for round_ in range(3):
        for i in range(5):
            oid = f"1.3.6.1.4.1.{i}.{round_}"
            data = _response(v2c, b"c", i, 0, 0, [(oid, v2c.Integer(i))])
            assert decoder_.decode(data).varbinds == [(oid, i)]
    assert len(decoder_._oids) <= 3


@settings(max_examples=200)
@given(
    version=st.sampled_from([0, 1]),
    pdu_type=st.sampled_from([GET, GET_NEXT, GET_BULK]),
    community=st.binary(max_size=40),
    request_id=st.integers(0, 2**31 - 1),
    oids=st.lists(OIDS, min_size=1, max_size=30),
    repetitions=st.integers(0, 2**31 - 1),
)
def test_requests_decode_in_pysnmp_as_meant(
    version: int,
    pdu_type: int,
    community: bytes,
    request_id: int,
    oids: list[str],
    repetitions: int,
) -> None:
    assume(not (version == 0 and pdu_type == GET_BULK))  # v1 has no GETBULK
    encode = OidEncoder()
    data = encode_request(
        version,
        community,
        pdu_type,
        request_id,
        [encode(oid) for oid in oids],
        max_repetitions=repetitions if pdu_type == GET_BULK else 0,
    )
    module = v1 if version == 0 else v2c
    message, rest = decoder.decode(data, asn1Spec=module.Message())
    assert rest == b""
    assert int(module.apiMessage.get_version(message)) == version
    assert bytes(module.apiMessage.get_community(message)) == community
    pdu = module.apiMessage.get_pdu(message)
    assert pdu.tagSet[0][2] == pdu_type & 0x1F
    assert int(module.apiPDU.get_request_id(pdu)) == request_id
    assert [str(oid) for oid, _ in module.apiPDU.get_varbinds(pdu)] == oids
    if pdu_type == GET_BULK:
        assert int(v2c.apiBulkPDU.get_non_repeaters(pdu)) == 0
        assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == repetitions


@pytest.mark.parametrize("oid", ["", "1", "3.1", "1.40", "1.3.x", "1.3.-6"])
def test_invalid_oids_are_refused_when_encoding(oid: str) -> None:
    with pytest.raises(ValueError, match="OID"):
        encode_oid(oid)


@settings(max_examples=500)
@given(data=st.binary(max_size=200))
def test_any_bytes_decode_or_fail_with_ber_error(data: bytes) -> None:
    with contextlib.suppress(BerError):
        ResponseDecoder().decode(data)


@settings(max_examples=200)
@given(pairs=st.lists(st.tuples(OIDS, _value_pairs()), min_size=1, max_size=10), data=st.data())
def test_a_truncated_or_corrupted_answer_fails_with_ber_error(
    pairs: list[tuple[str, tuple[Any, Expected]]], data: st.DataObject
) -> None:
    whole = _response(v2c, b"public", 42, 0, 0, [(oid, value) for oid, (value, _) in pairs])
    cut = data.draw(st.integers(0, len(whole) - 1))
    with pytest.raises(BerError):
        ResponseDecoder().decode(whole[:cut])
    position = data.draw(st.integers(0, len(whole) - 1))
    corrupted = bytearray(whole)
    corrupted[position] = data.draw(st.integers(0, 255))
    with contextlib.suppress(BerError):
        ResponseDecoder().decode(bytes(corrupted))


def test_an_answer_broken_after_its_request_id_names_it() -> None:
    whole = _response(v2c, b"public", 4242, 0, 0, [("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(5))])
    # The last value's tag and length made nonsense, lengths around it intact.
    with pytest.raises(BerError, match="length") as caught:
        ResponseDecoder().decode(whole[:-3] + b"\xff\xff\xff")
    assert caught.value.request_id == 4242
    # Same message, the value's tag made an INTEGER with no contents.
    broken = bytearray(whole[:-3] + b"\x02\x00")
    # Fix up the lengths of the enclosing SEQUENCEs (all short-form here).
    broken[1] -= 1
    pdu_at = 2 + 3 + 2 + len(b"public")
    broken[pdu_at + 1] -= 1
    varbinds_at = pdu_at + 2 + 4 + 3 + 3
    broken[varbinds_at + 1] -= 1
    broken[varbinds_at + 3] -= 1
    with pytest.raises(BerError, match="INTEGER") as caught:
        ResponseDecoder().decode(bytes(broken))
    assert caught.value.request_id == 4242


@settings(max_examples=200)
@given(pairs=st.lists(st.tuples(OIDS, _value_pairs()), min_size=1, max_size=10), data=st.data())
def test_an_answer_cut_short_is_truncated_and_says_where(
    pairs: list[tuple[str, tuple[Any, Expected]]], data: st.DataObject
) -> None:
    whole = _response(v2c, b"public", 42, 0, 0, [(oid, value) for oid, (value, _) in pairs])
    cut = data.draw(st.integers(1, len(whole) - 1))
    with pytest.raises(BerError) as caught:
        ResponseDecoder().decode(whole[:cut])
    assert caught.value.reason == "truncated"
    assert caught.value.request_id is None  # the outer length gives it away first
    assert f"the {cut}-byte datagram" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"", "empty datagram"),
        (b"GET / HTTP/1.1\r\n\r\n", "byte 0 is 0x47, not a SEQUENCE"),
        (b"\x30\x03\x04\x01\x00", "version at byte 2 is not an INTEGER (tag 0x04)"),
        (b"\x30\x05\x02\x01\x01\x02\x00", "community at byte 5 is not an OCTET STRING"),
        (b"\x30\x85\x00\x00\x00\x00\x00", "unsupported length encoding 0x85 at byte 1"),
        # An inner length past its SEQUENCE, though not past the datagram.
        (b"\x30\x03\x02\x05\x01\x00\x00\x00\x00", "runs past its enclosing value"),
    ],
)
def test_what_is_not_an_snmp_message_is_malformed_and_says_what(data: bytes, found: str) -> None:
    with pytest.raises(BerError) as caught:
        ResponseDecoder().decode(data)
    assert caught.value.reason == "malformed"
    assert found in str(caught.value)


def test_a_broken_answer_that_names_its_request_keeps_its_reason() -> None:
    whole = _response(v2c, b"public", 4242, 0, 0, [("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(5))])
    # The last value's length made to run past the end of the datagram.
    with pytest.raises(BerError) as caught:
        ResponseDecoder().decode(whole[:-2] + b"\x09\x05")
    assert (caught.value.reason, caught.value.request_id) == ("truncated", 4242)
