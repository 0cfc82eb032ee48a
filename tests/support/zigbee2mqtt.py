"""zigbee2mqtt's own payloads, recorded for the room sensor tests (tests/fixtures/zigbee2mqtt)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zigbee2mqtt"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
