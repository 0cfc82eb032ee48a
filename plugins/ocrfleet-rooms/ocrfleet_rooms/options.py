"""The `options` table of a room sensor in the configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ocrfleet.plugin import Duration

DEFAULT_BASE_TOPIC = "zigbee2mqtt"
# Battery motion sensors report on change; an Aqara checks in about hourly
# and a Hue motion sensor's occupancy report repeats within an hour, so two
# hours of silence means a dead battery or a lost link, not an empty room.
DEFAULT_HEARTBEAT_TIMEOUT = 7200.0


def _topic(value: str, what: str) -> str:
    if not value or "+" in value or "#" in value or "\x00" in value:
        raise ValueError(f"{what} must be a topic name, without the wildcards + and #")
    if value.startswith("$"):
        raise ValueError(f"{what} must not start with $ (the broker's own topics)")
    return value


class RoomSensorOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zigbee2mqtt: str | None = Field(
        default=None,
        description="the sensor's friendly name in zigbee2mqtt, as it is; "
        "its messages are read from <base_topic>/<friendly name>",
    )
    base_topic: str = Field(
        default=DEFAULT_BASE_TOPIC,
        description="zigbee2mqtt's base_topic (its configuration.yaml, mqtt.base_topic)",
    )
    topic: str | None = Field(
        default=None,
        description="for plain JSON: the exact topic the sensor publishes on; "
        "default <root>/<site>/<device>/room",
    )
    heartbeat_timeout: Duration = Field(
        default=DEFAULT_HEARTBEAT_TIMEOUT,
        gt=0,
        description="silence (seconds, or text like '2h') after which the sensor counts as down",
    )
    watch_unknown: bool = Field(
        default=False,
        description="also listen to every <base_topic>/<name>, so that messages of "
        "zigbee2mqtt devices that are not configured are counted as unknown_device",
    )

    @field_validator("zigbee2mqtt")
    @classmethod
    def _friendly_name(cls, value: str | None) -> str | None:
        if value is not None:
            _topic(value, "a friendly name")
            if value.startswith("/") or value.endswith("/"):
                raise ValueError("a friendly name must not start or end with /")
        return value

    # Runs only for a base_topic given in the file (defaults are not validated).
    @field_validator("base_topic")
    @classmethod
    def _base_topic(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("zigbee2mqtt") is None:
            raise ValueError("base_topic is only for a zigbee2mqtt sensor: set zigbee2mqtt too")
        return _topic(value, "base_topic")

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("zigbee2mqtt") is not None:
            raise ValueError("give either zigbee2mqtt (a friendly name) or topic, not both")
        return value if value is None else _topic(value, "topic")

    @field_validator("watch_unknown")
    @classmethod
    def _watch(cls, value: bool, info: ValidationInfo) -> bool:
        name: str | None = info.data.get("zigbee2mqtt")
        if value and name is None:
            raise ValueError("watch_unknown is only for a zigbee2mqtt sensor")
        if value and name is not None and "/" in name:
            raise ValueError("watch_unknown needs a friendly name without /")
        return value
