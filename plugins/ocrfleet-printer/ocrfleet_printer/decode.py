"""Turning raw SNMP values from printers into clean Python values.

Printer agents are sloppy with OCTET STRINGs: descriptions arrive NUL-padded,
split over CR/LF lines, in UTF-8 or Latin-1, and some firmware (HP JetDirect)
emits a description whose first line is text and whose further lines are the
rest of the bytes written out as hex pairs. Nothing here raises: a value that
cannot be understood becomes "" or None, never an exception in a poll.
"""

from __future__ import annotations

import re

from ocrfleet.plugin import SnmpValue
from ocrfleet_printer.oids import ERROR_STATE_BITS

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# A line of hex byte pairs, as net-snmp style dumps write them ("42 6C 61 ").
_HEX_LINE = re.compile(rb"^[ \t]*[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})*[ \t]*$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def integer(value: SnmpValue) -> int | None:
    """An INTEGER/Counter/Gauge cell, or None when absent or of another type."""
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int) else None


def text(value: SnmpValue) -> str:
    """An OCTET STRING as one trimmed line of text ("" when absent)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _tidy(value)
    if isinstance(value, int):
        return str(value)
    return _tidy(_decode(_unwrap_hex_lines(value)))


def _unwrap_hex_lines(raw: bytes) -> bytes:
    """Join the lines of a description, turning hex-dump lines back into bytes.

    A hex-dump line continues the bytes of the line before it without a
    separator (the dump wrapped a byte string, it did not start a new line of
    text); ordinary text lines are joined with a space. A first line made of
    hex pairs is decoded only when it yields printable text, so a real
    description like "12 34" survives as text.
    """
    lines = _LINE_BREAK.split(raw)
    if len(lines) == 1:
        decoded = _hex_line(lines[0], minimum_pairs=2)
        return decoded if decoded is not None else raw
    parts: list[bytes] = []
    for number, line in enumerate(lines):
        decoded = _hex_line(line, minimum_pairs=1 if number else 2)
        if decoded is not None and parts:
            parts[-1] += decoded
        elif decoded is not None:
            parts.append(decoded)
        else:
            parts.append(line)
    return b" ".join(parts)


def _hex_line(line: bytes, minimum_pairs: int) -> bytes | None:
    if not _HEX_LINE.match(line):
        return None
    pairs = line.split()
    if len(pairs) < minimum_pairs:
        return None
    decoded = bytes(int(pair, 16) for pair in pairs)
    body = decoded.split(b"\x00", 1)[0]
    # Padding NULs are fine; anything else unprintable means it was not a dump.
    if any(b < 0x20 and b not in (0x09, 0x0A, 0x0D) for b in body):
        return None
    return decoded


def _decode(raw: bytes) -> str:
    # A NUL ends a C string; what follows is buffer garbage, not text.
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so this never fails; it is what older
        # European firmware sends.
        return raw.decode("latin-1")


def _tidy(value: str) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def error_conditions(value: SnmpValue) -> frozenset[str] | None:
    """The conditions set in hrPrinterDetectedErrorState, or None if it is absent.

    The value is a BITS-like OCTET STRING; bit 0 is the most significant bit
    of the first octet. Rules, so that malformed values never invent a
    condition:

    - absent (None), or not an octet string: None, "not reported";
    - empty: no condition (the Epson recording sends this);
    - one octet: only bits 0-7 (Brother and HP send one octet);
    - two or more octets all 0x20 (ASCII spaces): no condition. Some agents
      pad a blank value with spaces; read as bits, "  " would claim lowToner
      and markerSupplyMissing at once. A single 0x20 octet is not treated so:
      it is exactly how a one-octet agent reports lowToner;
    - octets after the second: ignored, no conditions are defined there
      (bit 15 is unassigned too).
    """
    if not isinstance(value, bytes):
        return None
    if len(value) >= 2 and value.count(0x20) == len(value):
        return frozenset()
    found = set()
    for bit, name in enumerate(ERROR_STATE_BITS):
        octet, shift = divmod(bit, 8)
        if octet < len(value) and value[octet] & (0x80 >> shift):
            found.add(name)
    return frozenset(found)
