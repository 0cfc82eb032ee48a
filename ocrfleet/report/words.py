"""The report's values in one reader's notation: "1.234,5", "37,5 %", "+12 %", "-3 pp"."""

from __future__ import annotations

from enum import StrEnum

from babel.numbers import format_decimal

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Catalog, Words

_ = Catalog("ocrfleet")

Value = float | int | None

NO_VALUE = "-"
MINUS = "\u2212"  # a real minus: a hyphen is too short to read as one in a table


class Unit(StrEnum):
    COUNT = "count"
    HOURS = "hours"
    DECIMAL = "decimal"  # an average, e.g. seats usable
    PERCENT = "percent"  # the value is a ratio, 0-1


def plain(value: Value, unit: Unit) -> str:
    """For csv: a plain number, percentages 0-100 with one decimal; empty for no value."""
    if value is None:
        return ""
    if unit is Unit.PERCENT:
        return f"{value * 100:.1f}"
    if unit is Unit.HOURS:
        return f"{value:.2f}"
    if unit is Unit.DECIMAL:
        return f"{value:.1f}"
    return str(round(value))


class Wording:
    """What a reader sees of a value: their separators, their language; a dash for none."""

    def __init__(self, speaker: Speaker) -> None:
        self.speaker = speaker

    @property
    def language(self) -> str:
        return self.speaker.language

    def say(self, words: Words) -> str:
        return self.speaker.say(words)

    def count(self, value: float) -> str:
        return self.speaker.number(round(value))

    def decimal(self, value: float, digits: int = 1) -> str:
        """Always `digits` decimals, so a column of them lines up."""
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, pattern, locale=self.speaker.locale)

    def percent(self, fraction: float, digits: int = 1) -> str:
        return self.speaker.percent(fraction, digits)

    def value(self, value: Value, unit: Unit) -> str:
        if value is None:
            return NO_VALUE
        if unit is Unit.PERCENT:
            return self.percent(value)
        if unit in (Unit.HOURS, Unit.DECIMAL):
            return self.decimal(value)
        return self.count(value)

    def change(self, now: Value, before: Value, unit: Unit) -> str:
        """How `now` differs from `before`: percentage points for a percentage, else relative.

        A dash when either is unknown, or when there was nothing before to
        compare with (growth from zero has no percentage).
        """
        if now is None or before is None:
            return NO_VALUE
        if unit is Unit.PERCENT:
            points = round((now - before) * 100, 1)
            size = self.speaker.number(abs(points), 1)
            return self.say(_("{change} pp", change=self._signed(points, size)))
        if before == 0:
            return NO_VALUE
        relative = now / before - 1
        rounded = round(relative * 100)
        return self._signed(rounded, self.percent(abs(relative), 0))

    @staticmethod
    def _signed(value: float, text: str) -> str:
        if value > 0:
            return f"+{text}"
        if value < 0:
            return f"{MINUS}{text}"
        return text
