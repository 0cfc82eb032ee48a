"""SNMPv3 privacy: the scopedPDU encrypted with DES, 3DES or AES (RFC 3414 8, RFC 3826).

Every message gets a salt of its own, from a counter that starts at a random
value (RFC 3826 3.1.2.1): a salt reused with the same key and engine time
would let an eavesdropper combine two messages.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ocrfleet.snmp.options import PrivProtocol

_AES_KEY_LENGTHS: Final = {"AES": 16, "AES192": 24, "AES256": 32}


class DecryptionError(ValueError):
    """Encrypted data that cannot be decrypted (bad length or privacy parameters)."""


class Salts:
    """The salt counter of one manager; never gives the same value twice in a run."""

    def __init__(self) -> None:
        self._next = int.from_bytes(os.urandom(8), "big")

    def take(self) -> int:
        value = self._next
        self._next = (value + 1) & 0xFFFF_FFFF_FFFF_FFFF
        return value


class Privacy:
    """One localised privacy key of one protocol; the cipher's key schedule is built once."""

    __slots__ = ("_aes", "_des", "_pre_iv")

    def __init__(self, protocol: PrivProtocol, key: bytes) -> None:
        self._aes: algorithms.AES | None = None
        self._des: TripleDES | None = None
        self._pre_iv = b""
        if protocol in _AES_KEY_LENGTHS:
            self._aes = algorithms.AES(key[: _AES_KEY_LENGTHS[protocol]])
        elif protocol == "DES":
            # Single DES is 3DES with the same key three times (EDE collapses to E).
            self._des, self._pre_iv = TripleDES(key[:8] * 3), key[8:16]
        else:
            self._des, self._pre_iv = TripleDES(key[:24]), key[24:32]

    def encrypt(self, boots: int, time: int, salt: int, plain: bytes) -> tuple[bytes, bytes]:
        """(encrypted data, msgPrivacyParameters) for `plain`."""
        if self._aes is not None:
            salt_bytes = salt.to_bytes(8, "big")
            iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + salt_bytes
            encryptor = Cipher(self._aes, CFB(iv)).encryptor()
            return encryptor.update(plain) + encryptor.finalize(), salt_bytes
        # DES and 3DES: CBC, the salt is the engine boots and a counter (RFC 3414 8.1.1.1).
        assert self._des is not None
        salt_bytes = boots.to_bytes(4, "big") + (salt & 0xFFFF_FFFF).to_bytes(4, "big")
        iv = bytes(a ^ b for a, b in zip(salt_bytes, self._pre_iv, strict=True))
        padded = plain + bytes(-len(plain) % 8)
        encryptor = Cipher(self._des, modes.CBC(iv)).encryptor()
        return encryptor.update(padded) + encryptor.finalize(), salt_bytes

    def decrypt(self, boots: int, time: int, salt: bytes, data: bytes) -> bytes:
        """The plaintext scopedPDU; DecryptionError when the parameters cannot be right."""
        if len(salt) != 8:
            raise DecryptionError(f"privacy parameters of {len(salt)} bytes, not 8")
        if self._aes is not None:
            iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + salt
            decryptor = Cipher(self._aes, CFB(iv)).decryptor()
            return decryptor.update(data) + decryptor.finalize()
        assert self._des is not None
        if len(data) % 8:
            raise DecryptionError(f"encrypted data of {len(data)} bytes, not a multiple of 8")
        iv = bytes(a ^ b for a, b in zip(salt, self._pre_iv, strict=True))
        decryptor = Cipher(self._des, modes.CBC(iv)).decryptor()
        return decryptor.update(data) + decryptor.finalize()
