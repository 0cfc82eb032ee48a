"""Public holidays (and, on request, bank and school holidays) from the `holidays` library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ocrfleet.plugin import Calendar, CalendarContext, CalendarType, Catalog, ClosedPeriod
from ocrfleet_calendars.periods import periods_of_days

_ = Catalog("ocrfleet_calendars")

# ocrfleet's languages, as the holiday library names them (first one it has wins).
_LANGUAGES = MappingProxyType({"nl": ("nl",), "en": ("en_US", "en_GB")})
# Years computed around today: last year's closures still show in reports,
# and next year's in the lookahead from December on.
_YEARS_BEFORE = 1
_YEARS_AFTER = 2
# 11 July, the Flemish Community's own holiday: not a public holiday, so not
# in the library, but many Flemish libraries and services close.
_FLEMISH_COMMUNITY_DAY = (7, 11)


class PublicHolidaysOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # ISO 3166 code, as the holiday library knows it.
    country: str = "BE"
    # A region or community where the country has them (Belgium: "Flemish",
    # "French", "German", which only the school holidays depend on).
    subdivision: str | None = None
    # "public"; "bank" adds e.g. Good Friday and 26 December in Belgium,
    # "school" the school holidays of `subdivision`.
    categories: tuple[str, ...] = Field(default=("public",), min_length=1)
    # Belgium only: also close on 11 July, the Flemish Community's holiday.
    flemish_community_day: bool = False

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        known = holidays.list_supported_countries()
        if value not in known:
            raise ValueError(f"unknown country {value!r} (e.g. 'BE', 'NL', 'FR')")
        return value

    @model_validator(mode="after")
    def _known_parts(self) -> PublicHolidaysOptions:
        import holidays

        country: Any = holidays.country_holidays(self.country)
        subdivisions = tuple(country.subdivisions)
        if self.subdivision is not None and self.subdivision not in subdivisions:
            known = ", ".join(subdivisions) or "none"
            raise ValueError(
                f"subdivision {self.subdivision!r} is not one of {self.country}'s (known: {known})"
            )
        categories = tuple(country.supported_categories)
        for category in self.categories:
            if category not in categories:
                raise ValueError(
                    f"category {category!r} is not one of {self.country}'s "
                    f"(known: {', '.join(categories)})"
                )
        if self.flemish_community_day and self.country != "BE":
            raise ValueError("flemish_community_day is for country 'BE' only")
        return self


class PublicHolidaysCalendar(Calendar):
    def __init__(self, options: PublicHolidaysOptions) -> None:
        self.options = options

    def read(self, today: date) -> Sequence[ClosedPeriod]:
        import holidays

        years = list(range(today.year - _YEARS_BEFORE, today.year + _YEARS_AFTER + 1))
        options = self.options

        supported = tuple(holidays.country_holidays(options.country).supported_languages)
        languages = {
            ours: theirs[0]
            for ours, candidates in _LANGUAGES.items()
            if (theirs := [c for c in candidates if c in supported])
        }
        periods: list[ClosedPeriod] = []
        # One category at a time, so a school holiday stays one period even
        # where a public holiday falls inside it.
        for category in options.categories:

            def named(language: str | None, category: str = category) -> dict[date, str]:
                found = holidays.country_holidays(
                    options.country,
                    subdiv=options.subdivision,
                    years=years,
                    categories=(category,),
                    language=language,
                )
                return {day: str(name) for day, name in found.items()}

            names = {ours: named(theirs) for ours, theirs in languages.items()}
            default = names.get("en") or named(None)
            periods.extend(periods_of_days(default.items(), names))
        if options.flemish_community_day:
            month, day = _FLEMISH_COMMUNITY_DAY
            periods.extend(
                ClosedPeriod(date(y, month, day), date(y, month, day), _("Flemish Community Day"))
                for y in years
            )
        return periods

    async def fetch(self, today: date) -> Sequence[ClosedPeriod]:
        # Computed, not fetched: a new day may only bring a new year in.
        return self.read(today)


class PublicHolidaysType(CalendarType):
    name = "public_holidays"
    description = "public holidays of a country or region (the holidays library)"
    options_model = PublicHolidaysOptions

    def open(self, options: BaseModel, context: CalendarContext) -> Calendar:
        assert isinstance(options, PublicHolidaysOptions)
        return PublicHolidaysCalendar(options)

    def demo_options(self) -> Mapping[str, object]:
        # Vlaminggem is Flemish: Belgium's public holidays close every site.
        return {"country": "BE"}
