"""The v1/v2c client against agents that misbehave on cue.

snmpsim answers correctly; these agents, on 127.0.0.1 UDP sockets of the
test's own, answer late, twice, from the wrong port, with the wrong
request-id or community, with garbage, or with the errors real agents send.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from pysnmp.proto.api import v2c

from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.diagnosis_metrics import AnswerStats, DropReason
from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.snmp.service import SnmpService
from ocrfleet.snmp.udp import UdpRequester
from ocrfleet.snmp.values import SnmpError, SnmpValue
from tests.support.snmp_wire import request, response

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
LEVELS = "1.3.6.1.2.1.43.11.1.1.9"

# What the scripted agent does with one request: given its (request-id, PDU
# tag, OIDs, repetitions) and how many requests came before, the datagrams
# to send back (each with the socket to send it from: "same" or "other").
Script = Callable[[int, int, list[str], int, int], list[tuple[str, bytes]]]


@dataclass
class ScriptedAgent(asyncio.DatagramProtocol):
    script: Script
    received: list[tuple[int, int, list[str], int]] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    other: socket.socket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's UDP transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        asked = request(data)
        count = len(self.received)
        self.received.append(asked)
        for source, answer in self.script(*asked, count):
            if source == "other":
                assert self.other is not None
                self.other.sendto(answer, addr)
            else:
                assert self.transport is not None
                self.transport.sendto(answer, addr)


async def _with_agent(
    script: Script,
    use: Callable[[SnmpClient, ScriptedAgent], Awaitable[object]],
    *,
    version: str = "2c",
    community: str = "public",
    timeout: float = 0.5,
    retries: int = 0,
    stats: AnswerStats | None = None,
) -> object:
    loop = asyncio.get_running_loop()
    agent = ScriptedAgent(script)
    transport, _ = await loop.create_datagram_endpoint(lambda: agent, local_addr=("127.0.0.1", 0))
    agent.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.other.bind(("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    service = SnmpService(stats)
    try:
        options = SnmpDeviceOptions.model_validate(
            {
                "host": "127.0.0.1",
                "port": port,
                "timeout": timeout,
                "retries": retries,
                "snmp": {"version": version, "community": community},
            }
        )
        client = await service.client(options)
        return await use(client, agent)
    finally:
        service.close()
        transport.close()
        agent.other.close()


def _run(
    script: Script, use: Callable[[SnmpClient, ScriptedAgent], Awaitable[object]], **kw: Any
) -> object:
    return asyncio.run(_with_agent(script, use, **kw))


def _get(oids: list[str]) -> Callable[[SnmpClient, ScriptedAgent], Awaitable[object]]:
    async def use(client: SnmpClient, agent: ScriptedAgent) -> dict[str, SnmpValue]:
        return await client.get(oids)

    return use


def _answer(request_id: int, oids: list[str], community: bytes = b"public") -> bytes:
    return response(community, request_id, [(oid, v2c.OctetString(oid.encode())) for oid in oids])


def test_an_answer_to_the_second_try_counts() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        return [] if count == 0 else [("same", _answer(rid, oids))]

    values = _run(script, _get([SYS_DESCR]), retries=1, timeout=0.3)
    assert values == {SYS_DESCR: SYS_DESCR.encode()}


def test_a_late_answer_to_the_first_try_counts_once() -> None:
    requests: list[int] = []

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        requests.append(rid)
        # Silent at first; the retry gets two answers (as if the first try's
        # answer was late), both for the same request-id.
        return [] if count == 0 else [("same", _answer(rid, oids)), ("same", _answer(rid, oids))]

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        return [await client.get([SYS_DESCR]), await client.get([SYS_UPTIME])]

    answers = _run(script, use, retries=1, timeout=0.3)
    assert isinstance(answers, list)
    first, second = answers
    assert first == {SYS_DESCR: SYS_DESCR.encode()}
    # The duplicate of the first answer did not answer the second request.
    assert second == {SYS_UPTIME: SYS_UPTIME.encode()}
    assert requests[0] == requests[1]  # a retry keeps its request-id


@pytest.mark.parametrize(
    ("wrong", "counted"),
    [
        ("request-id", DropReason.UNKNOWN_REQUEST),
        ("community", DropReason.WRONG_COMMUNITY),
        ("sender", DropReason.WRONG_SENDER),
        ("version", None),
    ],
)
def test_answers_that_do_not_match_the_request_are_not_taken(
    wrong: str, counted: DropReason | None
) -> None:
    stats = AnswerStats()

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        if wrong == "request-id":
            return [("same", _answer(rid + 1, oids))]
        if wrong == "community":
            return [("same", _answer(rid, oids, b"private"))]
        if wrong == "version":
            return [("same", response(b"public", rid, [(oids[0], v2c.Integer(1))], version=0))]
        return [("other", _answer(rid, oids))]

    with pytest.raises(SnmpError) as caught:
        _run(script, _get([SYS_DESCR]), timeout=0.3, stats=stats)
    assert caught.value.reason == ("protocol" if wrong == "version" else "timeout")
    expected = dict.fromkeys(DropReason, 0)
    if counted is not None:
        expected[counted] = 1
    assert stats.dropped == expected


def test_a_late_answer_is_counted_as_late() -> None:
    stats = AnswerStats()

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        # The first request is answered twice: the second copy comes after
        # the request was done with.
        return [("same", _answer(rid, oids))] * (2 if count == 0 else 1)

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        first = await client.get([SYS_DESCR])
        # The second request's answer comes after the first's copy: by then
        # the copy has been read.
        await client.get([SYS_UPTIME])
        return first

    assert _run(script, use, stats=stats) == {SYS_DESCR: SYS_DESCR.encode()}
    assert stats.dropped[DropReason.LATE] == 1
    assert sum(stats.dropped.values()) == 1


def test_only_recent_request_ids_of_ours_count_as_late() -> None:
    requester = UdpRequester()
    issued = [requester.request_id() for _ in range(3)]
    assert all(requester._recently_issued(rid) for rid in issued)
    assert not requester._recently_issued(issued[-1] + 1)
    assert not requester._recently_issued(issued[0] - 1)
    assert not requester._recently_issued(0)
    assert not requester._recently_issued(-5)


def _cut(whole: bytes) -> bytes:
    """A real answer cut short, as by an agent whose buffer is too small."""
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("spoil", "reason", "found"),
    [
        (_cut, "truncated", "runs past the end of the"),
        (lambda whole: b"HTTP/1.1 400 Bad Request\r\n\r\n", "malformed", "not an SNMP message"),
    ],
)
def test_an_agent_that_answers_only_undecodable_datagrams_fails_with_their_reason(
    spoil: Callable[[bytes], bytes], reason: str, found: str
) -> None:
    stats = AnswerStats()

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        return [("same", spoil(_answer(rid, oids)))]

    # Tries of 2 s: each gets its answer long before it runs out, even on a
    # busy machine.
    with pytest.raises(SnmpError) as caught:
        _run(script, _get([SYS_DESCR]), timeout=2, retries=1, stats=stats)
    error = caught.value
    assert error.reason == reason
    assert error.detail.startswith(f"no valid answer in 2 tries of 2 s; 2 {reason} answers from")
    assert found in error.detail
    assert stats.dropped == {**dict.fromkeys(DropReason, 0), DropReason(reason): 2}


def test_a_truncated_answer_says_where_its_length_runs_out() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        return [("same", _answer(rid, oids)[:30])]

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        with pytest.raises(SnmpError) as caught:
            await client.get([SYS_DESCR])
        assert agent.transport is not None
        port = agent.transport.get_extra_info("sockname")[1]
        return caught.value.detail, _answer(agent.received[0][0], [SYS_DESCR]), port

    detail, whole, port = cast(tuple[str, bytes, int], _run(script, use, timeout=2))
    assert whole[1] < 0x80  # short-form outer length: the contents start at byte 2
    assert detail == (
        f"no valid answer in 1 try of 2 s; 1 truncated answer from 127.0.0.1:{port}"
        f" (BER length {whole[1]} of tag 0x30 at byte 2 runs past the end of the 30-byte"
        " datagram)"
    )


def test_a_silent_agent_is_a_timeout() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        return []

    with pytest.raises(SnmpError) as caught:
        _run(script, _get([SYS_DESCR]), timeout=0.3)
    assert caught.value.reason == "timeout"
    assert caught.value.detail == "no response in 1 try of 0.3 s"


@pytest.mark.parametrize("source", ["other", "same"])
def test_garbage_does_not_fail_a_request_that_then_gets_its_answer(source: str) -> None:
    stats = AnswerStats()

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        # Garbage first (from another port: a spoof; or from the agent's own
        # port), then the real answer.
        return [(source, b"\x30\x82\x03\x2c\x02\x01"), ("same", _answer(rid, oids))]

    # A long timeout: the request must end by its answer, never by the garbage.
    assert _run(script, _get([SYS_DESCR]), timeout=30, stats=stats) == {
        SYS_DESCR: SYS_DESCR.encode()
    }
    assert stats.dropped == {**dict.fromkeys(DropReason, 0), DropReason.TRUNCATED: 1}


def test_a_malformed_answer_naming_our_request_fails_it_at_once() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        whole = _answer(rid, oids)
        # Make the PDU a GetRequest (0xa0): it names our request-id but is no answer.
        at = whole.index(b"\xa2")
        return [("same", whole[:at] + b"\xa0" + whole[at + 1 :])]

    with pytest.raises(SnmpError) as caught:
        _run(script, _get([SYS_DESCR]), timeout=30)
    assert caught.value.reason == "malformed"
    assert "is not a Response" in caught.value.detail


def test_a_garbled_answer_naming_our_request_fails_it_at_once() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        whole = response(b"public", rid, [(oids[0], v2c.Integer(7))])
        assert whole.endswith(b"\x02\x01\x07")
        # Noise first (dropped: no request-id), then the answer with its
        # value's length running past the end of the message.
        return [("same", b"\x30\x03\x02\x01"), ("same", whole[:-2] + b"\x05\x07")]

    with pytest.raises(SnmpError) as caught:
        # A long timeout: only the garbled answer can end this request.
        _run(script, _get([SYS_DESCR]), timeout=30)
    # The value's length runs past the end of the datagram.
    assert caught.value.reason == "truncated"
    assert caught.value.detail.startswith("truncated answer from 127.0.0.1:")
    assert "BER length 5 of tag 0x02" in caught.value.detail


def test_too_big_splits_a_get_and_shrinks_a_bulk_walk() -> None:
    table = [f"{LEVELS}.1.{i}" for i in range(1, 9)]

    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        if tag == 0 and len(oids) > 1:
            return [("same", response(b"public", rid, [], status=1))]
        if tag == 0:
            return [("same", _answer(rid, oids))]
        if reps > 2:
            return [("same", response(b"public", rid, [], status=1))]
        after = [oid for oid in table if _key(oid) > _key(oids[0])][:reps]
        binds: list[tuple[str, Any]] = [
            (oid, v2c.Integer(int(oid.rsplit(".", 1)[1]))) for oid in after
        ]
        if len(after) < reps:
            binds.append(("1.3.6.1.2.1.43.11.1.1.10.1.1", v2c.Integer(0)))
        return [("same", response(b"public", rid, binds))]

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        got = await client.get([SYS_DESCR, SYS_UPTIME, "1.3.6.1.2.1.1.5.0"])
        return [got, await client.walk(LEVELS)]

    answers = _run(script, use)
    assert isinstance(answers, list)
    got, walked = answers
    assert got == {oid: oid.encode() for oid in [SYS_DESCR, SYS_UPTIME, "1.3.6.1.2.1.1.5.0"]}
    assert walked == {oid: int(oid.rsplit(".", 1)[1]) for oid in table}


def test_v1_no_such_name_asks_again_one_by_one() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        if SYS_UPTIME in oids:
            return [("same", response(b"public", rid, [], status=2, index=1, version=0))]
        return [("same", response(b"public", rid, [(o, v2c.Integer(7)) for o in oids], version=0))]

    got = _run(script, _get([SYS_DESCR, SYS_UPTIME]), version="1")
    assert got == {SYS_DESCR: 7, SYS_UPTIME: None}


def test_walks_end_at_end_of_mib_and_at_an_agent_going_round_in_circles() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        if count == 0:
            binds = [(f"{LEVELS}.1.1", v2c.Integer(1)), (f"{LEVELS}.1.2", v2c.EndOfMibView(""))]
        else:
            binds = [(f"{LEVELS}.1.1", v2c.Integer(1)), (f"{LEVELS}.1.1", v2c.Integer(1))]
        return [("same", response(b"public", rid, binds))]

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        return await client.walk(LEVELS), await client.walk(LEVELS)

    assert _run(script, use) == ({f"{LEVELS}.1.1": 1}, {f"{LEVELS}.1.1": 1})


def test_a_cancelled_request_leaves_nothing_behind() -> None:
    def script(
        rid: int, tag: int, oids: list[str], reps: int, count: int
    ) -> list[tuple[str, bytes]]:
        return []

    async def use(client: SnmpClient, agent: ScriptedAgent) -> object:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.get([SYS_DESCR]), 0.2)
        requester = client._requester  # type: ignore[attr-defined]
        return len(requester._pending)

    assert _run(script, use, timeout=30) == 0


def test_host_names_resolve_and_unknown_ones_are_unreachable() -> None:
    async def resolve(host: str) -> object:
        service = SnmpService()
        try:
            options = SnmpDeviceOptions.model_validate({"host": host})
            return await service.client(options)
        finally:
            service.close()

    assert isinstance(asyncio.run(resolve("localhost")), SnmpClient)
    with pytest.raises(SnmpError) as caught:
        asyncio.run(resolve("no-such-host.invalid"))
    assert caught.value.reason == "unreachable"


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(arc) for arc in oid.split("."))
