"""Garbage as SNMPv3 answers: only our own error types may come out.

Random bytes, truncations and bit flips of valid authenticated and encrypted
answers go through the whole decoding path (message, HMAC, decryption,
scopedPDU); nothing but V3Error (a BerError) may leave it: no IndexError,
ValueError, OverflowError or cryptography exception.
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st
from pysnmp.proto.api import v2c

from ocrfleet.snmp.ber import ResponseDecoder
from ocrfleet.snmp.options import PrivProtocol
from ocrfleet.snmp.usm_codec import authentic, decode_scoped_pdu, plaintext
from ocrfleet.snmp.usm_message import V3Error, decode_message, message_id
from tests.test_snmp_usm_codec import our_credentials, pysnmp_keys, pysnmp_response

ENGINE = b"\x80\x00\x1f\x88\x04fuzz-engine"
DECODER = ResponseDecoder()
PRIVS: list[PrivProtocol | None] = [None, "DES", "3DES", "AES", "AES192", "AES256"]


def _valid(priv: PrivProtocol | None) -> bytes:
    auth_key, priv_key = pysnmp_keys("SHA256", b"auth-password", priv, b"priv-password", ENGINE)
    varbinds = [
        ("1.3.6.1.2.1.1.5.0", v2c.OctetString(b"printer-01")),
        ("1.3.6.1.2.1.43.11.1.1.9.1.1", v2c.Integer(42)),
        ("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(123456)),
    ]
    return pysnmp_response("SHA256", priv, auth_key, priv_key, ENGINE, 77, 3, 1000, varbinds)


VALID = {priv: _valid(priv) for priv in PRIVS}
CREDENTIALS = {
    priv: our_credentials("SHA256", b"auth-password", priv, b"priv-password", ENGINE)
    for priv in PRIVS
}


def _read(datagram: bytes, priv: PrivProtocol | None) -> None:
    """The whole path an answer takes; V3Error is the only way out besides success."""
    credentials = CREDENTIALS[priv]
    message_id(datagram)
    try:
        message = decode_message(datagram)
        assert credentials.auth is not None
        authentic(message, credentials.auth, credentials.mac_length)
        decode_scoped_pdu(plaintext(message, credentials), DECODER)
    except V3Error:
        pass


def test_the_valid_answers_read() -> None:
    for priv, datagram in VALID.items():
        credentials = CREDENTIALS[priv]
        message = decode_message(datagram)
        assert credentials.auth is not None
        assert authentic(message, credentials.auth, credentials.mac_length)
        scoped = decode_scoped_pdu(plaintext(message, credentials), DECODER)
        assert scoped.pdu.varbinds[1] == ("1.3.6.1.2.1.43.11.1.1.9.1.1", 42)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(PRIVS))
def test_random_bytes(data: bytes, priv: PrivProtocol | None) -> None:
    _read(data, priv)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(PRIVS), st.data())
def test_truncated_answers(priv: PrivProtocol | None, data: st.DataObject) -> None:
    datagram = VALID[priv]
    cut = data.draw(st.integers(0, len(datagram) - 1))
    _read(datagram[:cut], priv)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(PRIVS), st.data())
def test_bit_flips(priv: PrivProtocol | None, data: st.DataObject) -> None:
    datagram = bytearray(VALID[priv])
    flips = data.draw(st.lists(st.integers(0, len(datagram) * 8 - 1), min_size=1, max_size=4))
    for bit in flips:
        datagram[bit // 8] ^= 1 << (bit % 8)
    _read(bytes(datagram), priv)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PRIVS), st.binary(max_size=200))
def test_scoped_pdu_noise_after_decryption(priv: PrivProtocol | None, noise: bytes) -> None:
    # What a wrong priv key makes of a scopedPDU: random plaintext.
    with contextlib.suppress(V3Error):
        decode_scoped_pdu(noise, DECODER)


def test_a_flipped_mac_byte_does_not_authenticate() -> None:
    datagram = bytearray(VALID["AES"])
    message = decode_message(bytes(datagram))
    datagram[message.auth_start] ^= 0x01
    credentials = CREDENTIALS["AES"]
    assert credentials.auth is not None
    assert not authentic(decode_message(bytes(datagram)), credentials.auth, 24)
