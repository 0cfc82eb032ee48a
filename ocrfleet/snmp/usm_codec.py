"""The SNMPv3 message format with the User-based Security Model (RFC 3412, RFC 3414).

Encodes requests (plain, authenticated or encrypted scopedPDUs) and takes
answers apart. The PDU inside a scopedPDU is the v2c PDU, decoded by
ber.py, so values come out exactly as they do for v2c.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from ocrfleet.snmp.ber import (
    BerError,
    Pdu,
    ResponseDecoder,
    encode_integer,
    encode_tlv,
    read_tlv,
)
from ocrfleet.snmp.usm_message import (
    AUTH,
    MAX_SIZE,
    PRIV,
    REPORTABLE,
    USM,
    V3Error,
    V3Message,
    octets_at,
)
from ocrfleet.snmp.usm_privacy import DecryptionError, Privacy

_OCTET_STRING = 0x04
_SEQUENCE = 0x30
_HEADER_V3 = b"\x02\x01\x03"


class V3DecryptionError(V3Error):
    """An encrypted scopedPDU that does not decrypt to a scopedPDU: the wrong priv key."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request is secured with; `auth` is the keyed HMAC to copy per message."""

    user: bytes
    auth: hmac.HMAC | None = None
    mac_length: int = 0
    privacy: Privacy | None = None

    @property
    def flags(self) -> int:
        if self.auth is None:
            return 0
        return AUTH | PRIV if self.privacy is not None else AUTH


@dataclass(frozen=True, slots=True)
class ScopedPdu:
    context_engine_id: bytes
    context_name: bytes
    pdu: Pdu


def _octets(value: bytes) -> bytes:
    return encode_tlv(_OCTET_STRING, value)


class RequestEncoder:
    """Encodes one user's requests to one engine and context.

    What does not change from one request to the next (engine id, user,
    flags, context) is encoded once: a request is then a few joins, one
    encryption and one HMAC.
    """

    __slots__ = ("_auth", "_context", "_engine", "_global_tail", "_mac_length", "_privacy", "_user")

    def __init__(
        self,
        credentials: Credentials,
        engine_id: bytes,
        context_engine_id: bytes,
        context_name: bytes,
        reportable: bool = True,
    ) -> None:
        flags = credentials.flags | (REPORTABLE if reportable else 0)
        self._auth = credentials.auth if flags & AUTH else None
        self._mac_length = credentials.mac_length if flags & AUTH else 0
        self._privacy = credentials.privacy if flags & PRIV else None
        self._engine = _octets(engine_id)
        self._user = _octets(credentials.user) + _octets(bytes(self._mac_length))
        self._context = _octets(context_engine_id) + _octets(context_name)
        self._global_tail = (
            encode_integer(MAX_SIZE) + _octets(bytes((flags,))) + encode_integer(USM)
        )

    def encode(self, msg_id: int, boots: int, time: int, pdu: bytes, salt: int = 0) -> bytes:
        """A whole request message: header, USM parameters, scopedPDU (encrypted if asked)."""
        scoped = encode_tlv(_SEQUENCE, self._context + pdu)
        tail = b"\x04\x00"  # no privacy parameters
        if self._privacy is not None:
            encrypted, salt_bytes = self._privacy.encrypt(boots, time, salt, scoped)
            scoped = _octets(encrypted)
            tail = _octets(salt_bytes)
        security = encode_tlv(
            _SEQUENCE,
            self._engine + encode_integer(boots) + encode_integer(time) + self._user + tail,
        )
        header = encode_tlv(_SEQUENCE, encode_integer(msg_id) + self._global_tail)
        message = encode_tlv(_SEQUENCE, _HEADER_V3 + header + _octets(security) + scoped)
        if self._auth is None:
            return message
        mac = self._auth.copy()
        mac.update(message)
        mac_length = self._mac_length
        end = len(message) - len(scoped) - len(tail)
        return message[: end - mac_length] + mac.digest()[:mac_length] + message[end:]


def encode_message(
    msg_id: int,
    credentials: Credentials,
    engine_id: bytes,
    boots: int,
    time: int,
    context_engine_id: bytes,
    context_name: bytes,
    pdu: bytes,
    salt: int = 0,
    reportable: bool = True,
) -> bytes:
    """One request message; RequestEncoder for many to the same engine."""
    encoder = RequestEncoder(credentials, engine_id, context_engine_id, context_name, reportable)
    return encoder.encode(msg_id, boots, time, pdu, salt)


def authentic(message: V3Message, auth: hmac.HMAC, mac_length: int) -> bool:
    """Whether the message's HMAC is the one our key gives (RFC 3414 6.3.2, 7.3.2)."""
    if len(message.auth_params) != mac_length:
        return False
    data = message.datagram
    start = message.auth_start
    mac = auth.copy()
    mac.update(data[:start])
    mac.update(bytes(mac_length))
    mac.update(data[start + mac_length :])
    return hmac.compare_digest(mac.digest()[:mac_length], message.auth_params)


def plaintext(message: V3Message, credentials: Credentials) -> bytes:
    """The scopedPDU in clear; V3DecryptionError when it does not decrypt."""
    if not message.flags & PRIV:
        return message.data
    if credentials.privacy is None:
        raise V3Error("an encrypted answer to a request without privacy")
    try:
        return credentials.privacy.decrypt(
            message.boots, message.time, message.priv_params, message.data
        )
    except DecryptionError as exc:
        raise V3DecryptionError(str(exc)) from None


def decode_scoped_pdu(scoped: bytes, decoder: ResponseDecoder) -> ScopedPdu:
    """The scopedPDU's context and PDU; V3Error when it is malformed.

    Decrypted with the wrong key, a scopedPDU is noise: its padding is
    allowed (DES pads to 8 bytes), nothing else is.
    """
    try:
        tag, pos, limit = read_tlv(scoped, 0, len(scoped))
        if tag != _SEQUENCE:
            raise V3Error("scopedPDU is not a SEQUENCE")
        start, pos = octets_at(scoped, pos, limit, "contextEngineID")
        context_engine_id = scoped[start:pos]
        start, pos = octets_at(scoped, pos, limit, "contextName")
        context_name = scoped[start:pos]
        pdu = decoder.decode_pdu(scoped, pos, limit)
    except BerError as exc:
        raise V3Error(str(exc)) from None
    except (IndexError, ValueError) as exc:
        raise V3Error(f"malformed scopedPDU: {exc}") from None
    return ScopedPdu(bytes(context_engine_id), bytes(context_name), pdu)
