"""The contract between the core and a source: how a polled device's raw input is fetched.

A kind says what its readings mean; a source says how to get the raw input
for them: an SNMP agent, an HTTP endpoint, later Modbus/TCP. The core's
poller asks the device's source for a client, hands it to the kind's
`poll()`, and records the reading or the failure. MQTT, which is pushed
rather than polled, is not a source: kinds declare their topics instead
(`DeviceKind.mqtt_channels`).

A source is contributed by a plugin through the `ocrfleet_source_types` hook,
as a kind is; the bundled `snmp` and `http` sources come in the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from ocrfleet.devices import DeviceInfo


class PollError(Exception):
    """A poll that got no usable answer.

    `reason` is a fixed word used as a metric label value ("timeout", "auth",
    "refused", "unreachable", "protocol", "error", ...); `detail` is for the
    log and for `ocrfleet probe`.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class PolledOptions(BaseModel):
    """What every polled device's options have, whatever its source.

    A source's options model extends this one, and a polled kind's options
    model extends its source's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_interval: float = Field(default=60.0, ge=5, description="seconds between polls")
    timeout: float = Field(default=2.0, gt=0, le=60, description="seconds per request try")


class Source(ABC):
    """One running source in the daemon: clients for its devices, and a bound on polls at once."""

    @abstractmethod
    async def client(self, device: DeviceInfo) -> object:
        """The object the device's kind gets in `poll()`; the source documents its type.

        Called before every poll: a source caches what is costly to build,
        and builds it again when the device's options changed (after a reload).
        """

    @abstractmethod
    def slots(self) -> int:
        """How many of this source's devices may be polled at once."""

    async def prepare(self, devices: Sequence[DeviceInfo]) -> None:
        """Costly set-up before the first polls of these devices (e.g. loading a library).

        Runs on the event loop: block only in `asyncio.to_thread`.
        """
        return None

    async def close(self) -> None:
        """Release sockets and clients; the daemon is stopping."""
        return None


class SourceType(ABC):
    """A kind of source (snmp, http, ...) provided by a plugin."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # The base of the options of every kind polled through this source; it
    # extends PolledOptions. The poller hands over only devices whose options
    # are instances of it.
    options_model: ClassVar[type[PolledOptions]]

    @abstractmethod
    def open(self, max_concurrent_polls: int) -> Source:
        """The running source; cheap: nothing is opened until the first client."""

    def address_options(self, address: str) -> dict[str, Any]:
        """The device options an address given to `ocrfleet probe` stands for."""
        raise ValueError(f"source {self.name!r} takes no address on the command line")

    def collectors(self) -> Sequence[Collector]:
        """The source's own metrics, registered once by the daemon; none by default."""
        return ()
