"""The interface a hotspot vendor implements, and helpers for reading its values."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from ocrfleet.plugin import SnmpTable, SnmpValue


class HotspotVendor(ABC):
    """How one vendor's access points or controllers report their wifi clients.

    A plugin registers an instance through the `ocrfleet_kind_extensions`
    hook as ``KindExtension(kind="hotspot", name=vendor.name,
    implementation=vendor)``. The kind fetches `get_oids` and walks
    `walk_roots` on every poll of a device the vendor serves, then hands all
    the values (OID -> value, see ocrfleet.snmp.values) to `clients` and
    `model`. Those run on the event loop, so they must be cheap and do no I/O.
    """

    # Lower case; what a configuration writes as `vendor = "..."` and what the
    # `vendor` label of ocrfleet_hotspot_info shows.
    name: str
    # For people, e.g. in `ocrfleet probe`.
    title: str = ""
    walk_roots: Sequence[str] = ()
    get_oids: Sequence[str] = ()
    # Interface names (ifName, ifDescr or ifAlias) that are the way out on
    # this vendor's devices as they come, tried in order when a device's
    # options name no `uplink_interface`; the first the device has is read.
    default_uplinks: Sequence[str] = ()

    @abstractmethod
    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        """Whether a device with this sysObjectID and sysDescr is one of this vendor's."""

    @abstractmethod
    def clients(self, values: SnmpTable) -> int | None:
        """Wifi clients associated now, each counted once; None when the values give no count.

        None must mean "unknown" (the MIB is absent or empty), never 0.
        """

    def model(self, values: SnmpTable) -> str | None:
        """A better model name than sysDescr, if the vendor MIB has one."""
        return None

    def oper_overrides(self, values: SnmpTable) -> Mapping[int, bool]:
        """ifIndex -> operationally up, for interfaces whose ifOperStatus misleads.

        For firmware that reports a working radio as down (e.g. while no
        client is associated); interfaces not in the mapping keep their
        ifOperStatus.
        """
        return {}

    def uplink_up(self, values: SnmpTable) -> bool | None:
        """The vendor's own word on the device's way out: True up, False down, None silent.

        Read from the values of `get_oids`/`walk_roots`; it takes the place
        of `default_uplinks` (but never of an interface the options name).
        None when the vendor MIB has no such state or the device does not
        answer it.
        """
        return None


def as_int(value: SnmpValue) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, bytes | str):
        try:
            return int(value.decode() if isinstance(value, bytes) else value)
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def as_text(value: SnmpValue) -> str:
    """A DisplayString as text; agents pad some with NULs and a few send Latin-1."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        return text.replace("\x00", "").strip()
    return str(value).strip()


def split_mac_index(index: str) -> tuple[str, str] | None:
    """A row index that starts with a MAC address (6 sub-identifiers) and the rest after it."""
    parts = index.split(".")
    if len(parts) < 7:
        return None
    try:
        octets = [int(p) for p in parts[:6]]
    except ValueError:
        return None
    if any(not 0 <= o <= 255 for o in octets):
        return None
    return ":".join(f"{o:02x}" for o in octets), ".".join(parts[6:])
