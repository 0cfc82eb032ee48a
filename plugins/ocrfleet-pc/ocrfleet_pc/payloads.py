"""The agent's MQTT payloads, version 1 (docs/mqtt.md is the reference).

Unknown fields are ignored so that a newer agent can talk to an older
daemon; types are strict so a string where a number belongs is refused
rather than guessed at.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1


# Timestamps are Unix seconds; anything outside 1970-3000 is a broken clock
# or a hostile payload, and would poison durations and sums for good.
Timestamp = Annotated[float, Field(ge=0, le=32_503_680_000)]


class _Payload(BaseModel):
    # NaN and Infinity are valid JSON to Python's parser but never a reading.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, allow_inf_nan=False)

    v: Literal[1] = Field(description="payload schema version")


class HealthV1(_Payload):
    """Periodic health of one PC; it doubles as the agent's heartbeat."""

    ts: Timestamp = Field(description="Unix time the values were taken")
    cpu_ratio: float = Field(
        ge=0, le=1, description="CPU busy, 0-1, averaged since the last report"
    )
    memory_used_ratio: float = Field(ge=0, le=1, description="memory in use, 0-1")
    disk_free_bytes: int = Field(ge=0, le=2**63 - 1, description="free bytes on the system disk")
    uptime_seconds: float = Field(ge=0, le=3_153_600_000, description="seconds since the OS booted")
    os: str = Field(max_length=200, description="operating system name and version")
    agent_version: str = Field(max_length=50)
    frozen: bool | None = Field(
        default=None, description="restore software (e.g. Deep Freeze) active; null if unknown"
    )
    eid_reader_present: bool | None = Field(
        default=None, description="an eID card reader is attached; null if unknown"
    )


class SessionV1(_Payload):
    """A visitor session starting or ending. Carries no personal data at all."""

    event: Literal["start", "end"]
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    started_at: Timestamp
    ended_at: Timestamp | None = None

    @model_validator(mode="after")
    def _end_has_time(self) -> SessionV1:
        if self.event == "end":
            if self.ended_at is None:
                raise ValueError("an end event needs ended_at")
            if self.ended_at < self.started_at:
                raise ValueError("ended_at is before started_at")
        elif self.ended_at is not None:
            raise ValueError("a start event has no ended_at")
        return self
