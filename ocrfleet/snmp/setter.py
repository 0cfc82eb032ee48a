"""SNMP SET for simulated agents: values changed on snmpsim `writecache` entries.

Demo simulators and the kinds' demo helpers (ocrfleet/snmp/snmprec.py) use it
to make a recorded device live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Value:
    """A typed SNMP value to SET: kind is int, gauge, counter, ticks or octets."""

    kind: str
    value: int | bytes

    def encode(self) -> object:
        from pysnmp.hlapi.v3arch.asyncio import Counter32, Gauge32, Integer, OctetString, TimeTicks

        if self.kind == "octets":
            return OctetString(self.value)
        number = int(self.value)
        return {"int": Integer, "gauge": Gauge32, "counter": Counter32, "ticks": TimeTicks}[
            self.kind
        ](number)


class SnmpWriter:
    """SETs values on one demo device's writecache entries."""

    def __init__(self, port: int, community: str) -> None:
        # pysnmp is imported here, not at the top: only a demo with SNMP
        # devices needs it.
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, SnmpEngine

        self._port = port
        self._auth = CommunityData(community, mpModel=1)
        self._engine = SnmpEngine()
        self._target: Any = None

    @classmethod
    async def open(cls, port: int, community: str) -> SnmpWriter:
        """A writer whose pysnmp engine is ready, built off the event loop.

        pysnmp builds a MIB view and compiler per engine on the first request
        (most of a second); on the event loop that would stall the daemon.
        """
        return await asyncio.to_thread(cls._prepared, port, community)

    @classmethod
    def _prepared(cls, port: int, community: str) -> SnmpWriter:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType
        from pysnmp.hlapi.varbinds import CommandGeneratorVarBinds

        writer = cls(port, community)
        probe = ObjectType(ObjectIdentity("1.3.6.1.2.1.1.3.0"))
        CommandGeneratorVarBinds().make_varbinds(writer._engine.cache, (probe,))
        return writer

    async def _transport(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        if self._target is None:
            self._target = await UdpTransportTarget.create(
                ("127.0.0.1", self._port), timeout=1, retries=2
            )
        return self._target

    async def set(self, values: Mapping[str, Value]) -> bool:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, set_cmd

        indication, status, _, _ = await set_cmd(
            self._engine,
            self._auth,
            await self._transport(),
            ContextData(),
            *(ObjectType(ObjectIdentity(oid), v.encode()) for oid, v in values.items()),
            lookupMib=False,
        )
        if indication or status:
            log.warning("demo SNMP SET failed: %s", indication or status.prettyPrint())
            return False
        return True

    async def answers(self) -> bool:
        from pysnmp.hlapi.v3arch.asyncio import (
            ContextData,
            ObjectIdentity,
            ObjectType,
            UdpTransportTarget,
            get_cmd,
        )

        target = await UdpTransportTarget.create(("127.0.0.1", self._port), timeout=0.2, retries=0)
        indication, _, _, _ = await get_cmd(
            self._engine,
            self._auth,
            target,
            ContextData(),
            ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")),
            lookupMib=False,
        )
        return not indication

    def close(self) -> None:
        self._engine.close_dispatcher()
