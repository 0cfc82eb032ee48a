"""SiteSchedule.next_opening / next_closing: when a site opens or closes next, in its own time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """A moment by its Brussels wall time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BRUSSELS).timestamp()


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def schedule(closed: frozenset[date] = frozenset(), **days: list[str]) -> SiteSchedule:
    return SiteSchedule(OpeningHours.model_validate(days), "Europe/Brussels", closed)


# 5 December 2026 is a Saturday, 7 December a Monday.
WEEK = schedule(
    mon=["09:00-12:00", "13:30-17:00"],
    tue=["09:00-12:00", "13:30-17:00"],
    sat=["09:00-12:00"],
)


def test_saturday_before_opening() -> None:
    assert WEEK.next_opening(at(2026, 12, 5, 8)) == at(2026, 12, 5, 9)
    assert WEEK.next_closing(at(2026, 12, 5, 8)) is None


def test_open_now_opens_now_and_closes_at_the_end_of_its_range() -> None:
    assert WEEK.next_opening(at(2026, 12, 5, 10)) == at(2026, 12, 5, 10)
    assert WEEK.next_closing(at(2026, 12, 5, 10)) == at(2026, 12, 5, 12)
    # The opening minute itself is open; the closing minute is not.
    assert WEEK.next_closing(at(2026, 12, 5, 9)) == at(2026, 12, 5, 12)
    assert WEEK.next_opening(at(2026, 12, 5, 12)) == at(2026, 12, 7, 9)


def test_between_two_ranges_the_same_day() -> None:
    assert WEEK.next_opening(at(2026, 12, 7, 12, 15)) == at(2026, 12, 7, 13, 30)
    assert WEEK.next_closing(at(2026, 12, 7, 11)) == at(2026, 12, 7, 12)
    assert WEEK.next_closing(at(2026, 12, 7, 14)) == at(2026, 12, 7, 17)
    # After the last range of the day: the next day's first.
    assert WEEK.next_opening(at(2026, 12, 7, 17)) == at(2026, 12, 8, 9)


def test_ranges_that_meet_are_one_opening() -> None:
    split = schedule(mon=["09:00-12:00", "12:00-17:00"])
    assert split.next_closing(at(2026, 12, 7, 10)) == at(2026, 12, 7, 17)


def test_a_closed_day_is_skipped() -> None:
    closed = SiteSchedule(WEEK.opening_hours, closed_days=frozenset({date(2026, 12, 7)}))
    # Sunday evening: Monday is a closure, so Tuesday.
    assert closed.next_opening(at(2026, 12, 6, 20)) == at(2026, 12, 8, 9)
    # During Monday's hours, closed all the same.
    assert closed.next_opening(at(2026, 12, 7, 10)) == at(2026, 12, 8, 9)
    assert closed.next_closing(at(2026, 12, 7, 10)) is None


def test_dst_starts_in_brussels() -> None:
    # 29 March 2026: clocks go from 02:00 CET to 03:00 CEST.
    sunday = schedule(sun=["09:00-17:00"])
    saturday_evening = at(2026, 3, 28, 18)
    assert saturday_evening == utc(2026, 3, 28, 17)
    assert sunday.next_opening(saturday_evening) == utc(2026, 3, 29, 7)  # 09:00 CEST
    assert sunday.next_closing(utc(2026, 3, 29, 8)) == utc(2026, 3, 29, 15)  # 17:00 CEST


def test_dst_ends_in_brussels() -> None:
    # 25 October 2026: clocks go from 03:00 CEST back to 02:00 CET; the day has 25 hours.
    sunday = schedule(sun=["00:00-09:00"])
    assert sunday.next_closing(utc(2026, 10, 24, 22, 30)) == utc(2026, 10, 25, 8)  # 09:00 CET


def test_an_opening_in_the_spring_forward_gap_is_when_the_clock_jumps_past_it() -> None:
    # 02:30 never shows on 29 March 2026: at 01:00 UTC the clock jumps from 02:00 to 03:00.
    night = schedule(sun=["02:30-05:00"])
    opens = night.next_opening(at(2026, 3, 29, 0))
    assert opens == utc(2026, 3, 29, 1)
    assert night.is_open(opens)
    assert not night.is_open(opens - 1)


def test_a_range_ending_at_midnight() -> None:
    evening = schedule(fri=["18:00-24:00"])
    assert evening.next_closing(at(2026, 12, 4, 23, 59, 59)) == at(2026, 12, 5)
    assert evening.next_opening(at(2026, 12, 5, 0)) == at(2026, 12, 11, 18)


def test_open_past_midnight_closes_the_next_day() -> None:
    late = schedule(fri=["18:00-24:00"], sat=["00:00-02:00", "09:00-12:00"])
    assert late.next_closing(at(2026, 12, 4, 20)) == at(2026, 12, 5, 2)


def test_never_open() -> None:
    never = schedule()
    assert never.next_opening(at(2026, 12, 5, 8)) is None
    assert never.next_closing(at(2026, 12, 5, 8)) is None


def test_closed_beyond_the_lookahead() -> None:
    year = frozenset(date.fromordinal(date(2026, 1, 1).toordinal() + n) for n in range(366))
    assert schedule(year, mon=["09:00-17:00"]).next_opening(at(2026, 1, 1)) is None


def test_always_open_never_closes() -> None:
    day = ["00:00-24:00"]
    always = schedule(mon=day, tue=day, wed=day, thu=day, fri=day, sat=day, sun=day)
    assert always.next_opening(at(2026, 12, 5, 3)) == at(2026, 12, 5, 3)
    assert always.next_closing(at(2026, 12, 5, 3)) is None


MIXED = schedule(
    frozenset({date(2026, 3, 30), date(2026, 10, 26), date(2026, 12, 25)}),
    mon=["09:00-12:00", "12:00-17:00"],
    tue=["18:00-24:00"],
    wed=["00:00-02:00", "13:30-17:00"],
    sat=["09:00-12:00"],
    sun=["10:00-11:00"],
)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=at(2026, 1, 1), max_value=at(2027, 1, 1)))
def test_next_opening_and_closing_agree_with_is_open(t: float) -> None:
    # Across a year with both DST changes: what is_open says, second by second.
    t = float(int(t))
    opens = MIXED.next_opening(t)
    assert opens is not None
    assert MIXED.is_open(opens)
    if opens == t:
        assert MIXED.is_open(t)
    else:
        assert not MIXED.is_open(t)
        assert not MIXED.is_open(opens - 1)
    closes = MIXED.next_closing(opens)
    assert closes is not None and closes > opens
    assert MIXED.is_open(closes - 1)
    assert not MIXED.is_open(closes)
    assert MIXED.next_closing(t) == (closes if opens == t else None)
