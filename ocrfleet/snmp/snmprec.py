"""Building and animating demo SNMP agents: .snmprec text, SETs, scalar files.

snmpsim's writecache keeps values by OID alone, across all communities: two
demo devices must never share a table row index (SimulationContext gives
each a device_number), and scalars every device has (sysUpTime) are served
from a file per device that the simulator rewrites (snmpsim's `subprocess`
variation runs `cat FILE`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ocrfleet.devices import DeviceInfo
from ocrfleet.kinds import SimulationContext
from ocrfleet.snmp.setter import SnmpWriter, Value
from ocrfleet.snmp.values import SnmpValue

Cell = tuple[str, int | bytes]  # (snmprec type tag, value)
VALUE_KINDS = {"2": "int", "4": "octets", "65": "counter", "66": "gauge", "67": "ticks"}


def scalar_path(work_dir: Path, device: DeviceInfo, name: str) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    return work_dir / f"{device.site}--{device.id}.{name}"


def write_scalar(path: Path, value: int) -> None:
    # Replaced in one step: snmpsim may read it at any moment.
    fresh = path.with_name(path.name + ".new")
    fresh.write_text(f"{value}\n")
    os.replace(fresh, path)


def as_read(tag: str, value: int | str | bytes) -> SnmpValue:
    """A recorded value as the daemon's SNMP client returns it (see SnmpValue)."""
    if tag == "4" and isinstance(value, str):
        return value.encode()
    return value


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


def snmprec(
    static: Mapping[str, tuple[str, int | str | bytes]],
    dynamic: Mapping[str, Cell],
    files: Mapping[str, tuple[str, Path]],
) -> str:
    """.snmprec text in OID order: fixed values, writecache values and file-backed scalars."""
    lines: dict[str, str] = {}
    for oid, (tag, value) in static.items():
        if isinstance(value, bytes):
            lines[oid] = f"{oid}|{tag}x|{value.hex()}"
        else:
            lines[oid] = f"{oid}|{tag}|{value}"
    for oid, (tag, cell) in dynamic.items():
        if isinstance(cell, bytes):
            # As hex: writecache splits its settings on "," and "=".
            initial = f"hexvalue={cell.hex()}" if cell else "value="
        else:
            initial = f"value={cell}"
        lines[oid] = f"{oid}|{tag}:writecache|{initial}"
    for oid, (tag, path) in files.items():
        lines[oid] = f"{oid}|{tag}:subprocess|cat {path}"
    return "".join(lines[oid] + "\n" for oid in sorted(lines, key=_oid_key))


class DemoAgent:
    """SETs a device's changed values on the demo agent; keeps what the agent holds."""

    def __init__(self, writer: SnmpWriter) -> None:
        self._writer = writer
        self._held: dict[str, Cell] = {}

    @classmethod
    async def open(cls, port: int, community: str) -> DemoAgent:
        return cls(await SnmpWriter.open(port, community))

    async def update(self, cells: Mapping[str, Cell]) -> None:
        changed = [(oid, cell) for oid, cell in cells.items() if self._held.get(oid) != cell]
        # Small batches keep each SET well inside one UDP datagram.
        for start in range(0, len(changed), 24):
            batch = dict(changed[start : start + 24])
            values = {oid: Value(VALUE_KINDS[tag], value) for oid, (tag, value) in batch.items()}
            if await self._writer.set(values):
                self._held.update(batch)

    def close(self) -> None:
        self._writer.close()


async def animate(
    context: SimulationContext,
    pause: float,
    tick: Callable[[float, float], Mapping[str, Cell]],
) -> None:
    """Play a demo device: `tick(now, elapsed)` moves it on and returns its cells.

    Runs until cancelled; only cells that changed are SET on the agent.
    """
    port, community = context.snmp_port, context.snmp_community
    if port is None or community is None:
        raise ValueError("the demo gives SNMP simulators an agent port and community")
    agent = await DemoAgent.open(port, community)
    try:
        last = context.now()
        while True:
            now = context.now()
            cells = tick(now, max(0.0, now - last))
            last = now
            await agent.update(cells)
            await asyncio.sleep(pause)
    finally:
        agent.close()
