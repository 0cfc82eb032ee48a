"""What the SNMPv3 client accepts, against a scripted agent on loopback.

The agent answers discovery, then sends the answers a test scripts (each
built and secured with pysnmp's USM services) before the genuine one: an
answer the client must not accept leaves it waiting for the genuine one,
so these tests need no timing. Resynchronisation and re-discovery are the
agent telling the client its clock or engine id changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from pyasn1.codec.ber import decoder
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU

from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.snmp.service import SnmpService
from ocrfleet.snmp.usm import NOT_IN_TIME_WINDOWS, UNKNOWN_ENGINE_IDS, UNKNOWN_USER_NAMES
from ocrfleet.snmp.usm_codec import plaintext
from ocrfleet.snmp.usm_message import V3Message, decode_message
from ocrfleet.snmp.values import SnmpError
from tests.test_snmp_usm_codec import our_credentials, pysnmp_keys, pysnmp_response

ENGINE = b"\x80\x00\x1f\x88\x04scripted"
OTHER_ENGINE = b"\x80\x00\x1f\x88\x04impostor"
AUTH_PASSWORD = b"auth-password"
PRIV_PASSWORD = b"priv-password"
NAME = "1.3.6.1.2.1.1.5.0"


@dataclass
class Request:
    message: V3Message
    request_id: int


# An answer the agent sends: built from the request it answers.
Script = Callable[[Request], bytes]


def secured(
    request: Request,
    value: bytes,
    *,
    engine: bytes = ENGINE,
    boots: int = 5,
    engine_time: int = 1000,
    msg_id: int | None = None,
    request_id: int | None = None,
    priv_password: bytes = PRIV_PASSWORD,
    report: str | None = None,
    authenticate: bool = True,
) -> bytes:
    auth_key, priv_key = pysnmp_keys("SHA256", AUTH_PASSWORD, "AES", priv_password, engine)
    varbinds: list[tuple[str, Any]] = (
        [(report, v2c.Counter32(1))] if report else [(NAME, v2c.OctetString(value))]
    )
    return pysnmp_response(
        "SHA256",
        None if report else "AES",
        auth_key,
        priv_key,
        engine,
        request.message.msg_id if msg_id is None else msg_id,
        boots,
        engine_time,
        varbinds,
        pdu_type=0xA8 if report else 0xA2,
        request_id=request.request_id if request_id is None else request_id,
        authenticate=authenticate,
    )


def unauthenticated_report(request: Request, oid: str, engine: bytes = ENGINE) -> bytes:
    """A Report as agents send USM failures: noAuthNoPriv, tied by msgID alone."""
    return secured(request, b"", engine=engine, report=oid, authenticate=False)


def _genuine(request: Request) -> bytes:
    return secured(request, b"GOOD")


@dataclass
class ScriptedAgent(asyncio.DatagramProtocol):
    """Answers discovery itself; each further request gets the next script's answers."""

    scripts: list[list[Script]]
    engine: bytes = ENGINE
    requests: list[Request] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        assert self.transport is not None
        message = decode_message(data)
        if not message.engine_id:
            discovery = Request(message, 0)
            answer = unauthenticated_report(discovery, UNKNOWN_ENGINE_IDS, self.engine)
            self.transport.sendto(answer, addr)
            return
        credentials = our_credentials(
            "SHA256", AUTH_PASSWORD, "AES", PRIV_PASSWORD, message.engine_id
        )
        scoped, _ = decoder.decode(plaintext(message, credentials), asn1Spec=ScopedPDU())
        pdu = scoped["data"].getComponent()
        request = Request(message, int(v2c.apiPDU.get_request_id(pdu)))
        self.requests.append(request)
        script: list[Script] = self.scripts.pop(0) if self.scripts else [_genuine]
        for make in script:
            self.transport.sendto(make(request), addr)


async def _poll(agent: ScriptedAgent, timeout: float = 10) -> Any:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: agent, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    options = SnmpDeviceOptions.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "timeout": timeout,
            "retries": 0,
            "snmp": {
                "version": "3",
                "user": "ocr",
                "auth_protocol": "SHA256",
                "auth_key": AUTH_PASSWORD.decode(),
                "priv_protocol": "AES",
                "priv_key": PRIV_PASSWORD.decode(),
            },
        }
    )
    service = SnmpService()
    try:
        client = await service.client(options)
        found = [await client.get([NAME])]
        # A second poll on the same client: after what the first one learnt.
        found.append(await client.get([NAME]))
        return found
    finally:
        service.close()
        transport.close()


def poll(agent: ScriptedAgent, timeout: float = 10) -> Any:
    return asyncio.run(_poll(agent, timeout))


GOOD = [{NAME: b"GOOD"}, {NAME: b"GOOD"}]


@pytest.mark.parametrize(
    "impostor",
    [
        pytest.param(lambda r: secured(r, b"BAD", msg_id=r.message.msg_id + 1), id="other-msgid"),
        pytest.param(lambda r: secured(r, b"BAD", request_id=0), id="other-request-id"),
        pytest.param(lambda r: secured(r, b"BAD", engine=OTHER_ENGINE), id="other-engine"),
        pytest.param(lambda r: secured(r, b"BAD", boots=4), id="earlier-boots"),
        pytest.param(lambda r: secured(r, b"BAD", engine_time=1000 - 151), id="outside-window"),
    ],
)
def test_answers_not_accepted(impostor: Script) -> None:
    agent = ScriptedAgent([[impostor, lambda r: secured(r, b"GOOD")]])
    assert poll(agent) == GOOD


def test_an_answer_whose_hmac_does_not_verify_is_not_accepted() -> None:
    def tampered(request: Request) -> bytes:
        datagram = bytearray(secured(request, b"BAD"))
        datagram[decode_message(bytes(datagram)).auth_start] ^= 0x01
        return bytes(datagram)

    agent = ScriptedAgent([[tampered, lambda r: secured(r, b"GOOD")]])
    assert poll(agent) == GOOD


def test_answers_that_never_authenticate_say_so() -> None:
    def tampered(request: Request) -> bytes:
        datagram = bytearray(secured(request, b"BAD"))
        datagram[decode_message(bytes(datagram)).auth_start] ^= 0x01
        return bytes(datagram)

    agent = ScriptedAgent([[tampered]])
    with pytest.raises(SnmpError) as caught:
        poll(agent, timeout=0.5)
    assert caught.value.reason == "auth"
    assert "answers do not authenticate: wrong auth key" in str(caught.value)


def test_an_answer_within_the_window_is_accepted() -> None:
    # 150 s back from the latest time seen is still inside (RFC 3414 3.2 7b).
    agent = ScriptedAgent([[lambda r: secured(r, b"GOOD", engine_time=1000 - 150)]])
    assert poll(agent) == GOOD


def test_an_answer_that_does_not_decrypt() -> None:
    agent = ScriptedAgent([[lambda r: secured(r, b"GOOD", priv_password=b"other-priv-pass")]])
    with pytest.raises(SnmpError) as caught:
        poll(agent)
    assert caught.value.reason == "auth"
    assert "does not decrypt: wrong priv key or priv protocol" in str(caught.value)


def test_resynchronises_once_on_not_in_time_window() -> None:
    # The agent restarted: boots went up and its clock back to zero.
    report = [lambda r: secured(r, b"", boots=6, engine_time=3, report=NOT_IN_TIME_WINDOWS)]
    after: list[Script] = [lambda r: secured(r, b"GOOD", boots=6, engine_time=4)]
    agent = ScriptedAgent([report, after, list(after)])
    assert poll(agent) == GOOD
    first, retried, second = agent.requests
    assert first.message.boots == 5
    assert retried.message.boots == second.message.boots == 6
    assert retried.message.time >= 3


def test_gives_up_when_the_resync_does_not_help() -> None:
    report: list[Script] = [
        lambda r: secured(r, b"", boots=6, engine_time=3, report=NOT_IN_TIME_WINDOWS)
    ]
    agent = ScriptedAgent([report, list(report)])
    with pytest.raises(SnmpError) as caught:
        poll(agent)
    assert caught.value.reason == "auth"
    assert "outside its time window" in str(caught.value)
    assert len(agent.requests) == 2


def test_discovers_again_when_the_engine_id_changes() -> None:
    agent = ScriptedAgent([[lambda r: secured(r, b"GOOD")]])
    agent.scripts.append([lambda r: unauthenticated_report(r, UNKNOWN_ENGINE_IDS, OTHER_ENGINE)])

    def after_restart(request: Request) -> bytes:
        return secured(request, b"GOOD", engine=OTHER_ENGINE)

    agent.scripts.append([after_restart])

    async def run() -> Any:
        # The agent's discovery answers with the new engine id from its second request on.
        original = agent.datagram_received

        def received(data: bytes, addr: tuple[str | Any, int]) -> None:
            if len(agent.requests) >= 2:
                agent.engine = OTHER_ENGINE
            original(data, addr)

        agent.datagram_received = received  # type: ignore[method-assign]
        return await _poll(agent)

    assert asyncio.run(run()) == GOOD
    assert [r.message.engine_id for r in agent.requests] == [ENGINE, ENGINE, OTHER_ENGINE]


def test_an_unknown_user_report() -> None:
    agent = ScriptedAgent([[lambda r: unauthenticated_report(r, UNKNOWN_USER_NAMES)]])
    with pytest.raises(SnmpError) as caught:
        poll(agent)
    assert str(caught.value) == (
        "auth: SNMPv3: the agent does not know user 'ocr' (check snmp.user)"
    )


def _priv_without_auth(request: Request) -> bytes:
    """msgFlags privacy without authentication (invalid, RFC 3412 7.2), noise for a body."""
    datagram = bytearray(secured(request, b"BAD"))
    flags = datagram.index(b"\x04\x01\x03")
    datagram[flags + 2] = 0x02
    message = decode_message(bytes(datagram))
    datagram[len(datagram) - len(message.data)] ^= 0xFF  # ciphertext made without the key
    return bytes(datagram)


def _unauthenticated_malformed(request: Request) -> bytes:
    """noAuthNoPriv with our msgID, its scopedPDU a SEQUENCE of garbage."""
    datagram = bytearray(secured(request, b"BAD"))
    body = len(datagram) - len(decode_message(bytes(datagram)).data)
    flags = datagram.index(b"\x04\x01\x03")
    datagram[flags + 2] = 0x00
    datagram[body - 2] = 0x30  # the encrypted OCTET STRING's tag made a SEQUENCE's
    datagram[body:] = b"\x02\x01\x00" + bytes(len(datagram) - body - 3)
    return bytes(datagram)


def _undecodable(request: Request) -> bytes:
    """Our msgID readable, the rest not an SNMPv3 message we take (security model 4)."""
    datagram = secured(request, b"BAD")
    return datagram.replace(b"\x04\x01\x03\x02\x01\x03", b"\x04\x01\x03\x02\x01\x04", 1)


def _unauthenticated_not_in_time_window(request: Request) -> bytes:
    return unauthenticated_report(request, NOT_IN_TIME_WINDOWS)


UNAUTHENTICATED_IMPOSTORS = [
    pytest.param(_priv_without_auth, id="priv-without-auth"),
    pytest.param(_unauthenticated_malformed, id="unauthenticated-malformed"),
    pytest.param(_undecodable, id="undecodable"),
    pytest.param(_unauthenticated_not_in_time_window, id="unauthenticated-notInTimeWindow"),
]


@pytest.mark.parametrize("impostor", UNAUTHENTICATED_IMPOSTORS)
def test_an_unauthenticated_answer_does_not_end_an_authenticated_request(
    impostor: Script,
) -> None:
    agent = ScriptedAgent([[impostor, _genuine]])
    assert poll(agent) == GOOD
    assert len(agent.requests) == 2  # no resync, no resend


@pytest.mark.parametrize(
    ("impostor", "reason", "detail"),
    [
        (_priv_without_auth, "malformed", "msgFlags say privacy without authentication"),
        (_unauthenticated_malformed, "malformed", "contextEngineID is not an OCTET STRING"),
        (_undecodable, "malformed", "security model 4 is not USM"),
    ],
    ids=["priv-without-auth", "unauthenticated-malformed", "undecodable"],
)
def test_only_unauthenticated_garbage_fails_at_the_timeout_with_its_reason(
    impostor: Script, reason: str, detail: str
) -> None:
    agent = ScriptedAgent([[impostor]])
    with pytest.raises(SnmpError) as caught:
        poll(agent, timeout=0.5)
    assert caught.value.reason == reason
    assert str(caught.value).startswith(f"{reason}: no valid answer in 1 try of 0.5 s; 1 {reason}")
    assert detail in str(caught.value)


MAX_BOOTS = 0x7FFFFFFF


def test_no_request_to_an_agent_whose_boots_are_at_their_maximum() -> None:
    agent = ScriptedAgent([])
    agent_boots = MAX_BOOTS

    async def run() -> Any:
        original = agent.datagram_received

        def received(data: bytes, addr: tuple[str | Any, int]) -> None:
            assert agent.transport is not None
            message = decode_message(data)
            if message.engine_id:
                original(data, addr)
                return
            discovery = Request(message, 0)
            answer = secured(
                discovery, b"", boots=agent_boots, report=UNKNOWN_ENGINE_IDS, authenticate=False
            )
            agent.transport.sendto(answer, addr)

        agent.datagram_received = received  # type: ignore[method-assign]
        return await _poll(agent)

    with pytest.raises(SnmpError) as caught:
        asyncio.run(run())
    assert str(caught.value) == (
        "auth: SNMPv3: the agent's snmpEngineBoots is at its maximum (2147483647);"
        " it must be re-keyed before it can be polled"
    )
    assert agent.requests == []


def test_no_resync_to_boots_at_their_maximum() -> None:
    report: list[Script] = [
        lambda r: secured(r, b"", boots=MAX_BOOTS, engine_time=3, report=NOT_IN_TIME_WINDOWS)
    ]
    agent = ScriptedAgent([report, list(report)])
    with pytest.raises(SnmpError) as caught:
        poll(agent)
    assert "snmpEngineBoots is at its maximum (2147483647)" in str(caught.value)
    assert len(agent.requests) == 1


@pytest.mark.parametrize(
    ("boots", "engine_time"),
    [pytest.param(4, 5000, id="earlier-boots"), pytest.param(5, 1000 - 151, id="time-back")],
)
def test_an_authenticated_report_does_not_move_the_clock_back(boots: int, engine_time: int) -> None:
    def old_clock(request: Request) -> bytes:
        return secured(
            request, b"", boots=boots, engine_time=engine_time, report=NOT_IN_TIME_WINDOWS
        )

    agent = ScriptedAgent([[old_clock, _genuine]])
    assert poll(agent) == GOOD
    assert [r.message.boots for r in agent.requests] == [5, 5]
