"""Reading .snmprec recordings into the plain values SnmpClient returns.

The same conversions snmpsim applies when it serves a file (lines are read as
Latin-1 and stripped, "x" tags are hex), so a parse test on a file sees what
a poll of the simulated agent would.
"""

from __future__ import annotations

from pathlib import Path

from ocrfleet.snmp.values import SnmpValue

_INTEGER_TAGS = {"2", "65", "66", "67", "70"}  # Integer32, Counter32, Gauge32, TimeTicks, Counter64


def read_snmprec(path: Path) -> dict[str, SnmpValue]:
    values: dict[str, SnmpValue] = {}
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        line = raw.decode("iso-8859-1").strip()
        if not line or line.startswith("#"):
            continue
        try:
            oid, tag, value = line.split("|", 2)
        except ValueError:
            raise ValueError(f"{path}:{number}: not OID|TYPE|VALUE") from None
        values[oid] = _convert(tag, value)
    return values


def _convert(tag: str, value: str) -> SnmpValue:
    hexed = tag.endswith("x")
    base = tag.removesuffix("x")
    if base == "4":
        return bytes.fromhex(value) if hexed else value.encode("iso-8859-1")
    if base in _INTEGER_TAGS:
        return int(value)
    if base in ("6", "64"):  # OBJECT IDENTIFIER, IpAddress
        return value
    if base == "5":  # NULL, which a GET turns into "no such object" too
        return None
    raise ValueError(f"unsupported snmprec tag {tag!r}")
