"""Words not yet in a language: a catalog message and the values it shows.

Values are kept as what they are (a fraction, a moment, a duration), not as
text, so that each reader gets them in their own notation and time zone:
"8 %" or "8%", "15:05 CET" in Brussels. A `Text` survives a restart as
JSON (alert state, the outbox) and is put into words only when a reader is
known.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Percent:
    """A fraction shown as a percentage, with `digits` decimals: Percent(0.08) is 8 %."""

    fraction: float
    digits: int = 0


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time (Unix seconds), shown in the reader's time zone."""

    at: float


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar date, shown in the reader's notation."""

    day: date


@dataclass(frozen=True, slots=True)
class Span:
    """A duration in seconds, shown in words ("3 hours", "3 uur")."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Number:
    """A number shown with the reader's separators, at most `digits` decimals."""

    value: float
    digits: int = 0


Value: TypeAlias = "str | int | Percent | Moment | Day | Span | Number | Text"


@dataclass(frozen=True, slots=True)
class Text:
    """A catalog message of `domain` with its values, e.g. Text("ocrfleet", "{site}: ...").

    `plural` and `count` make it a plural message: `count` names the integer
    value that chooses the form. The msgid uses `{name}` placeholders.
    """

    domain: str
    msgid: str
    values: Mapping[str, Value] = field(default_factory=dict)
    plural: str | None = None
    count: str | None = None

    def __post_init__(self) -> None:
        # Refused here, inside the rule that makes it (whose failure the
        # engine isolates), rather than when the alert is stored.
        for name, value in self.values.items():
            if not _keepable(value):
                raise TypeError(
                    f"message {self.msgid!r}: value {name!r} is a {type(value).__name__}; "
                    "give a str, an int, a Text, or Percent, Moment, Day, Span or Number"
                )

    def filled(self, **values: Value) -> Text:
        """The same message with more values: for words written once, in a table, and
        used with values known only later (the device, the moment)."""
        return dataclasses.replace(self, values={**self.values, **values})

    def to_json(self) -> str:
        return json.dumps(_encode(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str) -> Text:
        decoded = _decode(json.loads(data))
        if not isinstance(decoded, Text):
            raise ValueError("not a Text")
        return decoded


Words: TypeAlias = "str | Text"
"""What a rule may give as a summary: a Text, or fixed text in one language."""


class Catalog:
    """The message factory of one domain; by convention bound to `_` and `_n`.

        _ = Catalog("ocrfleet_printer")
        _n = _.plural
        _("Paper jam in {tray}", tray=...)

    Extraction (`make catalogs-extract`) looks for calls of `_` and `_n`.
    """

    __slots__ = ("domain",)

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def __call__(self, msgid: str, **values: Value) -> Text:
        return Text(self.domain, msgid, values)

    def plural(self, singular: str, plural: str, count: str, **values: Value) -> Text:
        if not isinstance(values.get(count), int):
            raise TypeError(f"plural message needs an integer value {count!r}")
        return Text(self.domain, singular, values, plural=plural, count=count)


PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Whatever a message puts in braces: "{tray}", but also "{tray.__class__}".
BRACED = re.compile(r"\{([^{}]*)\}")


def fill(pattern: str, values: Mapping[str, str]) -> str:
    """`pattern` with each `{name}` of `values` replaced; nothing else is looked up.

    Unlike str.format, a `{name.attr}` or `{name[0]}` in a translation or a
    template's message reads nothing, and a name without a value stays as it
    is instead of raising.
    """
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), pattern)


def _keepable(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str | int | Text | Day):
        return True
    if isinstance(value, Percent | Number):
        return math.isfinite(value.fraction if isinstance(value, Percent) else value.value)
    if isinstance(value, Moment):
        return math.isfinite(value.at)
    if isinstance(value, Span):
        return math.isfinite(value.seconds)
    return False


def _encode(value: Value) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    if isinstance(value, Text):
        encoded: dict[str, Any] = {
            "t": "text",
            "domain": value.domain,
            "msgid": value.msgid,
            "values": {name: _encode(v) for name, v in value.values.items()},
        }
        if value.plural is not None:
            encoded["plural"] = value.plural
            encoded["count"] = value.count
        return encoded
    if isinstance(value, Percent):
        return {"t": "percent", "v": value.fraction, "digits": value.digits}
    if isinstance(value, Moment):
        return {"t": "moment", "v": value.at}
    if isinstance(value, Day):
        return {"t": "day", "v": value.day.isoformat()}
    if isinstance(value, Span):
        return {"t": "span", "v": value.seconds}
    if isinstance(value, Number):
        return {"t": "number", "v": value.value, "digits": value.digits}
    raise TypeError(f"cannot keep a {type(value).__name__} in a Text")


def _decode(data: Any) -> Value:
    if isinstance(data, str | int):
        return data
    tag = data["t"]
    if tag == "text":
        return Text(
            data["domain"],
            data["msgid"],
            {name: _decode(v) for name, v in data["values"].items()},
            plural=data.get("plural"),
            count=data.get("count"),
        )
    if tag == "percent":
        return Percent(float(data["v"]), int(data.get("digits", 0)))
    if tag == "moment":
        return Moment(float(data["v"]))
    if tag == "day":
        return Day(date.fromisoformat(data["v"]))
    if tag == "span":
        return Span(float(data["v"]))
    if tag == "number":
        return Number(float(data["v"]), int(data["digits"]))
    raise ValueError(f"unknown value type {tag!r}")


def encode_words(words: Words) -> str:
    """Words as stored: a Text as its JSON, fixed text as a JSON string."""
    return json.dumps(words) if isinstance(words, str) else words.to_json()


def decode_words(data: str) -> Words:
    decoded = json.loads(data)
    if isinstance(decoded, str):
        return decoded
    value = _decode(decoded)
    if not isinstance(value, Text):
        raise ValueError("stored words are neither text nor a message")
    return value
