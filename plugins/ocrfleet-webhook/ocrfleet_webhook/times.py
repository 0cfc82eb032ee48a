"""Timestamps as Alertmanager writes them."""

from __future__ import annotations

from datetime import UTC, datetime

# What Go's zero time.Time encodes to: Alertmanager's endsAt of a firing alert.
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(timestamp: float) -> str:
    """UTC, "Z"-suffixed, fraction only when there is one (as Go's RFC3339Nano)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"
