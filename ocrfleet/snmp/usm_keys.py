"""SNMPv3 USM keys: passwords to localised keys (RFC 3414 A.2, RFC 7860, RFC 3826).

Turning a password into a key hashes a megabyte (RFC 3414 A.2.1), so keys
are worked out once per (password, engine id, protocol) and kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.options import AuthProtocol, PrivProtocol


@dataclass(frozen=True, slots=True)
class AuthAlgorithm:
    """An HMAC authentication protocol: its hash and the MAC length on the wire."""

    hash_name: str
    mac_length: int


# RFC 3414 6 and 7 (HMAC-96), RFC 7860 (HMAC-SHA-2).
AUTH_ALGORITHMS: Final[dict[AuthProtocol, AuthAlgorithm]] = {
    "MD5": AuthAlgorithm("md5", 12),
    "SHA": AuthAlgorithm("sha1", 12),
    "SHA224": AuthAlgorithm("sha224", 16),
    "SHA256": AuthAlgorithm("sha256", 24),
    "SHA384": AuthAlgorithm("sha384", 32),
    "SHA512": AuthAlgorithm("sha512", 48),
}

# Key bytes each privacy protocol takes from the localised key: DES uses 8
# for the key and 8 for the pre-IV (RFC 3414 8.1.1.1); 3DES 24 and 8.
PRIV_KEY_LENGTHS: Final[dict[PrivProtocol, int]] = {
    "DES": 16,
    "3DES": 32,
    "AES": 16,
    "AES192": 24,
    "AES256": 32,
}

_MEGABYTE = 1_048_576


def hash_password(password: bytes, hash_name: str) -> bytes:
    """The password hashed over a megabyte of its repetition (RFC 3414 A.2)."""
    if not password:
        raise ValueError("an SNMPv3 password cannot be empty")
    repeated = password * (_MEGABYTE // len(password) + 1)
    return hashlib.new(hash_name, repeated[:_MEGABYTE]).digest()


def localise(hashed: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """A hashed password bound to one authoritative engine (RFC 3414 A.2)."""
    return hashlib.new(hash_name, hashed + engine_id + hashed).digest()


def password_to_key(password: bytes, engine_id: bytes, hash_name: str) -> bytes:
    return localise(hash_password(password, hash_name), engine_id, hash_name)


def extend_priv_key(key: bytes, engine_id: bytes, hash_name: str, length: int) -> bytes:
    """A localised key stretched to `length` bytes the way 3DES, AES-192 and AES-256 do.

    This is the extension of draft-reeder-snmpv3-usm-3desede, which the
    "AES192"/"AES256" settings have always meant here (as in pysnmp and Cisco
    agents): each further chunk is the previous key run through the whole
    password-to-key procedure again.
    """
    while len(key) < length:
        key += password_to_key(key, engine_id, hash_name)
    return key[:length]


@dataclass(frozen=True, slots=True)
class UserKeys:
    """One user's keys for one engine: the HMAC to copy per message, the privacy key."""

    auth: hmac.HMAC | None
    priv: bytes | None


class KeyCache:
    """Localised keys per (passwords, protocols, engine id); bounded, for a whole fleet."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._hashed: dict[tuple[bytes, str], bytes] = {}
        self._keys: dict[tuple[object, ...], UserKeys] = {}
        self._max_entries = max_entries

    def _password_hash(self, password: bytes, hash_name: str) -> bytes:
        found = self._hashed.get((password, hash_name))
        if found is None:
            if len(self._hashed) >= self._max_entries:
                self._hashed.clear()
            found = self._hashed[(password, hash_name)] = hash_password(password, hash_name)
        return found

    def keys(
        self,
        engine_id: bytes,
        auth_protocol: AuthProtocol | None,
        auth_password: bytes | None,
        priv_protocol: PrivProtocol | None,
        priv_password: bytes | None,
    ) -> UserKeys:
        cache_key = (engine_id, auth_protocol, auth_password, priv_protocol, priv_password)
        found = self._keys.get(cache_key)
        if found is not None:
            return found
        auth: hmac.HMAC | None = None
        priv: bytes | None = None
        if auth_protocol is not None and auth_password is not None:
            hash_name = AUTH_ALGORITHMS[auth_protocol].hash_name
            auth_key = localise(self._password_hash(auth_password, hash_name), engine_id, hash_name)
            auth = hmac.new(auth_key, digestmod=hash_name)
            if priv_protocol is not None and priv_password is not None:
                # The privacy key is localised with the authentication hash (RFC 3414 2.6).
                hashed = self._password_hash(priv_password, hash_name)
                priv = extend_priv_key(
                    localise(hashed, engine_id, hash_name),
                    engine_id,
                    hash_name,
                    PRIV_KEY_LENGTHS[priv_protocol],
                )
        found = UserKeys(auth, priv)
        if len(self._keys) >= self._max_entries:
            self._keys.clear()
        self._keys[cache_key] = found
        return found
