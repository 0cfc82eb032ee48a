"""SNMP as a source: polled kinds whose options extend SnmpDeviceOptions get an SnmpClient."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from ocrfleet.devices import DeviceInfo
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV3
from ocrfleet.sources import Source, SourceType

if TYPE_CHECKING:
    # pysnmp costs ~40 MiB: only fleets with SNMP devices load the service.
    from ocrfleet.snmp.client import SnmpClient
    from ocrfleet.snmp.service import SnmpService


class SnmpSource(Source):
    def __init__(self, max_concurrent_polls: int) -> None:
        self._max_concurrent_polls = max_concurrent_polls
        self._service: SnmpService | None = None

    def service(self) -> SnmpService:
        """The one SNMP service, built on first use."""
        if self._service is None:
            from ocrfleet.snmp.service import SnmpService

            self._service = SnmpService()
        return self._service

    def slots(self) -> int:
        return self._max_concurrent_polls

    async def prepare(self, devices: Sequence[DeviceInfo]) -> None:
        # Loading pysnmp and building its MIB view costs 0.5-3 s of CPU: done
        # inside the first v3 poll, it would stall every other poll.
        if any(isinstance(d.options, SnmpDeviceOptions) and _v3(d.options) for d in devices):
            await asyncio.to_thread(self.service().warm_up_v3)

    async def client(self, device: DeviceInfo) -> SnmpClient:
        options = device.options
        if not isinstance(options, SnmpDeviceOptions):
            raise TypeError(f"{device.key}: options are not SNMP device options")
        return await self.service().client(options)

    async def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None


class SnmpSourceType(SourceType):
    name: ClassVar[str] = "snmp"
    description: ClassVar[str] = "SNMP v1/v2c (own codec) and v3 (pysnmp) agents"
    options_model: ClassVar[type[SnmpDeviceOptions]] = SnmpDeviceOptions

    def open(self, max_concurrent_polls: int) -> SnmpSource:
        return SnmpSource(max_concurrent_polls)


def _v3(options: SnmpDeviceOptions) -> bool:
    return isinstance(options.snmp, SnmpV3)
