"""Room sensor payloads: zigbee2mqtt's device state, and plain JSON.

Both run on the MQTT network thread for every message: plain `json` and
type checks, no validation framework in between.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ocrfleet.plugin import PayloadError
from ocrfleet_rooms.reading import RoomReading

PLAIN_VERSION = 1
_PLAIN_MEASURES = ("occupied", "present", "in", "out")


def _object(payload: bytes) -> Mapping[str, object]:
    try:
        message = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("unparsable", f"not JSON: {exc}") from None
    except RecursionError:
        raise PayloadError("unparsable", "not JSON: nested too deeply") from None
    if not isinstance(message, dict):
        raise PayloadError("invalid", "payload: a JSON object is expected")
    return message


def _flag(message: Mapping[str, object], key: str) -> bool | None:
    value = message.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise PayloadError("invalid", f"{key}: true or false is expected, not {value!r:.40}")


def _number(message: Mapping[str, object], key: str, low: float, high: float) -> float | None:
    value = message.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise PayloadError(
            "invalid", f"{key}: a number {low:g}-{high:g} is expected, not {value!r:.40}"
        )
    return float(value)


def _count(message: Mapping[str, object], key: str, high: float = 2**53) -> int | None:
    value = _number(message, key, 0, high)
    if value is None:
        return None
    if not value.is_integer():
        raise PayloadError("invalid", f"{key}: a whole number is expected, not {value!r}")
    return int(value)


def _occupied(flag: bool | None, people: int | None) -> bool | None:
    if flag is not None:
        return flag
    return None if people is None else people > 0


def parse_zigbee2mqtt(payload: bytes) -> RoomReading:
    """A device state as zigbee2mqtt publishes it on `<base_topic>/<friendly_name>`.

    Motion sensors say `occupancy`, mmWave presence sensors `presence`,
    people counters `people`; battery devices `battery` (%), and every
    device zigbee2mqtt's `linkquality` (0-255). Its other properties
    (illuminance, temperature, ...) are ignored. A property may be null
    (not known since zigbee2mqtt started).
    """
    message = _object(payload)
    people = _count(message, "people")
    occupancy = _flag(message, "occupancy")
    presence = _flag(message, "presence")
    return RoomReading(
        occupied=_occupied(occupancy if occupancy is not None else presence, people),
        people=people,
        battery_percent=_number(message, "battery", 0, 100),
        linkquality=_count(message, "linkquality", 255),
    )


def parse_plain(payload: bytes) -> RoomReading:
    """Plain JSON of any other sensor or counter (docs/integrations.md).

    `{"v": 1, "occupied": true, "present": 3, "in": 1234, "out": 1231,
    "battery": 80}`: every key optional but at least one of occupied,
    present, in and out; other keys are ignored.
    """
    message = _object(payload)
    version = message.get("v", PLAIN_VERSION)
    if version != PLAIN_VERSION or isinstance(version, bool):
        raise PayloadError("unsupported_version", f"v: {version!r:.20} (this ocrfleet reads v 1)")
    if not any(message.get(key) is not None for key in _PLAIN_MEASURES):
        raise PayloadError("invalid", "payload: none of occupied, present, in, out")
    people = _count(message, "present")
    return RoomReading(
        occupied=_occupied(_flag(message, "occupied"), people),
        people=people,
        entries=_count(message, "in"),
        exits=_count(message, "out"),
        battery_percent=_number(message, "battery", 0, 100),
        linkquality=_count(message, "linkquality", 255),
    )
