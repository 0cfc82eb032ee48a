"""The pc and laptop device kinds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ocrfleet.plugin import (
    Catalog,
    CheckSource,
    DemoDevice,
    DeviceInfo,
    DeviceKind,
    DeviceView,
    InternetCheck,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    Number,
    PayloadError,
    Sample,
    SessionEvent,
    SessionEventType,
    SimulationContext,
    Simulator,
    StatusCard,
    Text,
    Tone,
    Words,
)
from ocrfleet_agent.payloads import Health, InvalidPayload, SessionMessage
from ocrfleet_pc.validation import compile_validator

_ = Catalog("ocrfleet_pc")

# The demo's public PCs per location; the first ones of a room are
# free-access, as the guide asks for at least one computer usable without a
# reservation.
_DEMO_PCS = tuple(
    DemoDevice(site, "pc", model, bought, count=count, reservable=reservable)
    for site, count, reservable, model, bought in (
        ("vlaminggem-library", 3, 1, "Dell OptiPlex 7010", "2022-03-15"),
        ("vlaminggem-welfare", 2, 1, "HP EliteDesk 800 G6", "2021-05-10"),
        ("zonnedorp-library", 2, 0, "Lenovo ThinkCentre M70q", "2023-01-20"),
        ("boskerke-service-centre", 2, 0, "Dell OptiPlex 3000", "2020-11-02"),
        ("overbrugge-neighbourhood-house", 2, 0, "HP ProDesk 400 G7", "2021-02-01"),
    )
)
# The pool of lesson laptops kept at the main library, lent by reservation.
_DEMO_LAPTOPS = (
    DemoDevice(
        "vlaminggem-library",
        "laptop",
        "Lenovo ThinkPad E14",
        "2023-09-01",
        count=10,
        reservable=10,
    ),
)


class PcOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    heartbeat_timeout: float = Field(
        default=180.0,
        gt=0,
        description="seconds without a message before the PC counts as down "
        "(the agent reports every 60 s by default)",
    )


class PcKind(DeviceKind):
    name: ClassVar[str] = "pc"
    # What the monthly report calls the kind.
    title: ClassVar[Text] = _("PC")
    description: ClassVar[str] = "public desktop PC reporting through the ocrfleet agent (MQTT)"
    is_seat: ClassVar[bool] = True
    options_model: ClassVar[type[BaseModel]] = PcOptions
    mqtt_channels: ClassVar[Sequence[MqttChannel]] = (
        MqttChannel("health", qos=0),
        MqttChannel("session", qos=1),
    )
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec("ocrfleet_pc_cpu_ratio", "CPU busy, 0-1, as last reported."),
        MetricSpec("ocrfleet_pc_memory_used_ratio", "Memory in use, 0-1, as last reported."),
        MetricSpec("ocrfleet_pc_disk_free_bytes", "Free bytes on the system disk."),
        MetricSpec("ocrfleet_pc_uptime_seconds", "Seconds since the PC's operating system booted."),
        MetricSpec(
            "ocrfleet_pc_frozen",
            "1 when restore software (e.g. Deep Freeze) is active, 0 when thawed; "
            "absent when unknown.",
        ),
        MetricSpec(
            "ocrfleet_pc_eid_reader_present",
            "1 when an eID card reader is attached, 0 when none; absent when unknown.",
        ),
        MetricSpec(
            "ocrfleet_pc_agent_info",
            "Operating system and agent version a PC reports; the value is always 1.",
            labels=("os", "agent_version"),
        ),
        MetricSpec(
            "ocrfleet_pc_internet_ok",
            "1 when the agent's last internet check fetched its page, 0 when it failed; "
            "absent when the agent does not check.",
        ),
        MetricSpec(
            "ocrfleet_pc_internet_latency_seconds",
            "Seconds the agent's last internet check took (look-up, connection, TLS, answer); "
            "absent when it failed.",
        ),
        MetricSpec(
            "ocrfleet_pc_internet_checked_timestamp_seconds",
            "Unix time of the agent's last internet check.",
        ),
    )

    def __init__(self) -> None:
        self._parse_health = compile_validator(
            "Health", Health.VERSIONS, Health.SPECS, Health, reference=Health.parse
        )

    def heartbeat_timeout(self, options: Any) -> float | None:
        return float(options.heartbeat_timeout) if options is not None else 180.0

    def parse_mqtt(self, channel: str, payload: bytes) -> MqttMessageResult:
        if channel == "health":
            return self._parse_health(payload)
        try:
            if channel == "session":
                message = SessionMessage.parse(payload)
                return SessionEvent(
                    SessionEventType(message.event),
                    message.session_id,
                    message.started_at,
                    message.ended_at,
                    stream=message.stream,
                    seq=message.seq,
                    oldest=message.oldest,
                )
        except InvalidPayload as exc:
            raise PayloadError(exc.reason, exc.detail) from None
        return super().parse_mqtt(channel, payload)

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        health = device.reading
        if not isinstance(health, Health):
            return
        yield Sample("ocrfleet_pc_cpu_ratio", health.cpu_ratio)
        yield Sample("ocrfleet_pc_memory_used_ratio", health.memory_used_ratio)
        yield Sample("ocrfleet_pc_disk_free_bytes", float(health.disk_free_bytes))
        yield Sample("ocrfleet_pc_uptime_seconds", health.uptime_seconds)
        if health.frozen is not None:
            yield Sample("ocrfleet_pc_frozen", 1.0 if health.frozen else 0.0)
        if health.eid_reader_present is not None:
            yield Sample(
                "ocrfleet_pc_eid_reader_present", 1.0 if health.eid_reader_present else 0.0
            )
        yield Sample("ocrfleet_pc_agent_info", 1.0, (health.os, health.agent_version))
        internet = health.internet
        if internet is not None:
            yield Sample("ocrfleet_pc_internet_ok", 1.0 if internet.ok else 0.0)
            if internet.latency_ms is not None:
                yield Sample("ocrfleet_pc_internet_latency_seconds", internet.latency_ms / 1000)
            yield Sample("ocrfleet_pc_internet_checked_timestamp_seconds", internet.checked_at)

    def internet_check(self, device: DeviceView) -> InternetCheck | None:
        health = device.reading
        if not isinstance(health, Health) or health.internet is None:
            return None
        report = health.internet
        return InternetCheck(
            ok=report.ok,
            checked_at=_daemon_time(report.checked_at, health.ts, device.reading_at),
            latency=report.latency_ms / 1000
            if report.ok and report.latency_ms is not None
            else None,
            error=report.error or "",
            detail=report.detail or "",
            source=CheckSource.PROBE,
        )

    def status_card(self, device: DeviceView) -> StatusCard:
        # Whether it is up is the core's to say; a PC that is not up has no
        # visitor on it and its last health may be hours old.
        if not device.presence.up or device.failure is not None:
            return StatusCard()
        facts: tuple[Words, ...] = (_("In use"),) if device.usage.in_use else (_("Free"),)
        health = device.reading
        problems: list[tuple[Words, Tone]] = []
        if isinstance(health, Health):
            if health.eid_reader_present is False:
                problems.append((_("No eID card reader connected — plug it in"), "warning"))
            if health.frozen is False:
                problems.append((_("Restore software is off — call IT"), "warning"))
            if health.internet is not None:
                facts = (*facts, _internet_fact(health))
        if not problems:
            return StatusCard(facts=facts)
        (condition, tone), rest = problems[0], problems[1:]
        return StatusCard(condition, tone, (), (*(words for words, _tone in rest), *facts))

    def demo_devices(self) -> Sequence[DemoDevice]:
        return _DEMO_PCS

    def simulator(self, device: DeviceInfo, context: SimulationContext) -> Simulator | None:
        from ocrfleet_pc.simulate import SimulatedPc

        return SimulatedPc(device, context, laptop=self.name == "laptop").run


def _daemon_time(checked_at: float, report_ts: float, received_at: float | None) -> float:
    """When the check started, on the daemon's clock.

    `checked_at` and the report's `ts` come from the PC's clock, which may be
    minutes off: the daemon judges the check's age from how long before its
    report it ran, counted back from when the report arrived. Never after
    that arrival, whatever the two PC times say.
    """
    if received_at is None:
        return checked_at
    return received_at - max(0.0, report_ts - checked_at)


def _internet_fact(health: Health) -> Words:
    report = health.internet
    if report is None:
        return ""
    if report.ok and report.latency_ms is not None:
        return _("Internet: reachable, {latency} ms", latency=Number(report.latency_ms))
    # The error is a fixed word IT looks up (dns, tls, timeout…): not translated.
    return _("Internet: not reachable ({error})", error=report.error or "other")


class LaptopKind(PcKind):
    name: ClassVar[str] = "laptop"
    title: ClassVar[Text] = _("Laptop")
    description: ClassVar[str] = (
        "laptop (e.g. from the lesson pool) reporting through the ocrfleet agent (MQTT)"
    )

    def demo_devices(self) -> Sequence[DemoDevice]:
        return _DEMO_LAPTOPS
