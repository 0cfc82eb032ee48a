"""Durations in config: a number of seconds, or text such as "90s", "10m", "2h", "1d"."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: object) -> float:
    """Seconds from a number or from text like "1h30m"; negative values are refused."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as 90, "90s", "10m" or "2h"')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            text += "s"
        position = 0
        seconds = 0.0
        for match in _PART.finditer(text):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            position = match.end()
        if not text or position != len(text):
            raise ValueError(f'{value!r} is not a duration such as "90s", "10m", "2h" or "1d"')
    else:
        raise ValueError('expected a duration such as 90, "90s", "10m" or "2h"')
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
