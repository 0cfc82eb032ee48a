"""SNMPv3 requests with USM (authentication and privacy), on the shared UDP socket.

The agent is the authoritative engine (RFC 3414 3): its engine id, boots
and time are learnt once per device (discovery) and kept. An agent that
restarted answers with a Report (notInTimeWindow, or unknownEngineID when
its engine id changed): the state is learnt again and the request sent once
more. Answers are accepted only when they authenticate, come from the engine
discovered, answer the msgID waited for and are not older than the 150 s
window (RFC 3414 3.2 step 7).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ocrfleet.snmp.ber import GET, REPORT, ResponseDecoder, Varbind, encode_pdu
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV3
from ocrfleet.snmp.udp import Address, UdpRequester
from ocrfleet.snmp.usm_codec import (
    Credentials,
    RequestEncoder,
    ScopedPdu,
    V3DecryptionError,
    authentic,
    decode_scoped_pdu,
    encode_message,
    plaintext,
)
from ocrfleet.snmp.usm_keys import AUTH_ALGORITHMS, KeyCache
from ocrfleet.snmp.usm_message import AUTH, MAX_INTEGER, PRIV, V3Error, V3Message
from ocrfleet.snmp.usm_privacy import Privacy, Salts
from ocrfleet.snmp.values import SnmpError

TIME_WINDOW: Final = 150  # seconds, RFC 3414 2.2.3

_USM_STATS = "1.3.6.1.6.3.15.1.1."
UNSUPPORTED_SEC_LEVELS: Final = _USM_STATS + "1.0"
NOT_IN_TIME_WINDOWS: Final = _USM_STATS + "2.0"
UNKNOWN_USER_NAMES: Final = _USM_STATS + "3.0"
UNKNOWN_ENGINE_IDS: Final = _USM_STATS + "4.0"
WRONG_DIGESTS: Final = _USM_STATS + "5.0"
DECRYPTION_ERRORS: Final = _USM_STATS + "6.0"
UNKNOWN_CONTEXTS: Final = "1.3.6.1.6.3.12.1.5.0"


class UsmShared:
    """What every v3 client of the daemon shares: key cache, salt counter, decoder."""

    def __init__(self) -> None:
        self.keys = KeyCache()
        self.salts = Salts()
        self.decoder = ResponseDecoder()


@dataclass(slots=True)
class EngineState:
    """The agent's engine as last learnt: id, boots, time and when we learnt the time."""

    engine_id: bytes
    boots: int
    time: int
    synced_at: float  # time.monotonic() when `time` was learnt
    latest_time: int  # latestReceivedEngineTime (RFC 3414 2.3)
    credentials: Credentials
    encoder: RequestEncoder

    def now(self) -> tuple[int, int]:
        elapsed = int(time.monotonic() - self.synced_at)
        return self.boots, min(self.time + elapsed, MAX_INTEGER)

    def learn(self, boots: int, engine_time: int) -> None:
        self.boots = boots
        self.time = self.latest_time = engine_time
        self.synced_at = time.monotonic()

    def behind(self, boots: int, engine_time: int) -> bool:
        """Whether boots and time are older than what was learnt, beyond the window."""
        if boots != self.boots:
            return boots < self.boots
        return engine_time < self.latest_time - TIME_WINDOW

    def in_window(self, boots: int, engine_time: int) -> bool:
        """RFC 3414 3.2 step 7b for a non-authoritative engine; updates what was learnt."""
        if boots == MAX_INTEGER or boots < self.boots:
            return False
        if boots > self.boots or engine_time > self.latest_time:
            self.learn(boots, engine_time)
            return True
        return engine_time >= self.latest_time - TIME_WINDOW


@dataclass(frozen=True, slots=True)
class _Answer:
    """An accepted answer: a Response, or a Report naming what went wrong."""

    scoped: ScopedPdu
    message: V3Message


class UsmClient(SnmpClient):
    def __init__(
        self,
        options: SnmpDeviceOptions,
        requester: UdpRequester,
        encode_oid: Callable[[str], bytes],
        family: int,
        address: Address,
        shared: UsmShared,
    ) -> None:
        super().__init__(options)
        credentials = options.snmp
        assert isinstance(credentials, SnmpV3)
        self._v3 = credentials
        self._user = credentials.user.encode()
        self._context = credentials.context.encode()
        self._requester = requester
        self._encode_oid = encode_oid
        self._family = family
        self._address = address
        self._shared = shared
        self._engine: EngineState | None = None
        # Set when an answer was dropped for failing authentication: a
        # timeout after that is most likely a wrong auth key, not silence.
        self._unauthentic = False

    # -- the request -----------------------------------------------------------

    async def _exchange(
        self, pdu_type: int, oids: Sequence[str], max_repetitions: int = 0
    ) -> tuple[int, list[Varbind]]:
        encoded = [self._encode_oid(oid) for oid in oids]
        resynced = rediscovered = False
        while True:
            engine = self._engine or await self._discover()
            request_id = self._requester.request_id()
            pdu = encode_pdu(pdu_type, request_id, encoded, 0, max_repetitions)
            answer = await self._send(engine, request_id, pdu)
            pdu_answer = answer.scoped.pdu
            if pdu_answer.pdu_type != REPORT:
                return pdu_answer.error_status, pdu_answer.varbinds
            report = _report_oid(answer.scoped)
            if report == NOT_IN_TIME_WINDOWS and not resynced and answer.message.flags & AUTH:
                # The agent's clock, authenticated: take it and try once more.
                _check_boots(answer.message.boots)
                engine.learn(answer.message.boots, answer.message.time)
                resynced = True
                continue
            if report == UNKNOWN_ENGINE_IDS and not rediscovered:
                self._engine = None  # the agent restarted with another engine id
                rediscovered = True
                continue
            raise self._report_error(report)

    async def _send(self, engine: EngineState, msg_id: int, pdu: bytes) -> _Answer:
        boots, engine_time = engine.now()
        salt = self._shared.salts.take() if engine.credentials.privacy is not None else 0
        message = engine.encoder.encode(msg_id, boots, engine_time, pdu, salt)

        def accept(answer: V3Message) -> _Answer | None:
            return self._accept(engine, msg_id, answer)

        return await self._transmit(msg_id, message, accept)

    async def _transmit(
        self, msg_id: int, message: bytes, accept: Callable[[V3Message], _Answer | None]
    ) -> _Answer:
        self._unauthentic = False
        try:
            return await self._requester.exchange_v3(
                self._family,
                self._address,
                msg_id,
                message,
                self._options.timeout,
                self._options.retries,
                accept,
            )
        except SnmpError as exc:
            if exc.reason == "timeout" and self._unauthentic:
                raise SnmpError(
                    "auth",
                    "SNMPv3: the agent's answers do not authenticate: wrong auth key"
                    " or auth protocol (check snmp.auth_key and snmp.auth_protocol)",
                ) from None
            raise

    def _accept(self, engine: EngineState, msg_id: int, answer: V3Message) -> _Answer | None:
        """The answer if it is one we take; None drops it; SnmpError ends the request.

        V3Error drops it too, noted on the request: the reason it fails with
        at its timeout if nothing valid comes. Only an answer that
        authenticates can end an authenticated request with an error:
        anyone can send a datagram from the agent's address with our msgID.
        """
        if answer.msg_id != msg_id:
            return None
        if answer.flags & PRIV and not answer.flags & AUTH:
            raise V3Error("msgFlags say privacy without authentication (RFC 3412 7.2)")
        credentials = engine.credentials
        if not answer.flags & AUTH:
            return self._accept_unauthenticated(engine, msg_id, answer)
        if credentials.auth is None or answer.engine_id != engine.engine_id:
            return None
        if not authentic(answer, credentials.auth, credentials.mac_length):
            self._unauthentic = True
            return None
        try:
            scoped = decode_scoped_pdu(plaintext(answer, credentials), self._shared.decoder)
        except V3DecryptionError:
            raise self._decryption_error() from None
        except V3Error as exc:
            if answer.flags & PRIV:
                raise self._decryption_error() from None
            raise SnmpError("protocol", f"SNMPv3: malformed answer: {exc}") from None
        if scoped.pdu.pdu_type == REPORT:
            if _report_oid(scoped) == NOT_IN_TIME_WINDOWS and engine.behind(
                answer.boots, answer.time
            ):
                return None  # a replayed old clock: learning it would undo the window
            return _Answer(scoped, answer)
        if scoped.pdu.request_id != msg_id:
            return None
        if not engine.in_window(answer.boots, answer.time):
            return None  # a replay, or older than the time window
        return _Answer(scoped, answer)

    def _accept_unauthenticated(
        self, engine: EngineState, msg_id: int, answer: V3Message
    ) -> _Answer | None:
        try:
            scoped = decode_scoped_pdu(answer.data, self._shared.decoder)
        except V3Error as exc:
            if engine.credentials.auth is not None:
                raise  # noted, not failed: it proves nothing about the agent
            raise SnmpError("protocol", f"SNMPv3: malformed answer: {exc}") from None
        if scoped.pdu.pdu_type == REPORT:
            # Reports about USM failures come unauthenticated (RFC 3414 3.1.1):
            # the msgID match is what ties them to our request. Not
            # notInTimeWindow when we authenticate: an agent sends that one
            # authenticated (RFC 3414 3.2 step 7b), and it would resync us.
            if engine.credentials.auth is not None and _report_oid(scoped) == NOT_IN_TIME_WINDOWS:
                return None
            return _Answer(scoped, answer)
        if engine.credentials.auth is not None:
            self._unauthentic = True
            return None  # an unauthenticated Response to an authenticated request
        if answer.engine_id != engine.engine_id or scoped.pdu.request_id != msg_id:
            return None
        return _Answer(scoped, answer)

    # -- discovery ----------------------------------------------------------------

    async def _discover(self) -> EngineState:
        """Learn the agent's engine id, boots and time (RFC 3414 4)."""
        msg_id = self._requester.request_id()
        pdu = encode_pdu(GET, msg_id, [])
        message = encode_message(msg_id, Credentials(b""), b"", 0, 0, b"", b"", pdu)

        def accept(answer: V3Message) -> _Answer | None:
            if answer.msg_id != msg_id or answer.flags & AUTH:
                return None
            if answer.flags & PRIV:
                raise V3Error("msgFlags say privacy without authentication (RFC 3412 7.2)")
            # A malformed scopedPDU raises V3Error: noted, not failed, as
            # anyone can send one with our msgID.
            return _Answer(decode_scoped_pdu(answer.data, self._shared.decoder), answer)

        answer = await self._transmit(msg_id, message, accept)
        found = answer.message
        if not found.engine_id:
            raise SnmpError("protocol", "SNMPv3: the agent did not tell its engine id")
        _check_boots(found.boots)
        credentials = self._credentials(found.engine_id)
        self._engine = EngineState(
            found.engine_id,
            found.boots,
            found.time,
            time.monotonic(),
            found.time,
            credentials,
            RequestEncoder(credentials, found.engine_id, found.engine_id, self._context),
        )
        return self._engine

    def _credentials(self, engine_id: bytes) -> Credentials:
        v3 = self._v3
        auth_password = v3.auth_key.get_secret_value().encode() if v3.auth_key else None
        priv_password = v3.priv_key.get_secret_value().encode() if v3.priv_key else None
        keys = self._shared.keys.keys(
            engine_id, v3.auth_protocol, auth_password, v3.priv_protocol, priv_password
        )
        mac_length = AUTH_ALGORITHMS[v3.auth_protocol].mac_length if v3.auth_protocol else 0
        privacy = Privacy(v3.priv_protocol, keys.priv) if v3.priv_protocol and keys.priv else None
        return Credentials(self._user, keys.auth, mac_length, privacy)

    # -- errors ---------------------------------------------------------------------

    def _decryption_error(self) -> SnmpError:
        return SnmpError(
            "auth",
            "SNMPv3: the agent's answer does not decrypt: wrong priv key or priv protocol"
            " (check snmp.priv_key and snmp.priv_protocol)",
        )

    def _report_error(self, report: str) -> SnmpError:
        user = self._v3.user
        if report == UNKNOWN_USER_NAMES:
            return SnmpError(
                "auth", f"SNMPv3: the agent does not know user '{user}' (check snmp.user)"
            )
        if report == WRONG_DIGESTS:
            return SnmpError(
                "auth",
                f"SNMPv3: the agent rejected the authentication of user '{user}': wrong auth"
                " key or auth protocol (check snmp.auth_key and snmp.auth_protocol)",
            )
        if report == DECRYPTION_ERRORS:
            return SnmpError(
                "auth",
                "SNMPv3: the agent could not decrypt the request: wrong priv key or priv"
                " protocol (check snmp.priv_key and snmp.priv_protocol)",
            )
        if report == UNSUPPORTED_SEC_LEVELS:
            return SnmpError(
                "auth",
                f"SNMPv3: the agent does not allow security level {self._v3.level} for"
                f" user '{user}' (check snmp.auth_protocol and snmp.priv_protocol)",
            )
        if report == NOT_IN_TIME_WINDOWS:
            return SnmpError(
                "auth",
                "SNMPv3: the agent keeps answering that the request is outside its time"
                " window, even after synchronising with its clock",
            )
        if report == UNKNOWN_ENGINE_IDS:
            return SnmpError(
                "auth", "SNMPv3: the agent does not recognise its own engine id after discovery"
            )
        if report == UNKNOWN_CONTEXTS:
            return SnmpError(
                "protocol",
                f"SNMPv3: the agent does not know context '{self._v3.context}'"
                " (check snmp.context)",
            )
        return SnmpError("protocol", f"SNMPv3: the agent reported {report or 'an error'}")


def _check_boots(boots: int) -> None:
    """An agent whose boots reached their maximum takes no more requests (RFC 3414 2.2.3)."""
    if boots == MAX_INTEGER:
        raise SnmpError(
            "auth",
            f"SNMPv3: the agent's snmpEngineBoots is at its maximum ({MAX_INTEGER});"
            " it must be re-keyed before it can be polled",
        )


def _report_oid(scoped: ScopedPdu) -> str:
    varbinds = scoped.pdu.varbinds
    return varbinds[0][0] if varbinds else ""
