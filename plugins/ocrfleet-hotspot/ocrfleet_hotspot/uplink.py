"""Which interface is the hotspot's way to the internet, and whether it is up: no I/O.

What decides, in this order:

1. The device's `uplink_interface` option: an ifIndex (a number), or a name
   matched exactly against ifName, ifDescr and ifAlias. A device without
   such an interface is not guessed around: the uplink is unknown and
   `Uplink.missing` says so, for IT to see.
2. The vendor's own state (`HotspotVendor.uplink_up`), e.g. UniFi's
   "isolated" flag.
3. The first of the vendor's `default_uplinks` the device has.

Else nothing tells, and the reading has no uplink.

The interface columns come from the walk the kind makes on every poll
anyway (`oids.INTERFACE_COLUMNS`), so the uplink costs no request of its
own. The ifIndex found is kept in the reading: the next poll takes it again
while the interface there still has the name (so of two interfaces with one
name it is always the same one), and looks again once the table changed
under it (interfaces renumbered after a reboot, one added or removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ocrfleet.plugin import SnmpTable, column
from ocrfleet_hotspot import oids
from ocrfleet_hotspot.reading import Uplink, UplinkState
from ocrfleet_hotspot.vendors.base import as_int, as_text

# IF-MIB ifOperStatus, RFC 2863.
_OPER_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
# unknown(4) says nothing; testing(3) says as little: no packets pass while
# the interface runs its tests, which tells nothing of the line behind it;
# dormant(5) is a dial-on-demand or LTE line idling until traffic wakes it
# (RFC 2863 3.1.12), not a line that is down.
_OPER_UNDECIDED = (3, 4, 5)
# How many of the device's interface names a "not found" detail lists.
_NAMES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class _Table:
    """The walked interface columns, by ifIndex (as text)."""

    indexes: tuple[str, ...]
    names: dict[str, str]
    descrs: dict[str, str]
    aliases: dict[str, str]
    admin: dict[str, int | None]
    oper: dict[str, int | None]

    @classmethod
    def of(cls, values: SnmpTable) -> _Table:
        names = {i: as_text(v) for i, v in column(values, oids.IF_NAME).items()}
        descrs = {i: as_text(v) for i, v in column(values, oids.IF_DESCR).items()}
        aliases = {i: as_text(v) for i, v in column(values, oids.IF_ALIAS).items()}
        admin = {i: as_int(v) for i, v in column(values, oids.IF_ADMIN_STATUS).items()}
        oper = {i: as_int(v) for i, v in column(values, oids.IF_OPER_STATUS).items()}
        indexes = sorted({*names, *descrs, *admin, *oper}, key=lambda i: (len(i), i))
        return cls(tuple(i for i in indexes if i.isdigit()), names, descrs, aliases, admin, oper)

    def label(self, index: str) -> str:
        return self.names.get(index) or self.descrs.get(index) or f"if{index}"

    def named(self, name: str) -> list[str]:
        """The indexes whose ifName, ifDescr or ifAlias is `name`, in ifIndex order."""
        return [
            i
            for i in self.indexes
            if name in (self.names.get(i), self.descrs.get(i), self.aliases.get(i))
        ]


def find_uplink(
    values: SnmpTable,
    option: str | int | None,
    vendor_up: bool | None,
    defaults: Sequence[str],
    previous: Uplink | None = None,
) -> Uplink | None:
    """The uplink by the documented order; None when nothing tells."""
    table = _Table.of(values)
    if option is not None:
        index = _configured(table, option, previous)
        if index is None:
            return _missing(table, option)
        return _read(table, index, configured=True)
    if vendor_up is not None:
        return Uplink(
            "up" if vendor_up else "down",
            "vendor",
            detail="the vendor's MIB says " + ("up" if vendor_up else "down"),
        )
    for name in defaults:
        index = _by_name(table, name, previous)
        if index is not None:
            return _read(table, index, configured=False)
    return None


def _configured(table: _Table, option: str | int, previous: Uplink | None) -> str | None:
    if isinstance(option, int):
        return str(option) if str(option) in table.indexes else None
    return _by_name(table, option, previous)


def _by_name(table: _Table, name: str, previous: Uplink | None) -> str | None:
    found = table.named(name)
    if not found:
        return None
    # The same interface as last time while it still has the name.
    if previous is not None and str(previous.index) in found:
        return str(previous.index)
    return found[0]


def _read(table: _Table, index: str, *, configured: bool) -> Uplink:
    admin = table.admin.get(index)
    oper = table.oper.get(index)
    state: UplinkState
    if admin is not None and admin != oids.STATUS_UP:
        state, detail = "down", "ifAdminStatus down (switched off)"
    elif oper is None:
        state, detail = "unknown", "no ifOperStatus"
    else:
        detail = f"ifOperStatus {_OPER_STATUS.get(oper, '?')}({oper})"
        if oper == oids.STATUS_UP:
            state = "up"
        elif oper in _OPER_UNDECIDED:
            state = "unknown"
        else:
            state = "down"
    return Uplink(
        state,
        "interface",
        interface=table.label(index),
        index=int(index),
        configured=configured,
        detail=detail,
    )


def _missing(table: _Table, option: str | int) -> Uplink:
    what = (
        f"no ifIndex {option}"
        if isinstance(option, int)
        else (f"no interface with ifName, ifDescr or ifAlias {option!r}")
    )
    names = [table.label(i) for i in table.indexes]
    shown = ", ".join(names[:_NAMES_SHOWN]) + (", ..." if len(names) > _NAMES_SHOWN else "")
    return Uplink(
        "unknown",
        "interface",
        configured=True,
        missing=str(option),
        detail=f"{what} (the device has: {shown or 'no interfaces'})",
    )
