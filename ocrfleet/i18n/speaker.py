"""Putting words into one reader's language, notation and time zone."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent

from ocrfleet.i18n.catalogs import LOCALES, Catalogs, Language
from ocrfleet.i18n.text import (
    BRACED,
    Day,
    Moment,
    Number,
    Percent,
    Span,
    Text,
    Value,
    Words,
    fill,
)

log = logging.getLogger(__name__)

CORE_DOMAIN = "ocrfleet"


@dataclass(frozen=True)
class Speaker:
    """One reader: a language and the time zone their times are shown in."""

    catalogs: Catalogs
    language: Language
    zone: ZoneInfo

    @property
    def locale(self) -> str:
        return LOCALES[self.language]

    def say(self, words: Words) -> str:
        """Words as this reader reads them; fixed text is returned as it is."""
        if isinstance(words, str):
            return words
        return self._text(words)

    def gettext(self, msgid: str, domain: str = CORE_DOMAIN) -> str:
        return self.catalogs.gettext(self.language, domain, msgid)

    def ngettext(self, singular: str, plural: str, n: int, domain: str = CORE_DOMAIN) -> str:
        return self.catalogs.ngettext(self.language, domain, singular, plural, n)

    # -- values -------------------------------------------------------------

    def moment(self, at: float, *, zone_name: bool = True) -> str:
        """ "6 dec 2026 15:05 CET": date and 24-hour time in the reader's zone."""
        local = datetime.fromtimestamp(at, self.zone)
        text = (
            f"{format_skeleton('yMMMd', local, locale=self.locale)} "
            f"{format_skeleton('Hm', local, locale=self.locale)}"
        )
        return f"{text} {local.tzname()}" if zone_name else text

    def time(self, at: float) -> str:
        """ "15:05": the time of day only, for a moment on a day already named."""
        return format_skeleton("Hm", datetime.fromtimestamp(at, self.zone), locale=self.locale)

    def day(self, day: date, *, weekday: bool = False) -> str:
        skeleton = "yMMMEd" if weekday else "yMMMd"
        return format_skeleton(skeleton, datetime(day.year, day.month, day.day), locale=self.locale)

    def month(self, day: date) -> str:
        """ "december 2026"."""
        return format_date(day, "LLLL y", locale=self.locale)

    def percent(self, fraction: float, digits: int = 0) -> str:
        """ "8 %" in Flemish usage (CLDR's Dutch pattern has no space), "8%" in English."""
        sign = " %" if self.language == "nl" else "%"
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + sign
        return format_percent(fraction, pattern, locale=self.locale)

    def number(self, value: float, digits: int = 0) -> str:
        pattern = "#,##0" if digits == 0 else "#,##0." + "#" * digits
        return format_decimal(value, pattern, locale=self.locale)

    def span(self, seconds: float) -> str:
        """ "3 hours", "2 dagen": rounded to the unit a person would use."""
        return format_timedelta(
            timedelta(seconds=seconds), threshold=1.5, format="long", locale=self.locale
        )

    def value(self, value: Value) -> str:
        if isinstance(value, Text):
            return self._text(value)
        if isinstance(value, Percent):
            return self.percent(value.fraction, value.digits)
        if isinstance(value, Moment):
            return self.moment(value.at)
        if isinstance(value, Day):
            return self.day(value.day)
        if isinstance(value, Span):
            return self.span(value.seconds)
        if isinstance(value, Number):
            return self.number(value.value, value.digits)
        if isinstance(value, int):
            return self.number(value)
        return value

    def _text(self, text: Text) -> str:
        """Never raises: a reader gets English, or the bare message, rather than nothing."""
        values = {name: self._value_or_raw(v) for name, v in text.values.items()}
        fallback = text.msgid
        try:
            if text.plural is not None and text.count is not None:
                count = text.values.get(text.count)
                n = count if isinstance(count, int) else 0
                fallback = text.msgid if n == 1 else text.plural
                pattern = self.catalogs.ngettext(
                    self.language, text.domain, text.msgid, text.plural, n
                )
            else:
                pattern = self.catalogs.gettext(self.language, text.domain, text.msgid)
        except Exception:
            log.exception("no words for %r (%s)", text.msgid, text.domain)
            return fill(fallback, values)
        if set(BRACED.findall(pattern)) - set(values):
            if pattern == fallback:
                log.warning("message %r (%s) names a value it is not given", fallback, text.domain)
            else:
                # A translation naming a value the message does not have:
                # the English text still says what is wrong.
                log.warning("translation of %r (%s) is broken", text.msgid, text.domain)
                pattern = fallback
        return fill(pattern, values)

    def _value_or_raw(self, value: Value) -> str:
        try:
            return self.value(value)
        except Exception:
            log.exception("value %r not put into words", value)
            return str(value)
