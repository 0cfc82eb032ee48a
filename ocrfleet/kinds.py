"""The contract between the core and a device kind.

The core never knows what a printer or a PC is. A kind, provided by a plugin,
turns raw input into typed readings and says which metrics those readings
produce; the core stores, times out and renders them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ocrfleet.sessions import SessionEvent

if TYPE_CHECKING:
    from ocrfleet.devices import DeviceInfo
    from ocrfleet.snmp.client import SnmpClient
    from ocrfleet.state import DeviceView


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayloadError(Exception):
    """An MQTT payload that a kind cannot accept.

    `reason` is a short, fixed word used as a metric label value, so it must
    come from a small set: "unparsable", "invalid" or "unsupported_version".
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric family a kind contributes.

    Every sample also carries the labels site, device and kind; `labels` names
    the extra ones, in the order `Sample.labels` gives their values.
    """

    name: str
    help: str
    type: Literal["gauge", "counter"] = "gauge"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    value: float
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KindExtension:
    """Something a plugin adds to a kind it does not own, e.g. a hotspot vendor.

    `implementation` is whatever the extended kind documents it expects.
    """

    kind: str
    name: str
    implementation: object


@dataclass(frozen=True, slots=True)
class MqttChannel:
    """A topic suffix a kind listens on, and the QoS its messages need."""

    name: str
    qos: Literal[0, 1] = 0


MqttMessageResult = object | SessionEvent
"""A kind's parse result: a reading (any immutable object), or a session event."""


@dataclass(frozen=True, slots=True)
class SimulationContext:
    """What a demo simulator needs to act like real hardware.

    `now` is the demo's clock (faster than real time with a speed-up);
    `site_open(t)` tells whether the device's site is open at time t.
    """

    mqtt_host: str
    mqtt_port: int
    topic_root: str
    speedup: float
    random_seed: int
    now: Callable[[], float]
    site_open: Callable[[float], bool]
    # For SNMP kinds: the demo's snmpsim agent and this device's community,
    # whose recording the kind's demo_recording() provided.
    snmp_port: int | None = None
    snmp_community: str | None = None
    # 1, 2, 3, ... unique per demo device: SNMP kinds use it for table row
    # indexes, which snmpsim's writecache shares across all its agents.
    device_number: int = 1
    # Where simulators may keep files (e.g. scalars snmpsim reads per request).
    work_dir: Path | None = None


Simulator = Callable[[], Awaitable[None]]


class DeviceKind(ABC):
    """A kind of device (pc, printer, hotspot, …) provided by a plugin."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]] = NoOptions
    # A seat is a device a visitor sits at (a public PC or laptop): it has
    # sessions, counts towards a site's usable seats and its occupancy.
    is_seat: ClassVar[bool] = False
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = ()
    metric_specs: ClassVar[Sequence[MetricSpec]] = ()

    def heartbeat_timeout(self, options: Any) -> float | None:
        """Seconds without any message after which the device counts as down.

        None means the kind has no heartbeat (e.g. it is polled instead).
        """
        return None

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        """Turn one MQTT message into a reading or a session event.

        Raise PayloadError for input that is not acceptable.
        """
        raise PayloadError("invalid", f"kind {self.name!r} takes no MQTT channel {channel!r}")

    async def poll(self, device: DeviceInfo, snmp: SnmpClient, previous: object | None) -> object:
        """Poll the device once over SNMP and return its reading.

        Only kinds whose options extend SnmpDeviceOptions are polled.
        `previous` is the last reading (None after start-up), for values that
        depend on history, such as restarts. Raise SnmpError when the device
        does not answer.
        """
        raise NotImplementedError(f"kind {self.name!r} is not polled")

    def expected_off(self, device: DeviceView, now: float) -> str | None:
        """Why the device is expected not to answer now, or None if it should.

        Asked only for a device that is not up while its site is open (a
        closed site already explains silence). A printer in its sleep hours
        answers "sleep_hours": its state is then `scheduled_off` with that
        reason, so no down alert fires. The reason is a metric label value:
        a fixed lower-case word.
        """
        return None

    def extend(self, extension: KindExtension) -> None:
        """Accept an extension another plugin contributes to this kind (e.g. a vendor)."""
        raise TypeError(f"kind {self.name!r} takes no extensions")

    def describe(self, reading: object) -> str:
        """A reading as text for `ocrfleet probe`; the default is its repr."""
        return repr(reading)

    @abstractmethod
    def samples(self, device: DeviceView) -> Iterable[Sample]:
        """Samples for the kind's metric_specs, from one device's current state.

        They must depend on `device` alone (not on the time or other state):
        /metrics caches them until one of the device's aspects changes.
        """

    def demo_recording(self, device: DeviceInfo, context: SimulationContext) -> str | None:
        """For SNMP kinds in the demo: the device's agent as .snmprec text.

        Values the simulator changes over time need snmpsim's `writecache`
        variation (`OID|TYPE:writecache|value=...`) so they can be SET.
        """
        return None

    def simulator(self, device: DeviceInfo, context: SimulationContext) -> Simulator | None:
        """A coroutine factory that plays this device in the demo fleet, if the kind has one."""
        return None


KindRegistry = Mapping[str, DeviceKind]
