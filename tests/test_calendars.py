"""Closing days as data: public holidays and iCal files in the sites' schedules,
check-config's list of next closures, and bad calendars as configuration errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ocrfleet_calendars.ical_parse import parse_feed
from pydantic import BaseModel, ConfigDict

from ocrfleet.calendars.live import CalendarBook
from ocrfleet.cli.closures_text import next_closure_lines
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.config.upcoming import upcoming_closures
from ocrfleet.demo.fleet import demo_config
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.plugin import (
    Calendar,
    CalendarContext,
    CalendarError,
    CalendarType,
    ClosedPeriod,
    hookimpl,
)
from tests.support.daemon import catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ical"
BRUSSELS = ZoneInfo("Europe/Brussels")
# The calendars are read as on this day (a Monday): 2026 and 2027 are near.
TODAY = datetime(2026, 12, 7, 12, 0, tzinfo=BRUSSELS).timestamp()
PLUGINS = catalog()

BELGIAN_PUBLIC_HOLIDAYS_2027 = {
    date(2027, 1, 1),
    date(2027, 3, 28),  # Easter Sunday
    date(2027, 3, 29),  # Easter Monday
    date(2027, 5, 1),
    date(2027, 5, 6),  # Ascension
    date(2027, 5, 16),  # Whit Sunday
    date(2027, 5, 17),  # Whit Monday
    date(2027, 7, 21),
    date(2027, 8, 15),
    date(2027, 11, 1),
    date(2027, 11, 11),
    date(2027, 12, 25),
}


def config(
    municipality_calendars: list[dict[str, Any]] | None = None,
    site_calendars: list[dict[str, Any]] | None = None,
    store: Path = Path("unused/store.sqlite"),
) -> dict[str, Any]:
    return {
        "municipality": {
            "name": "Vlaminggem",
            "adult_population": 11793,
            "language": "nl",
            "calendars": municipality_calendars or [],
        },
        "sites": [
            {
                "id": "library",
                "name": "Hoofdbibliotheek",
                "village_core": "Vlaminggem",
                "opening_hours": {"mon": ["09:00-17:00"], "wed": ["09:00-17:00"]},
                "closures": ["2027-04-14"],
                "calendars": site_calendars or [],
            },
            {
                "id": "annex",
                "name": "Buurthuis",
                "village_core": "Overbrugge",
                "language": "en",
                "opening_hours": {"mon": ["09:00-17:00"]},
            },
        ],
        "store": {"path": str(store)},
    }


def load(data: dict[str, Any], now: float = TODAY) -> LoadedConfig:
    book = CalendarBook(PLUGINS.calendar_types, lambda: now)
    return load_config(data, PLUGINS.kinds, calendars=book)


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(data)
    return caught.value.problems


def closed_days_in(loaded: LoadedConfig, site: str, year: int) -> set[date]:
    schedule = loaded.schedules[site]
    first = date(year, 1, 1)
    days = (first + timedelta(days=n) for n in range(366))
    return {day for day in days if day.year == year and schedule.closes_on(day)}


# -- public holidays ---------------------------------------------------------------------


def test_belgian_public_holidays_close_every_site() -> None:
    loaded = load(config([{"type": "public_holidays", "country": "BE"}]))
    # The library's own typed closure stays, beside the holidays.
    assert closed_days_in(loaded, "library", 2027) == BELGIAN_PUBLIC_HOLIDAYS_2027 | {
        date(2027, 4, 14)
    }
    assert closed_days_in(loaded, "annex", 2027) == BELGIAN_PUBLIC_HOLIDAYS_2027
    assert date(2026, 4, 6) in closed_days_in(loaded, "annex", 2026)  # Easter Monday 2026
    assert date(2026, 7, 21) in closed_days_in(loaded, "annex", 2026)
    # 26 December and 11 July are no public holidays.
    assert not loaded.schedules["annex"].closes_on(date(2026, 12, 26))
    assert not loaded.schedules["annex"].closes_on(date(2027, 7, 11))


def test_easter_monday_closes_a_site_that_is_open_on_mondays() -> None:
    loaded = load(config([{"type": "public_holidays", "country": "BE"}]))
    schedule = loaded.schedules["annex"]
    easter_monday = datetime(2027, 3, 29, 10, 0, tzinfo=BRUSSELS).timestamp()
    next_monday = datetime(2027, 4, 5, 10, 0, tzinfo=BRUSSELS).timestamp()
    assert not schedule.is_open(easter_monday)
    assert schedule.is_closed_day(easter_monday)
    assert schedule.is_open(next_monday)
    # The next opening skips the holiday.
    sunday = datetime(2027, 3, 28, 10, 0, tzinfo=BRUSSELS).timestamp()
    assert schedule.next_opening(sunday) == datetime(2027, 4, 5, 9, 0, tzinfo=BRUSSELS).timestamp()


def test_the_flemish_community_day_and_bank_holidays_on_request() -> None:
    calendar = {
        "type": "public_holidays",
        "country": "BE",
        "categories": ["public", "bank"],
        "flemish_community_day": True,
    }
    days = closed_days_in(load(config([calendar])), "annex", 2027)
    assert {date(2027, 7, 11), date(2027, 12, 26), date(2027, 3, 26)} <= days  # Good Friday


def test_flemish_school_holidays_are_one_closure_each() -> None:
    calendar = {
        "type": "public_holidays",
        "name": "school",
        "country": "BE",
        "subdivision": "Flemish",
        "categories": ["school"],
    }
    loaded = load(config(site_calendars=[calendar]))
    coming = upcoming_closures(loaded.schedules["library"], date(2027, 6, 1), 3, "nl")
    summer = coming[0]
    # One period from the first days of July to 31 August, not 60 one-day closures.
    assert date(2027, 7, 1) <= summer.first <= date(2027, 7, 3)
    assert summer.last == date(2027, 8, 31)
    assert (summer.source, summer.name) == ("library/school", "Zomervakantie")
    # Only the library's: its calendar is its own.
    assert not loaded.schedules["annex"].closes_on(date(2027, 8, 2))
    assert loaded.schedules["library"].closes_on(date(2027, 8, 2))


def test_holiday_names_in_each_language() -> None:
    loaded = load(config([{"type": "public_holidays", "country": "BE"}]))
    schedule = loaded.schedules["library"]
    dutch = upcoming_closures(schedule, date(2027, 3, 29), 1, "nl")[0]
    english = upcoming_closures(schedule, date(2027, 3, 29), 1, "en")[0]
    assert (dutch.first, dutch.name, dutch.source) == (
        date(2027, 3, 29),
        "Paasmaandag",
        "municipality/public_holidays",
    )
    assert english.name == "Easter Monday"


@pytest.mark.parametrize(
    ("calendar", "where", "message"),
    [
        ({"type": "public_holidays", "country": "XX"}, "country", "unknown country 'XX'"),
        ({"type": "public_holidays", "subdivision": "VLG"}, "", "subdivision 'VLG'"),
        ({"type": "public_holidays", "categories": ["half"]}, "", "category 'half'"),
        ({"type": "public_holidays", "colour": "red"}, "colour", "unknown key"),
        ({"type": "moon_phases"}, "type", "unknown calendar type 'moon_phases'"),
        ({"country": "BE"}, "type", "required"),
        ({"type": "ical"}, "", "give either url or path"),
        ({"type": "ical", "url": "ftp://example.org/x.ics"}, "url", "not an http"),
        ({"type": "ical", "url": "file:///etc/passwd"}, "url", "not an http"),
    ],
)
def test_a_bad_calendar_is_a_configuration_error(
    calendar: dict[str, Any], where: str, message: str
) -> None:
    found = problems(config([calendar]))
    key = "municipality.calendars[0]" + (f".{where}" if where else "")
    assert len(found) == 1, found
    assert found[0][0] == key
    assert message in found[0][1]


def test_two_calendars_of_one_name_are_refused() -> None:
    found = problems(config([{"type": "public_holidays"}, {"type": "public_holidays"}]))
    assert found == [
        ("municipality.calendars[1].name", "'municipality/public_holidays' twice; give each a name")
    ]


def test_without_a_book_the_calendars_are_left_unread() -> None:
    # For the commands that never look at closures.
    loaded = load_config(config([{"type": "public_holidays"}]), PLUGINS.kinds)
    assert loaded.calendars == ()
    assert not loaded.schedules["annex"].closes_on(date(2027, 3, 29))


# -- iCal files ------------------------------------------------------------------------


def ical_file(path: Path | str) -> dict[str, Any]:
    return {"type": "ical", "name": "library", "path": str(path)}


def test_an_ical_file_with_school_holidays_and_closing_days() -> None:
    loaded = load(config(site_calendars=[ical_file(FIXTURES / "school-and-library.ics")]))
    days = closed_days_in(loaded, "library", 2027)
    krokus = {date(2027, 2, 8) + timedelta(days=n) for n in range(7)}  # DTEND is exclusive
    assert krokus <= days
    assert date(2027, 2, 15) not in days
    assert date(2027, 3, 3) in days  # a single all-day closing day
    assert date(2027, 3, 10) in days  # a staff meeting 13:00-17:00: the whole day
    assert date(2027, 9, 13) in days  # a yearly repeating event (RRULE)
    assert date(2027, 3, 17) not in days  # cancelled
    assert date(2027, 4, 14) in days  # the typed closure too
    assert not loaded.schedules["annex"].closes_on(date(2027, 3, 3))
    [krokusvakantie] = [
        c
        for c in upcoming_closures(loaded.schedules["library"], date(2027, 1, 1), 5)
        if c.first == date(2027, 2, 8)
    ]
    assert (krokusvakantie.last, krokusvakantie.name) == (date(2027, 2, 14), "Krokusvakantie")


def test_timed_events_can_be_left_out() -> None:
    calendar = {**ical_file(FIXTURES / "school-and-library.ics"), "timed_events": "ignore"}
    days = closed_days_in(load(config(site_calendars=[calendar])), "library", 2027)
    assert date(2027, 3, 10) not in days
    assert date(2027, 3, 3) in days


def test_a_broken_ical_file_names_its_key() -> None:
    found = problems(config(site_calendars=[ical_file(FIXTURES / "broken.ics")]))
    assert len(found) == 1
    key, message = found[0]
    assert key == "sites[0].calendars[0].path"
    assert message.startswith(f"{FIXTURES / 'broken.ics'}: not an iCal calendar:")


def test_a_missing_ical_file_names_its_key(tmp_path: Path) -> None:
    found = problems(config(site_calendars=[ical_file(tmp_path / "nowhere.ics")]))
    assert found == [
        (
            "sites[0].calendars[0].path",
            f"{tmp_path / 'nowhere.ics'}: cannot read: No such file or directory",
        )
    ]


def test_an_html_page_is_no_calendar(tmp_path: Path) -> None:
    page = tmp_path / "page.ics"
    page.write_text("<html><body>Not found</body></html>\n")
    [(key, message)] = problems(config(site_calendars=[ical_file(page)]))
    assert key == "sites[0].calendars[0].path"
    assert "not an iCal calendar" in message


def test_a_file_broken_after_loading_keeps_its_closures(tmp_path: Path) -> None:
    feed = tmp_path / "library.ics"
    feed.write_bytes((FIXTURES / "school-and-library.ics").read_bytes())
    loaded = load(config(site_calendars=[ical_file(feed)]))
    [calendar] = loaded.calendars
    feed.write_bytes((FIXTURES / "broken.ics").read_bytes())
    assert asyncio.run(calendar.refresh()) is False
    assert calendar.status.failure == "invalid"
    assert loaded.schedules["library"].closes_on(date(2027, 3, 3))


# -- check-config and the demo -----------------------------------------------------------


def ocrfleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrfleet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("OCRFLEET_")},
    )


def toml_config(tmp_path: Path, site_calendar: str) -> Path:
    path = tmp_path / "ocrfleet.toml"
    path.write_text(
        f"""
[municipality]
name = "Vlaminggem"
adult_population = 11793
language = "nl"

[[municipality.calendars]]
type = "public_holidays"
country = "BE"

[[sites]]
id = "library"
name = "Hoofdbibliotheek"
village_core = "Vlaminggem"
opening_hours = {{ mon = "09:00-17:00" }}

{site_calendar}

[[sites]]
id = "annex"
name = "Buurthuis"
village_core = "Overbrugge"
language = "en"

[store]
path = "{tmp_path / "store.sqlite"}"
""",
        encoding="utf-8",
    )
    return path


def test_check_config_shows_the_next_closures(tmp_path: Path) -> None:
    # Dated from today, as check-config lists from today on.
    soon = date.today() + timedelta(days=2)
    feed = tmp_path / "library.ics"
    feed.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//NL\r\nBEGIN:VEVENT\r\n"
        f"UID:soon@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{soon:%Y%m%d}\r\n"
        "SUMMARY:Gesloten wegens inventaris\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    site_calendar = f'[[sites.calendars]]\ntype = "ical"\nname = "own"\npath = "{feed}"'
    result = ocrfleet("check-config", "-c", str(toml_config(tmp_path, site_calendar)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "  municipality/public_holidays (public_holidays): " in out
    assert "  library/own (ical): 1 closures known" in out
    library = out.split("  library:\n", 1)[1].split("  annex:", 1)[0]
    lines = [line for line in library.splitlines() if line.startswith("    ")]
    assert 1 <= len(lines) <= 5
    assert any("Gesloten wegens inventaris" in line and "(library/own)" in line for line in lines)
    # The library reads Dutch, the annex English: the holidays' names follow.
    annex = out.split("  annex:\n", 1)[1]
    annex_lines = [line for line in annex.splitlines() if line.startswith("    ")][:5]
    assert len(annex_lines) == 5
    assert all(line.endswith("(municipality/public_holidays)") for line in annex_lines)
    assert "Gesloten wegens inventaris" not in annex


def test_check_config_refuses_a_broken_ical_file(tmp_path: Path) -> None:
    broken = FIXTURES / "broken.ics"
    site_calendar = f'[[sites.calendars]]\ntype = "ical"\npath = "{broken}"'
    result = ocrfleet("check-config", "-c", str(toml_config(tmp_path, site_calendar)))
    assert result.returncode == 1
    assert f"  sites[0].calendars[0].path: {broken}: not an iCal calendar: " in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_closes_on_belgian_public_holidays() -> None:
    data = demo_config(
        1883,
        0,
        Path("unused.sqlite"),
        snmp_port=None,
        kinds=PLUGINS.kinds,
        calendar_types=PLUGINS.calendar_types,
    )
    assert data["municipality"]["calendars"] == [{"type": "public_holidays", "country": "BE"}]
    loaded = load(data)
    assert all(s.closes_on(date(2027, 3, 29)) for s in loaded.schedules.values())
    # Offline: a computed calendar, nothing fetched.
    assert [c.type_name for c in loaded.calendars] == ["public_holidays"]


def test_next_closures_are_said_in_the_sites_words() -> None:
    loaded = load(config([{"type": "public_holidays", "country": "BE"}]))
    speaker = Speaker(PLUGINS.catalogs(), "nl", BRUSSELS)
    [typed] = [
        c
        for c in upcoming_closures(loaded.schedules["library"], date(2027, 4, 1), 5, "nl")
        if c.source == "config"
    ]
    assert (typed.first, typed.name) == (date(2027, 4, 14), "")
    assert speaker.day(typed.first, weekday=True) == "wo 14 apr 2027"
    # As check-config and norms print them, in the site's Dutch.
    april = datetime(2027, 4, 1, 12, tzinfo=BRUSSELS).timestamp()
    lines = next_closure_lines(loaded, PLUGINS.catalogs(), april)
    library = lines[lines.index("  library:") + 1 :]
    assert any(line.startswith("    wo 14 apr 2027") and "gesloten" in line for line in library)


# -- a calendar type of another plugin -------------------------------------------------


class _FixedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    day: date
    broken: bool = False


class _FixedCalendar(Calendar):
    def __init__(self, options: _FixedOptions) -> None:
        self.options = options

    def read(self, today: date) -> list[ClosedPeriod]:
        if self.options.broken:
            raise RuntimeError("a bug in the plugin")
        return [ClosedPeriod(self.options.day, self.options.day, "Jaarmarkt")]

    async def fetch(self, today: date) -> list[ClosedPeriod]:
        return self.read(today)


class _FixedType(CalendarType):
    name = "fixed"
    options_model = _FixedOptions

    def open(self, options: BaseModel, context: CalendarContext) -> Calendar:
        assert isinstance(options, _FixedOptions)
        return _FixedCalendar(options)


class _FixedPlugin:
    @hookimpl
    def ocrfleet_calendar_types(self) -> list[CalendarType]:
        return [_FixedType()]


def test_another_plugin_s_calendar_type_closes_sites() -> None:
    plugins = catalog(_FixedPlugin())
    book = CalendarBook(plugins.calendar_types, lambda: TODAY)
    calendar = {"type": "fixed", "day": "2027-10-04"}
    loaded = load_config(config(site_calendars=[calendar]), plugins.kinds, calendars=book)
    assert loaded.schedules["library"].closes_on(date(2027, 10, 4))
    assert not loaded.schedules["annex"].closes_on(date(2027, 10, 4))
    # A bug in its read() is a problem of that calendar, not a traceback.
    broken = {**calendar, "broken": True}
    with pytest.raises(ConfigError) as caught:
        load_config(config(site_calendars=[broken]), plugins.kinds, calendars=book)
    [(key, message)] = caught.value.problems
    assert key == "sites[0].calendars[0]"
    assert "'fixed' failed to read it: RuntimeError('a bug in the plugin')" in message


def _feed(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def _repeating(uid: str, rule: str) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:Closed {uid}\r\n"
        "DTSTART;VALUE=DATE:20260105\r\nDTEND;VALUE=DATE:20260106\r\n"
        f"RRULE:{rule}\r\nEND:VEVENT\r\n"
    )


@pytest.mark.parametrize("frequency", ["SECONDLY", "MINUTELY", "HOURLY"])
def test_a_feed_repeating_more_often_than_daily_is_refused_before_it_is_expanded(
    frequency: str,
) -> None:
    # Expanded, FREQ=SECONDLY would be tens of millions of occurrences.
    feed = _feed(_repeating("spam", f"FREQ={frequency}"))
    with pytest.raises(CalendarError) as raised:
        parse_feed(feed, date(2026, 12, 6), "Europe/Brussels")
    assert raised.value.reason == "invalid"
    assert f"repeats {frequency}" in raised.value.message


def test_weekly_closing_days_are_read_and_too_many_repeating_events_are_refused() -> None:
    sundays = parse_feed(
        _feed(_repeating("sunday", "FREQ=WEEKLY;BYDAY=SU")), date(2026, 12, 6), "Europe/Brussels"
    )
    assert len(sundays) > 50
    many = _feed(*(_repeating(f"e{n}", "FREQ=YEARLY") for n in range(101)))
    with pytest.raises(CalendarError) as raised:
        parse_feed(many, date(2026, 12, 6), "Europe/Brussels")
    assert "101 repeating events (at most 100)" in raised.value.message
