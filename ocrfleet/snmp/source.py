"""SNMP as a source: polled kinds whose options extend SnmpDeviceOptions get an SnmpClient."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from prometheus_client.registry import Collector

from ocrfleet.devices import DeviceInfo
from ocrfleet.snmp.diagnosis_metrics import AnswerCollector, AnswerStats
from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.sources import Source, SourceType

if TYPE_CHECKING:
    # Only fleets with SNMP devices load the service (and `cryptography`).
    from ocrfleet.snmp.client import SnmpClient
    from ocrfleet.snmp.service import SnmpService


class SnmpSource(Source):
    def __init__(self, max_concurrent_polls: int, answers: AnswerStats) -> None:
        self._max_concurrent_polls = max_concurrent_polls
        self._answers = answers
        self._service: SnmpService | None = None

    def service(self) -> SnmpService:
        """The one SNMP service, built on first use."""
        if self._service is None:
            from ocrfleet.snmp.service import SnmpService

            self._service = SnmpService(self._answers)
        return self._service

    def slots(self) -> int:
        return self._max_concurrent_polls

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
    description: ClassVar[str] = "SNMP v1, v2c and v3 (USM) agents"
    options_model: ClassVar[type[SnmpDeviceOptions]] = SnmpDeviceOptions

    def __init__(self) -> None:
        # Kept here rather than in the source: counters outlive a source
        # that is closed and opened again.
        self.answers = AnswerStats()

    def open(self, max_concurrent_polls: int) -> SnmpSource:
        return SnmpSource(max_concurrent_polls, self.answers)

    def collectors(self) -> Sequence[Collector]:
        # SNMP answers dropped by reason (docs/snmp.md, "Dropped answers").
        return [AnswerCollector(lambda: self.answers)]
