"""The business calendar: statutory working days in Shanghai, make-up days, and how a count starts."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from aftersales.domain.calendar import (
    SHANGHAI,
    BusinessCalendar,
    CalendarLayer,
    add_working_days,
    add_working_hours,
    is_working_day,
)
from hypothesis import given, settings
from hypothesis import strategies as st

LIBRARY = CalendarLayer.LIBRARY


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- is_working_day, checked against the 2026 notice ---


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_week_is_off(day: int) -> None:
    assert is_working_day(date(2026, 10, day)) == (False, LIBRARY)


def test_the_day_after_national_day_week_is_a_working_day() -> None:
    assert is_working_day(date(2026, 10, 8)) == (True, LIBRARY)


def test_make_up_saturday_counts_as_a_working_day() -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10)) == (True, LIBRARY)


def test_make_up_sunday_counts_as_a_working_day() -> None:
    assert is_working_day(date(2026, 9, 20)) == (True, LIBRARY)


def test_ordinary_weekend_is_off() -> None:
    assert is_working_day(date(2026, 10, 11)) == (False, LIBRARY)


def test_a_datetime_is_refused_because_its_local_date_is_ambiguous() -> None:
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 10, 10, 12, tzinfo=UTC))


# --- add_working_days: examples ---


def test_working_days_skip_the_national_day_week() -> None:
    result = add_working_days(local(2026, 9, 30, 10, 0), 1)
    assert result.at == local(2026, 10, 8, 10, 0)
    assert result.layer is LIBRARY
    assert result.fallback_used is False


def test_working_days_count_the_make_up_saturday() -> None:
    assert add_working_days(local(2026, 9, 30, 10, 0), 3).at == local(2026, 10, 10, 10, 0)
    assert add_working_days(local(2026, 9, 30, 10, 0), 4).at == local(2026, 10, 12, 10, 0)


def test_a_start_on_a_holiday_starts_the_clock_at_midnight_of_the_next_working_day() -> None:
    assert add_working_days(local(2026, 10, 3, 15, 30), 0).at == local(2026, 10, 8, 0, 0)
    assert add_working_days(local(2026, 10, 3, 15, 30), 2).at == local(2026, 10, 10, 0, 0)


def test_a_count_from_a_day_off_ends_with_its_last_working_day_not_after_the_next_holiday() -> None:
    # Approved on Saturday 26 Sep (Mid-Autumn): the 3 working days are 28, 29 and 30 Sep, so the
    # deadline is the end of 30 Sep, not 8 Oct after the National Day week.
    assert add_working_days(local(2026, 9, 26, 11, 0), 3).at == local(2026, 10, 1, 0, 0)


def test_a_count_from_a_sunday_ends_on_friday_night_not_on_monday() -> None:
    assert add_working_days(local(2026, 11, 1, 9, 0), 5).at == local(2026, 11, 7, 0, 0)


def test_a_count_from_a_working_midnight_ends_at_the_end_of_the_last_working_day() -> None:
    # 00:00 on Friday 6 Nov: that whole Friday is the one working day, due at its end.
    assert add_working_days(local(2026, 11, 6, 0, 0), 1).at == local(2026, 11, 7, 0, 0)


def test_a_start_at_23_59_keeps_its_minute() -> None:
    assert add_working_days(local(2026, 11, 5, 23, 59), 1).at == local(2026, 11, 6, 23, 59)
    assert add_working_days(local(2026, 11, 6, 23, 59), 1).at == local(2026, 11, 9, 23, 59)


def test_the_local_date_decides_not_the_utc_date() -> None:
    # 16:30 UTC on 30 Sep is already 00:30 on 1 Oct in Shanghai: a holiday.
    assert add_working_days(datetime(2026, 9, 30, 16, 30, tzinfo=UTC), 1).at == local(2026, 10, 9, 0, 0)
    # 15:59 UTC is still 23:59 on the working 30 Sep.
    assert add_working_days(datetime(2026, 9, 30, 15, 59, tzinfo=UTC), 1).at == local(2026, 10, 8, 23, 59)


def test_result_is_aware_utc() -> None:
    result = add_working_days(local(2026, 11, 2, 10, 0), 2)
    assert result.at.tzinfo is UTC
    assert result.at == datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 11, 2, 10, 0), 1)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(local(2026, 11, 2, 10, 0), -1)


# --- add_working_hours ---


def test_working_hours_skip_non_working_days() -> None:
    # 4 h left on 30 Sep, then the holiday week, then 6 h on 8 Oct.
    result = add_working_hours(local(2026, 9, 30, 20, 0), 10)
    assert result.at == local(2026, 10, 8, 6, 0)
    assert result.layer is LIBRARY


def test_working_hours_from_a_holiday_start_at_the_next_working_midnight() -> None:
    assert add_working_hours(local(2026, 10, 5, 12, 0), 24).at == local(2026, 10, 9, 0, 0)


def test_working_hours_within_one_working_day_are_clock_hours() -> None:
    assert add_working_hours(local(2026, 11, 2, 10, 0), 3).at == local(2026, 11, 2, 13, 0)


# --- properties against a plain reference ---

WEEKDAYS_ONLY = BusinessCalendar([])


def working_dates_from(day: date, calendar: BusinessCalendar | None, count: int) -> list[date]:
    """The first ``count`` working dates on or after ``day``, one day at a time."""
    found: list[date] = []
    while len(found) < count:
        if is_working_day(day, calendar)[0]:
            found.append(day)
        day += timedelta(days=1)
    return found


def reference_due(start: datetime, days: int, calendar: BusinessCalendar | None = None) -> datetime:
    """The rule in words: from a working day keep the time of day and land on the ``days``-th next
    working day (a 00:00 start has the whole start day as its first day, so it ends at the end of the
    last one); from a day off the first working day is day 1 and the deadline is the end of day ``days``.
    """
    begin = start.astimezone(SHANGHAI)
    working = working_dates_from(begin.date(), calendar, days + 1)
    midnight = time(0)
    if working[0] == begin.date():
        if days == 0:
            return begin.astimezone(UTC)
        if begin.time() == midnight:
            end_day = working[days - 1] + timedelta(days=1)
            return datetime.combine(end_day, midnight, SHANGHAI).astimezone(UTC)
        return datetime.combine(working[days], begin.timetz()).astimezone(UTC)
    if days == 0:
        return datetime.combine(working[0], midnight, SHANGHAI).astimezone(UTC)
    return datetime.combine(working[days - 1] + timedelta(days=1), midnight, SHANGHAI).astimezone(UTC)


YEAR_2026 = (datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59, 59))
any_instant = st.datetimes(min_value=YEAR_2026[0], max_value=YEAR_2026[1], timezones=st.just(UTC))
beijing_dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
beijing_midnight = beijing_dates.map(lambda d: datetime.combine(d, time(0), SHANGHAI))
beijing_23_59 = beijing_dates.map(lambda d: datetime.combine(d, time(23, 59), SHANGHAI))
# Beijing midnight is 16:00 UTC the day before: the two dates differ on either side of it.
around_utc_16 = beijing_dates.flatmap(
    lambda d: st.integers(-90, 90).map(lambda m: datetime.combine(d, time(16), UTC) + timedelta(minutes=m))
)
starts_2026 = st.one_of(any_instant, beijing_midnight, beijing_23_59, around_utc_16)


@settings(max_examples=400, deadline=None)
@given(start=starts_2026, days=st.integers(min_value=0, max_value=15))
def test_working_days_match_the_reference_for_every_kind_of_start(start: datetime, days: int) -> None:
    assert add_working_days(start, days).at == reference_due(start, days)


@settings(max_examples=200, deadline=None)
@given(start=starts_2026, days=st.integers(min_value=0, max_value=15))
def test_working_days_match_the_reference_on_monday_to_friday(start: datetime, days: int) -> None:
    assert add_working_days(start, days, WEEKDAYS_ONLY).at == reference_due(start, days, WEEKDAYS_ONLY)


@settings(max_examples=200, deadline=None)
@given(start=starts_2026, days=st.integers(min_value=0, max_value=15))
def test_a_working_day_is_24_working_hours(start: datetime, days: int) -> None:
    assert add_working_days(start, days) == add_working_hours(start, 24 * days)


@settings(max_examples=200, deadline=None)
@given(start=starts_2026, first=st.integers(0, 8), second=st.integers(1, 8))
def test_counting_in_two_steps_is_counting_once(start: datetime, first: int, second: int) -> None:
    # (A second step of 0 moves an end-of-Friday deadline to Monday 00:00: the same working time.)
    halfway = add_working_days(start, first).at
    assert add_working_days(halfway, second).at == add_working_days(start, first + second).at


@settings(max_examples=200, deadline=None)
@given(start=starts_2026, days=st.integers(min_value=1, max_value=15))
def test_a_deadline_ends_inside_or_at_the_end_of_a_working_day(start: datetime, days: int) -> None:
    due = add_working_days(start, days).at.astimezone(SHANGHAI)
    inside = is_working_day(due.date())[0] and due.time() != time(0)
    at_end = due.time() == time(0) and is_working_day(due.date() - timedelta(days=1))[0]
    assert inside or at_end
    assert due > start
    assert add_working_days(start, days + 1).at > due


@settings(max_examples=200, deadline=None)
@given(start=starts_2026, hours=st.integers(min_value=0, max_value=24 * 12))
def test_working_hours_count_exactly_the_requested_working_time(start: datetime, hours: int) -> None:
    result = add_working_hours(start, hours).at
    counted = timedelta(0)
    cursor = start.astimezone(SHANGHAI).replace(tzinfo=None)
    end = result.astimezone(SHANGHAI).replace(tzinfo=None)
    while cursor < end:
        step_end = min(end, datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time()))
        if is_working_day(cursor.date())[0]:
            counted += step_end - cursor
        cursor = step_end
    assert counted == timedelta(hours=hours)
