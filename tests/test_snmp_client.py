"""The SNMP client against a real snmpsim agent: walks, repeated walks, versions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.snmp.service import SnmpService
from ocrfleet.snmp.values import SnmpValue
from tests.support.snmpsim import SnmpSimulator

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
LEVELS = "1.3.6.1.2.1.43.11.1.1.9"  # prtMarkerSuppliesLevel


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    simulator = SnmpSimulator(FIXTURES, tmp_path_factory.mktemp("snmpsim"))
    with simulator:
        yield simulator


@pytest.mark.parametrize("version", ["1", "2c"])
def test_a_second_walk_is_sized_to_what_the_first_found(agent: SnmpSimulator, version: str) -> None:
    async def walks() -> tuple[dict[str, SnmpValue], dict[str, SnmpValue], list[int]]:
        service = SnmpService()
        options = SnmpDeviceOptions.model_validate(
            {
                "host": "127.0.0.1",
                "port": agent.port,
                "snmp": {"version": version, "community": "mono_laser"},
            }
        )
        client = await service.client(options)
        asked_before = client._repetitions(LEVELS, 0)
        first = await client.walk(LEVELS)
        second = await client.walk(LEVELS)
        asked = [asked_before, client._repetitions(LEVELS, 0), client._repetitions(LEVELS, 99)]
        service.close()
        return first, second, asked

    first, second, asked = asyncio.run(walks())
    assert first and all(oid.startswith(LEVELS + ".") for oid in first)
    assert second == first
    # Unknown table: the configured 25; known: one more than it had, so one
    # answer ends the walk; grown past that: 25 again.
    assert asked == [25, len(first) + 1, 25]
