"""Identity of a configured device, shared by every part of the daemon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ocrfleet.config.schedule import SiteSchedule


class DeviceKey(NamedTuple):
    # A tuple, not a dataclass: it is hashed several times per MQTT message
    # and tuple hashing runs in C.
    site: str
    device: str

    def __str__(self) -> str:
        return f"{self.site}/{self.device}"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the configuration says about one device; never changes while it runs."""

    key: DeviceKey
    kind: str
    model: str = ""
    purchase_date: date | None = None
    reservable: bool = False
    options: Any = field(default=None, compare=False)
    schedule: SiteSchedule | None = field(default=None, compare=False)

    @property
    def site(self) -> str:
        return self.key.site

    @property
    def id(self) -> str:
        return self.key.device
