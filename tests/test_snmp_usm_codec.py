"""Our SNMPv3/USM codec against pysnmp's USM services, the reference here.

Keys we localise must be pysnmp's; requests we encode must decode, verify
and decrypt with pysnmp's pieces as what we meant; answers pysnmp secures
must verify, decrypt and decode in ours to the same values.
"""

from __future__ import annotations

import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.entity import config
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel, UsmSecurityParameters

from ocrfleet.snmp.ber import GET, GET_BULK, REPORT, ResponseDecoder, encode_oid, encode_pdu
from ocrfleet.snmp.options import AuthProtocol, PrivProtocol
from ocrfleet.snmp.usm_codec import (
    Credentials,
    authentic,
    decode_scoped_pdu,
    encode_message,
    plaintext,
)
from ocrfleet.snmp.usm_keys import AUTH_ALGORITHMS, KeyCache
from ocrfleet.snmp.usm_message import V3Error, decode_message, message_id
from ocrfleet.snmp.usm_privacy import Privacy

AUTH_OIDS: dict[AuthProtocol, tuple[int, ...]] = {
    "MD5": config.USM_AUTH_HMAC96_MD5,
    "SHA": config.USM_AUTH_HMAC96_SHA,
    "SHA224": config.USM_AUTH_HMAC128_SHA224,
    "SHA256": config.USM_AUTH_HMAC192_SHA256,
    "SHA384": config.USM_AUTH_HMAC256_SHA384,
    "SHA512": config.USM_AUTH_HMAC384_SHA512,
}
# What each setting meant when pysnmp did SNMPv3: it must keep meaning that.
PRIV_OIDS: dict[PrivProtocol, tuple[int, ...]] = {
    "DES": config.USM_PRIV_CBC56_DES,
    "3DES": config.USM_PRIV_CBC168_3DES,
    "AES": config.USM_PRIV_CFB128_AES,
    "AES192": config.USM_PRIV_CFB192_AES,
    "AES256": config.USM_PRIV_CFB256_AES,
}
AUTHS = st.sampled_from(sorted(AUTH_OIDS))
PRIVS = st.sampled_from(sorted(PRIV_OIDS))
PASSWORDS = st.binary(min_size=8, max_size=40)
ENGINE_IDS = st.binary(min_size=5, max_size=32)
OIDS = st.builds(
    lambda rest: "1.3.6." + ".".join(map(str, rest)),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12),
)
USM_AUTH = SnmpUSMSecurityModel.AUTH_SERVICES
USM_PRIV = SnmpUSMSecurityModel.PRIV_SERVICES


def pysnmp_keys(
    auth: AuthProtocol,
    auth_password: bytes,
    priv: PrivProtocol | None,
    priv_password: bytes,
    engine_id: bytes,
) -> tuple[bytes, bytes | None]:
    service = USM_AUTH[AUTH_OIDS[auth]]
    engine = univ.OctetString(engine_id)
    auth_key = service.localize_key(service.hash_passphrase(auth_password), engine)
    if priv is None:
        return bytes(auth_key), None
    privacy = USM_PRIV[PRIV_OIDS[priv]]
    hashed = privacy.hash_passphrase(AUTH_OIDS[auth], priv_password)
    return bytes(auth_key), bytes(privacy.localize_key(AUTH_OIDS[auth], hashed, engine))


def our_credentials(
    auth: AuthProtocol,
    auth_password: bytes,
    priv: PrivProtocol | None,
    priv_password: bytes,
    engine_id: bytes,
    user: bytes = b"ocr",
) -> Credentials:
    keys = KeyCache().keys(engine_id, auth, auth_password, priv, priv_password if priv else None)
    privacy = Privacy(priv, keys.priv) if priv and keys.priv else None
    return Credentials(user, keys.auth, AUTH_ALGORITHMS[auth].mac_length, privacy)


@settings(max_examples=25, deadline=None)
@given(AUTHS, PRIVS, PASSWORDS, PASSWORDS, ENGINE_IDS)
def test_localised_keys_are_pysnmps(
    auth: AuthProtocol,
    priv: PrivProtocol,
    auth_password: bytes,
    priv_password: bytes,
    engine_id: bytes,
) -> None:
    auth_key, priv_key = pysnmp_keys(auth, auth_password, priv, priv_password, engine_id)
    ours = KeyCache().keys(engine_id, auth, auth_password, priv, priv_password)
    assert ours.auth is not None
    expected = hmac.new(auth_key, b"probe", AUTH_ALGORITHMS[auth].hash_name).digest()
    probe = ours.auth.copy()
    probe.update(b"probe")
    assert probe.digest() == expected
    assert ours.priv == priv_key


def test_the_rfc_3414_password_to_key_example() -> None:
    # RFC 3414 A.3.1 and A.3.2: "maplesyrup" for engine 00..02.
    engine = bytes.fromhex("000000000000000000000002")
    keys = KeyCache()
    md5 = keys.keys(engine, "MD5", b"maplesyrup", None, None).auth
    sha = keys.keys(engine, "SHA", b"maplesyrup", None, None).auth
    assert md5 is not None and sha is not None
    md5_key = bytes.fromhex("526f5eed9fcce26f8964c2930787d82b")
    sha_key = bytes.fromhex("6695febc9288e36282235fc7151f128497b38f3f")
    for ours, key, name in ((md5, md5_key, "md5"), (sha, sha_key, "sha1")):
        probe = ours.copy()
        probe.update(b"x")
        assert probe.digest() == hmac.new(key, b"x", name).digest()


def _pysnmp_parts(message: bytes) -> tuple[Any, Any]:
    whole, rest = decoder.decode(message, asn1Spec=SNMPv3Message())
    assert rest == b""
    params, rest = decoder.decode(
        bytes(whole["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters()
    )
    assert rest == b""
    return whole, params


@settings(max_examples=60, deadline=None)
@given(
    AUTHS,
    st.one_of(st.none(), PRIVS),
    PASSWORDS,
    PASSWORDS,
    ENGINE_IDS,
    st.integers(1, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.lists(OIDS, min_size=1, max_size=5),
    st.integers(0, 2**64 - 1),
    st.booleans(),
)
def test_requests_verify_and_decrypt_in_pysnmp(
    auth: AuthProtocol,
    priv: PrivProtocol | None,
    auth_password: bytes,
    priv_password: bytes,
    engine_id: bytes,
    msg_id: int,
    boots: int,
    engine_time: int,
    oids: list[str],
    salt: int,
    bulk: bool,
) -> None:
    credentials = our_credentials(auth, auth_password, priv, priv_password, engine_id)
    pdu = encode_pdu(
        GET_BULK if bulk else GET, msg_id, [encode_oid(o) for o in oids], 0, 7 if bulk else 0
    )
    message = encode_message(
        msg_id, credentials, engine_id, boots, engine_time, engine_id, b"ctx", pdu, salt
    )
    whole, params = _pysnmp_parts(message)
    assert int(whole["msgVersion"]) == 3
    assert int(whole["msgGlobalData"]["msgID"]) == msg_id
    assert int(whole["msgGlobalData"]["msgSecurityModel"]) == 3
    flags = bytes(whole["msgGlobalData"]["msgFlags"])[0]
    assert flags == (0x07 if priv else 0x05)
    assert bytes(params["msgAuthoritativeEngineId"]) == engine_id
    assert int(params["msgAuthoritativeEngineBoots"]) == boots
    assert int(params["msgAuthoritativeEngineTime"]) == engine_time
    assert bytes(params["msgUserName"]) == b"ocr"
    auth_key, priv_key = pysnmp_keys(auth, auth_password, priv, priv_password, engine_id)
    # Raises if the MAC is not the one pysnmp computes.
    USM_AUTH[AUTH_OIDS[auth]].authenticate_incoming_message(
        univ.OctetString(auth_key), params["msgAuthenticationParameters"], message
    )
    if priv is None:
        scoped_bytes = encoder.encode(whole["msgData"]["plaintext"])
    else:
        scoped_bytes = USM_PRIV[PRIV_OIDS[priv]].decrypt_data(
            univ.OctetString(priv_key),
            (boots, engine_time, params["msgPrivacyParameters"]),
            whole["msgData"]["encryptedPDU"],
        )
    scoped, _ = decoder.decode(scoped_bytes, asn1Spec=ScopedPDU())
    assert bytes(scoped["contextEngineId"]) == engine_id
    assert bytes(scoped["contextName"]) == b"ctx"
    request = scoped["data"].getComponent()
    assert int(v2c.apiPDU.get_request_id(request)) == msg_id
    assert [str(name) for name, _ in v2c.apiPDU.get_varbinds(request)] == oids


def test_every_message_gets_a_salt_of_its_own() -> None:
    credentials = our_credentials("SHA256", b"auth-pass", "AES", b"priv-pass", b"engine-1")
    pdu = encode_pdu(GET, 5, [encode_oid("1.3.6.1.2.1.1.1.0")])
    salts = set()
    for salt in range(3):
        message = encode_message(5, credentials, b"engine-1", 1, 2, b"", b"", pdu, salt)
        salts.add(decode_message(message).priv_params)
    assert len(salts) == 3


def pysnmp_response(
    auth: AuthProtocol,
    priv: PrivProtocol | None,
    auth_key: bytes,
    priv_key: bytes | None,
    engine_id: bytes,
    msg_id: int,
    boots: int,
    engine_time: int,
    varbinds: list[tuple[str, Any]],
    pdu_type: int = 0xA2,
    user: bytes = b"ocr",
    request_id: int | None = None,
    authenticate: bool = True,
) -> bytes:
    """An answer as pysnmp's USM services would secure it (or not: `authenticate`)."""
    pdu = v2c.ReportPDU() if pdu_type == REPORT else v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, msg_id if request_id is None else request_id)
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    scoped = ScopedPDU()
    scoped["contextEngineId"] = engine_id
    scoped["contextName"] = b"ctx"
    scoped["data"].setComponentByType(pdu.tagSet, pdu)
    scoped_bytes = encoder.encode(scoped)
    params = UsmSecurityParameters()
    params["msgAuthoritativeEngineId"] = engine_id
    params["msgAuthoritativeEngineBoots"] = boots
    params["msgAuthoritativeEngineTime"] = engine_time
    params["msgUserName"] = user
    mac_length = AUTH_ALGORITHMS[auth].mac_length if authenticate else 0
    params["msgAuthenticationParameters"] = bytes(mac_length)
    whole = SNMPv3Message()
    whole["msgVersion"] = 3
    header = whole["msgGlobalData"]
    header["msgID"] = msg_id
    header["msgMaxSize"] = 65507
    header["msgFlags"] = bytes((0x03 if priv else 0x01 if authenticate else 0x00,))
    header["msgSecurityModel"] = 3
    if priv is None:
        params["msgPrivacyParameters"] = b""
        whole["msgData"]["plaintext"] = scoped
    else:
        encrypted, salt = USM_PRIV[PRIV_OIDS[priv]].encrypt_data(
            univ.OctetString(priv_key), (boots, engine_time, None), scoped_bytes
        )
        params["msgPrivacyParameters"] = salt
        whole["msgData"]["encryptedPDU"] = encrypted
    whole["msgSecurityParameters"] = encoder.encode(params)
    message = encoder.encode(whole)
    if not authenticate:
        return bytes(message)
    return bytes(
        USM_AUTH[AUTH_OIDS[auth]].authenticate_outgoing_message(univ.OctetString(auth_key), message)
    )


VALUES = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda i: (v2c.Integer(i), i)),
    st.binary(max_size=200).map(lambda b: (v2c.OctetString(b), b)),
    st.integers(0, 2**32 - 1).map(lambda i: (v2c.Counter32(i), i)),
    st.integers(0, 2**64 - 1).map(lambda i: (v2c.Counter64(i), i)),
    OIDS.map(lambda o: (v2c.ObjectIdentifier(o), o)),
)


@settings(max_examples=60, deadline=None)
@given(
    AUTHS,
    st.one_of(st.none(), PRIVS),
    PASSWORDS,
    PASSWORDS,
    ENGINE_IDS,
    st.integers(1, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.lists(st.tuples(OIDS, VALUES), max_size=6),
)
def test_answers_pysnmp_secures_decode_to_the_same_values(
    auth: AuthProtocol,
    priv: PrivProtocol | None,
    auth_password: bytes,
    priv_password: bytes,
    engine_id: bytes,
    msg_id: int,
    boots: int,
    engine_time: int,
    varbinds: list[tuple[str, tuple[Any, Any]]],
) -> None:
    auth_key, priv_key = pysnmp_keys(auth, auth_password, priv, priv_password, engine_id)
    datagram = pysnmp_response(
        auth,
        priv,
        auth_key,
        priv_key,
        engine_id,
        msg_id,
        boots,
        engine_time,
        [(oid, value) for oid, (value, _) in varbinds],
    )
    credentials = our_credentials(auth, auth_password, priv, priv_password, engine_id)
    assert message_id(datagram) == msg_id
    message = decode_message(datagram)
    assert (message.engine_id, message.boots, message.time) == (engine_id, boots, engine_time)
    assert credentials.auth is not None
    assert authentic(message, credentials.auth, credentials.mac_length)
    scoped = decode_scoped_pdu(plaintext(message, credentials), ResponseDecoder())
    assert scoped.pdu.request_id == msg_id
    assert scoped.pdu.varbinds == [(oid, expected) for oid, (_, expected) in varbinds]


@pytest.mark.parametrize("auth", sorted(AUTH_OIDS))
def test_an_answer_under_another_key_does_not_authenticate(auth: AuthProtocol) -> None:
    engine_id = b"\x80\x00\x1f\x88\x04engine"
    other_key, _ = pysnmp_keys(auth, b"not-our-password", None, b"", engine_id)
    datagram = pysnmp_response(
        auth, None, other_key, None, engine_id, 9, 1, 100, [("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(5))]
    )
    credentials = our_credentials(auth, b"our-password", None, b"", engine_id)
    assert credentials.auth is not None
    assert not authentic(decode_message(datagram), credentials.auth, credentials.mac_length)


@pytest.mark.parametrize("priv", sorted(PRIV_OIDS))
def test_an_answer_under_another_priv_key_does_not_decode(priv: PrivProtocol) -> None:
    engine_id = b"\x80\x00\x1f\x88\x04engine"
    auth_key, other_priv = pysnmp_keys("SHA256", b"auth-password", priv, b"other-pass", engine_id)
    datagram = pysnmp_response(
        "SHA256",
        priv,
        auth_key,
        other_priv,
        engine_id,
        9,
        1,
        100,
        [("1.3.6.1.2.1.1.5.0", v2c.OctetString(b"printer-name-long-enough"))],
    )
    credentials = our_credentials("SHA256", b"auth-password", priv, b"priv-password", engine_id)
    message = decode_message(datagram)
    with pytest.raises(V3Error):
        decode_scoped_pdu(plaintext(message, credentials), ResponseDecoder())
