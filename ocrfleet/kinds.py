"""The contract between the core and a device kind.

The core never knows what a printer or a PC is. A kind, provided by a plugin,
turns raw input into typed readings and says which metrics those readings
produce; the core stores, times out and renders them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ocrfleet.i18n.text import Words
from ocrfleet.kept import KeepsState
from ocrfleet.sessions import SessionEvent

if TYPE_CHECKING:
    from ocrfleet.connectivity import InternetCheck
    from ocrfleet.devices import DeviceInfo
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


class Aggregation(StrEnum):
    # A counter that only grows (pages printed): the report shows what it grew by.
    INCREASE = "increase"
    # A gauge summed over a site's devices (wifi clients): the report shows its peak.
    PEAK = "peak"


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """A daily figure a kind adds to the history, and so a column of the monthly report.

    Kinds that declare the same `name` share one column, so its aggregation
    must agree.
    """

    name: str  # the report's column: stable, lower-case
    title: Words  # the report's heading: a Text of the plugin's catalog, or fixed text
    metric: str  # the sample the default DeviceKind.daily_figures() reads
    aggregation: Aggregation


@dataclass(frozen=True, slots=True)
class DemoDevice:
    """Devices a kind adds to the demo fleet (`ocrfleet run` without a config).

    `site` is one of the demo's site ids (see docs/plugins.md). With `count`
    above 1, `id` is a prefix and the devices are `<id>-01`, `<id>-02`, …;
    the last `reservable` of them need a reservation. `snmp_agent` says the
    demo's SNMP agent plays the device from the kind's demo_recording(): the
    demo adds the options that point the device at that agent.
    """

    site: str
    id: str
    model: str = ""
    purchase_date: str | None = None
    count: int = 1
    reservable: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    snmp_agent: bool = False


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


@dataclass(frozen=True, slots=True)
class MqttTopic:
    """A topic one device listens on outside `<root>/<site>/<device>/<channel>`.

    For devices whose topics another program names, such as zigbee2mqtt's
    `zigbee2mqtt/<friendly_name>`. `channel` is one of the kind's
    mqtt_channels, or "availability" for the core's online/offline handling.
    `watch`, if set, is a topic filter subscribed instead of `topic`
    (e.g. "zigbee2mqtt/+"): its messages that no device claims are rejected
    and counted as unknown_device rather than never delivered.
    """

    channel: str
    topic: str
    watch: str = ""


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


Tone = Literal["ok", "warning", "critical"]
"""How much a part of a status card asks for attention: fine, soon, now."""


def _clamped(ratio: float | None) -> float | None:
    if ratio is None or math.isnan(ratio):
        return None
    return min(1.0, max(0.0, ratio))


@dataclass(frozen=True, slots=True)
class Gauge:
    """A bar on a device's status card: a toner, a paper tray, a waste box.

    `ratio` is how full the bar is drawn, 0-1; None when the device does not
    say how much (a level of "some remaining"): the bar is then drawn
    without a fill and `note` says what is known. A ratio outside 0-1 is
    clamped, so a device that reports 102 % still gets its card.
    """

    label: Words  # "Black toner": a Text of the plugin's catalog, or fixed text
    ratio: float | None = None
    tone: Tone = "ok"
    note: Words = ""  # beside the bar: "8 %", "some left", "empty"
    # Stable, unique on the card, in lower-case ASCII ("toner_black",
    # "tray_1"): integrations name entities by it, whatever the language of
    # the label. "" lets them derive one from the English label. (API 1.3)
    key: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratio", _clamped(self.ratio))


@dataclass(frozen=True, slots=True)
class StatusCard:
    """A device as the front desk sees it on the status pages, in plain words.

    The core adds whether the device answers; a card says what only the
    kind knows: its own problem (`condition`, "" when there is none), its
    supplies as bars, and short facts ("12 wifi users", "In use").
    """

    condition: Words = ""
    tone: Tone = "ok"  # of the condition; "ok" when there is none
    gauges: tuple[Gauge, ...] = ()
    facts: tuple[Words, ...] = ()


class DeviceKind(KeepsState, ABC):
    """A kind of device (pc, printer, hotspot, …) provided by a plugin."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # What people call it, in their language (a Text of the plugin's
    # catalog): the report's headings; "" for the kind's name.
    title: ClassVar[Words] = ""
    options_model: ClassVar[type[BaseModel]] = NoOptions
    # A seat is a device a visitor sits at (a public PC or laptop): it has
    # sessions, counts towards a site's usable seats and its occupancy.
    is_seat: ClassVar[bool] = False
    # The name of the source a polled kind is read through ("snmp", "http",
    # or one a plugin contributes); None for a kind that only listens on MQTT.
    source: ClassVar[str | None] = None
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = ()
    metric_specs: ClassVar[Sequence[MetricSpec]] = ()
    # The daily figures the history keeps for this kind's devices (report columns).
    figure_specs: ClassVar[Sequence[FigureSpec]] = ()
    # False for devices nobody maintains monthly (e.g. a door counter): no
    # monthly maintenance reminder or due metric for them. Renewal reminders
    # still come, from a purchase date.
    monthly_maintenance: ClassVar[bool] = True

    def heartbeat_timeout(self, options: Any) -> float | None:
        """Seconds without any message after which the device counts as down.

        None means the kind has no heartbeat (e.g. it is polled instead).
        """
        return None

    def mqtt_topics(self, options: Any) -> Sequence[MqttTopic]:
        """Exact topics a device listens on besides `<root>/<site>/<device>/<channel>`.

        Asked once per device when the configuration is loaded or reloaded,
        with its validated options; none by default.
        """
        return ()

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        """Turn one MQTT message into a reading or a session event.

        Raise PayloadError for input that is not acceptable.
        """
        raise PayloadError("invalid", f"kind {self.name!r} takes no MQTT channel {channel!r}")

    async def poll(self, device: DeviceInfo, client: Any, previous: object | None) -> object:
        """Read the device once through its source and return its reading.

        Only kinds with a `source` are polled, and only devices whose options
        are instances of that source's `options_model`. `client` is what the
        source gives (ocrfleet/sources.py; e.g. an SnmpClient for "snmp", an
        HttpClient for "http"). `previous` is the last reading (None after
        start-up), for values that depend on history, such as restarts.
        Raise PollError (or the source's subclass of it) when the device
        does not answer usefully.
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

    def seat_sessions(
        self, device: DeviceInfo, reading: object, seats: frozenset[str]
    ) -> Mapping[str, SessionEvent | None]:
        """Who sits where, for a polled kind that knows it (a reservation system). (API 1.3)

        Called after every answered poll with its reading and the ids of the
        seat devices of the polled device's site. Returns, per seat id, the
        session open on it now as its START event (the same session id on
        every poll while it lasts), or None for a free seat. The core starts
        the sessions it does not have yet and ends, at the poll's time, the
        ones no longer reported; seats left out are not touched, and ids that
        are not in `seats` are ignored. Session ids start with the kind's
        name and a dash ("libki-…"): a seat whose session came from anywhere
        else (its PC agent) is left alone, and a session the core closed
        itself (`sessions.max_duration`) is not opened again.
        """
        return {}

    def internet_check(self, device: DeviceView) -> InternetCheck | None:
        """The device's last check of the internet, from its reading, or None. (API 1.4)

        A kind whose devices check the way out (a PC agent that fetches a
        page) or know their uplink (a hotspot's WAN port) returns it; the
        core derives each site's internet state from the checks of its
        devices that are up (ocrfleet/internet/site.py). Asked on every
        evaluation and scrape: cheap, and never raising for a reading it
        does not know. None by default.
        """
        return None

    def extend(self, extension: KindExtension) -> None:
        """Accept an extension another plugin contributes to this kind (e.g. a vendor)."""
        raise TypeError(f"kind {self.name!r} takes no extensions")

    def describe(self, reading: object) -> str:
        """A reading as text for `ocrfleet probe`; the default is its repr."""
        return repr(reading)

    def status_card(self, device: DeviceView) -> StatusCard:
        """The device for people, on the status pages: its condition, bars and facts.

        Called for every page view, on the web server's thread, with the
        device's last reading (of any age: a card of a device that does not
        answer shows what it last said). It must not raise for a reading it
        does not know (another version's, or None before the first); the
        default is an empty card.
        """
        return StatusCard()

    @abstractmethod
    def samples(self, device: DeviceView) -> Iterable[Sample]:
        """Samples for the kind's metric_specs, from one device's current state.

        They must depend on `device` alone (not on the time or other state):
        /metrics caches them until one of the device's aspects changes.
        """

    def daily_figures(self, device: DeviceView) -> Mapping[str, float]:
        """The device's figure_specs values now, by figure name; absent ones left out.

        The default reads each figure's metric from samples(); a figure with
        several label sets (e.g. per radio) is their sum. A counter figure
        (Aggregation.INCREASE) must only grow, except at a device reset.
        """
        by_metric = {figure.metric: figure.name for figure in self.figure_specs}
        values: dict[str, float] = {}
        if not by_metric:
            return values
        for sample in self.samples(device):
            name = by_metric.get(sample.name)
            if name is not None:
                values[name] = values.get(name, 0.0) + sample.value
        return values

    def demo_devices(self) -> Sequence[DemoDevice]:
        """The devices of this kind in the demo fleet; none by default."""
        return ()

    def demo_rule_settings(self) -> Mapping[str, Mapping[str, Any]]:
        """Settings of this kind's alert rules in the demo, as `[alerting.rules.<name>]`.

        E.g. shorter tolerances, so someone trying the demo sees an alert
        fire and resolve within minutes.
        """
        return {}

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
