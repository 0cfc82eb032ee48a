"""The trap receiver on a real UDP socket: which device a trap is from, what it counts.

The poll itself is the poller's (tests/test_snmp_traps_daemon.py runs the
whole daemon); here `poll_now` records which devices it was asked for.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pyasn1.codec.ber import decoder
from pysnmp.proto.api import v2c

from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from ocrfleet.config.models import SnmpTrapsConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.snmp.traps import TrapReceiver
from ocrfleet.snmp.traps_metrics import TrapResult
from ocrfleet.snmp.traps_senders import build_sender_table
from tests.support.daemon import catalog, site_config
from tests.test_snmp_traps_codec import PRINTER_ALERT, V3_MESSAGE, v1_trap, v2_notification

LINK_UP = "1.3.6.1.6.3.1.1.5.4"
P1, P2, P3 = DeviceKey("lib", "p1"), DeviceKey("lib", "p2"), DeviceKey("lib", "p3")


def printer(device_id: str, host: str, community: str) -> dict[str, Any]:
    snmp = {"version": "2c", "community": community}
    return {"id": device_id, "kind": "printer", "options": {"host": host, "snmp": snmp}}


def devices(config: dict[str, Any] | None = None) -> Mapping[DeviceKey, DeviceInfo]:
    data = site_config(
        1883,
        # Never opened: load_config only checks the path.
        Path("/nonexistent/store.sqlite"),
        devices=[
            printer("p1", "127.0.0.1", "alpha"),
            printer("p2", "127.0.0.1", "beta"),
            printer("p3", "192.0.2.10", "gamma"),
            {
                "id": "secure",
                "kind": "printer",
                "options": {
                    "host": "192.0.2.20",
                    "snmp": {"version": "3", "user": "ocrfleet"},
                },
            },
        ],
    )
    if config:
        data["snmp"] = {"traps": config}
    c = catalog()
    return {d.key: d for d in load_config(data, c.kinds, c.rules, c.channel_types).devices}


class Polls:
    """poll_now for the receiver: records the devices, says whether each is polled."""

    def __init__(self) -> None:
        self.keys: list[DeviceKey] = []
        self.changed = asyncio.Event()

    def __call__(self, key: DeviceKey) -> bool:
        self.keys.append(key)
        self.changed.set()
        return True


async def until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


def run(test: Callable[[TrapReceiver, Polls], Awaitable[None]], **config: Any) -> None:
    async def main() -> None:
        polls = Polls()
        settings = SnmpTrapsConfig(
            **{
                "enabled": True,
                "listen": "127.0.0.1",
                "port": 0,
                "min_poll_interval": 60,
                "senders": {"198.51.100.5": "lib/p3"},
                **config,
            }
        )
        receiver = TrapReceiver(settings, polls)
        await receiver.start(devices())
        try:
            await asyncio.wait_for(receiver.resolved.wait(), 10)
            await test(receiver, polls)
        finally:
            receiver.close()

    asyncio.run(main())


def test_traps_over_udp_poll_their_device_once_and_every_other_datagram_is_counted() -> None:
    async def test(receiver: TrapReceiver, polls: Polls) -> None:
        results = receiver.stats.results
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind(("127.0.0.1", 0))
            client.setblocking(False)
            sent = 0

            async def send(data: bytes) -> None:
                nonlocal sent
                client.sendto(data, receiver.address)
                sent += 1
                await until(lambda: sum(results.values()) == sent, "the datagram handled")

            # Two printers at one address: the community says which sent it.
            await send(v2_notification(b"beta", 1, PRINTER_ALERT, []))
            assert polls.keys == [P2]
            await send(v2_notification(b"beta", 2, LINK_UP, []))
            await send(v2_notification(b"wrong", 3, PRINTER_ALERT, []))
            await send(b"\x30\x03\x02\x01")
            await send(V3_MESSAGE)
            assert polls.keys == [P2]
            assert results == {
                TrapResult.POLLED: 1,
                TrapResult.RATE_LIMITED: 1,
                TrapResult.BAD_COMMUNITY: 1,
                TrapResult.UNDECODABLE: 1,
                TrapResult.UNSUPPORTED_VERSION: 1,
                TrapResult.UNKNOWN_SOURCE: 0,
            }
            assert receiver.stats.by_device == {(P2, "printerAlert"): 1, (P2, "linkUp"): 1}

            # An inform is answered, so its sender stops resending.
            await send(v2_notification(b"alpha", 4242, LINK_UP, [], inform=True))
            assert polls.keys == [P2, P1]
            async with asyncio.timeout(10):
                answer = await asyncio.get_running_loop().sock_recv(client, 65535)
            message, _ = decoder.decode(answer, asn1Spec=v2c.Message())
            pdu = v2c.apiMessage.get_pdu(message)
            assert pdu.tagSet == v2c.ResponsePDU.tagSet
            assert int(v2c.apiPDU.get_request_id(pdu)) == 4242

    run(test)


def test_the_sender_is_matched_by_address_mapping_and_v1_agent_address() -> None:
    async def test(receiver: TrapReceiver, polls: Polls) -> None:
        alert = v2_notification(b"gamma", 1, PRINTER_ALERT, [])
        # Another address entirely: nothing to check the community against.
        assert receiver.receive(alert, ("203.0.113.1", 162)) == TrapResult.UNKNOWN_SOURCE
        # Seen through a dual-stack socket, an IPv4 sender is still itself.
        assert receiver.receive(alert, ("::ffff:192.0.2.10", 162)) == TrapResult.POLLED
        assert polls.keys == [P3]
        # [snmp.traps] senders: a print server that speaks for p3.
        assert receiver.receive(alert, ("198.51.100.5", 162)) == TrapResult.RATE_LIMITED
        # A v1 trap relayed from elsewhere names its agent in agent-addr.
        relayed = v1_trap(b"alpha", "1.3.6.1.2.1.43.18.2", "127.0.0.1", 6, 1, 5, [])
        assert receiver.receive(relayed, ("203.0.113.1", 162)) == TrapResult.POLLED
        assert polls.keys == [P3, P1]
        # A device polled with SNMPv3 has no community to check a trap by.
        v3_polled = v2_notification(b"public", 1, LINK_UP, [])
        assert receiver.receive(v3_polled, ("192.0.2.20", 162)) == TrapResult.UNKNOWN_SOURCE

    run(test)


def test_traps_in_the_rate_limit_window_bring_one_poll_at_its_end() -> None:
    async def test(receiver: TrapReceiver, polls: Polls) -> None:
        alert = v2_notification(b"alpha", 1, PRINTER_ALERT, [])
        assert receiver.receive(alert, ("127.0.0.1", 1000)) == TrapResult.POLLED
        for _ in range(20):
            assert receiver.receive(alert, ("127.0.0.1", 1000)) == TrapResult.RATE_LIMITED
        assert polls.keys == [P1]
        # The jam a later trap announced is still read, once, without
        # waiting for the device's poll interval.
        await until(lambda: len(polls.keys) == 2, "the deferred poll")
        assert polls.keys == [P1, P1]
        assert receiver.stats.by_device == {(P1, "printerAlert"): 21}

    run(test, min_poll_interval=1)


def test_a_taken_port_is_a_clear_error_at_start() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        settings = SnmpTrapsConfig(enabled=True, listen="127.0.0.1", port=port)
        with pytest.raises(OSError, match=rf"^snmp.traps: cannot listen on udp 127.0.0.1:{port}: "):
            TrapReceiver(settings, Polls())


def test_the_collector_has_every_result_and_device_traps() -> None:
    async def test(receiver: TrapReceiver, polls: Polls) -> None:
        receiver.receive(v2_notification(b"alpha", 1, "1.3.6.1.4.1.9.9.9", []), ("127.0.0.1", 9))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(receiver.collector())
        text = generate_latest(registry).decode()
        for result in TrapResult:
            zero_or_one = 1.0 if result is TrapResult.POLLED else 0.0
            line = f'ocrfleet_snmp_traps_received_total{{result="{result.value}"}} {zero_or_one}'
            assert line in text
        assert 'ocrfleet_snmp_device_traps_total{device="p1",site="lib",trap="other"} 1.0' in text

    run(test)


@pytest.mark.parametrize(
    ("traps", "error"),
    [
        ({"senders": {"printserver": "lib/p1"}}, "snmp.traps.senders: "),
        ({"senders": {"192.0.2.1": "p1"}}, "snmp.traps.senders: "),
        ({"port": 70000}, "snmp.traps.port: "),
        ({"min_poll_interval": 0.5}, "snmp.traps.min_poll_interval: "),
        ({"enable": True}, "snmp.traps.enable: "),
    ],
)
def test_config_errors_name_the_key(traps: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as raised:
        devices(traps)
    assert error in raised.value.render()


def test_the_receiver_is_off_by_default() -> None:
    assert SnmpTrapsConfig().enabled is False
    assert SnmpTrapsConfig().port == 162


def test_a_name_that_cannot_resolve_leaves_the_other_devices_matched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # "a..b" is refused by the IDNA codec with a ValueError, not an OSError.
    data = site_config(
        1883,
        Path("/nonexistent/store.sqlite"),
        devices=[printer("bad", "a..b", "alpha"), printer("p1", "127.0.0.1", "beta")],
    )
    c = catalog()
    loaded = load_config(data, c.kinds, c.rules, c.channel_types).devices
    table = asyncio.run(build_sender_table({d.key: d for d in loaded}, {}))
    assert [candidate.key for candidate in table.candidates(["127.0.0.1"])] == [P1]
    assert "SNMP traps from a..b cannot be matched" in caplog.text


def test_a_device_gone_by_a_reload_leaves_no_trap_series() -> None:
    async def test(receiver: TrapReceiver, polls: Polls) -> None:
        receiver.stats.count_device(P1, "linkUp")
        receiver.stats.count_device(P2, "linkDown")
        kept = {key: info for key, info in devices().items() if key != P1}
        receiver.reload(kept)
        assert set(receiver.stats.by_device) == {(P2, "linkDown")}

    run(test)
