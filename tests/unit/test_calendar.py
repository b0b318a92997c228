"""The business calendar: statutory working days in Shanghai, make-up days, and the Mon-Fri fallback."""

from datetime import UTC, date, datetime, timedelta

import pytest
from aftersales.domain.calendar import SHANGHAI, add_working_days, add_working_hours, is_working_day
from hypothesis import given, settings
from hypothesis import strategies as st


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- is_working_day, checked against the chinese_calendar data for 2026 ---


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_week_is_off(day: int) -> None:
    assert is_working_day(date(2026, 10, day)) == (False, False)


def test_the_day_after_national_day_week_is_a_working_day() -> None:
    assert is_working_day(date(2026, 10, 8)) == (True, False)


def test_make_up_saturday_counts_as_a_working_day() -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10)) == (True, False)


def test_make_up_sunday_counts_as_a_working_day() -> None:
    assert is_working_day(date(2026, 9, 20)) == (True, False)


def test_ordinary_weekend_is_off() -> None:
    assert is_working_day(date(2026, 10, 11)) == (False, False)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 1, 1), True),  # a holiday in reality, but the fallback only knows Mon-Fri
        (date(2027, 1, 2), False),
        (date(2027, 1, 4), True),
        (date(2003, 6, 7), False),
    ],
)
def test_years_without_data_fall_back_to_monday_to_friday_and_say_so(day: date, working: bool) -> None:
    assert is_working_day(day) == (working, True)


def test_a_datetime_is_refused_because_its_local_date_is_ambiguous() -> None:
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 10, 10, 12, tzinfo=UTC))


# --- add_working_days ---


def test_working_days_skip_the_national_day_week() -> None:
    result = add_working_days(local(2026, 9, 30, 10, 0), 1)
    assert result.at == local(2026, 10, 8, 10, 0)
    assert result.fallback_used is False


def test_working_days_count_the_make_up_saturday() -> None:
    assert add_working_days(local(2026, 9, 30, 10, 0), 3).at == local(2026, 10, 10, 10, 0)
    assert add_working_days(local(2026, 9, 30, 10, 0), 4).at == local(2026, 10, 12, 10, 0)


def test_a_start_on_a_holiday_starts_the_clock_at_midnight_of_the_next_working_day() -> None:
    assert add_working_days(local(2026, 10, 3, 15, 30), 0).at == local(2026, 10, 8, 0, 0)
    assert add_working_days(local(2026, 10, 3, 15, 30), 2).at == local(2026, 10, 10, 0, 0)


def test_the_local_date_decides_not_the_utc_date() -> None:
    # 20:00 UTC on 30 Sep is already 04:00 on 1 Oct in Shanghai: a holiday.
    result = add_working_days(datetime(2026, 9, 30, 20, 0, tzinfo=UTC), 0)
    assert result.at == local(2026, 10, 8, 0, 0)


def test_result_is_aware_utc() -> None:
    result = add_working_days(local(2026, 11, 2, 10, 0), 2)
    assert result.at.tzinfo is UTC
    assert result.at == datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


def test_crossing_into_a_year_without_data_uses_and_reports_the_fallback() -> None:
    result = add_working_days(local(2026, 12, 30, 9, 0), 3)
    assert result.at == local(2027, 1, 4, 9, 0)  # 31 Dec, 1 Jan (a weekday to the fallback), 4 Jan
    assert result.fallback_used is True


def test_staying_inside_known_years_reports_no_fallback() -> None:
    assert add_working_days(local(2026, 12, 30, 9, 0), 1).fallback_used is False


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
    assert result.fallback_used is False


def test_working_hours_from_a_holiday_start_at_the_next_working_midnight() -> None:
    assert add_working_hours(local(2026, 10, 5, 12, 0), 24).at == local(2026, 10, 9, 0, 0)


def test_working_hours_within_one_working_day_are_clock_hours() -> None:
    assert add_working_hours(local(2026, 11, 2, 10, 0), 3).at == local(2026, 11, 2, 13, 0)


def test_working_hours_report_the_fallback() -> None:
    assert add_working_hours(local(2026, 12, 31, 20, 0), 8).fallback_used is True


# --- properties ---

starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2028, 12, 31, 23, 59), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=30))
def test_adding_working_days_always_lands_on_a_working_day(start: datetime, days: int) -> None:
    result = add_working_days(start, days)
    local_day = result.at.astimezone(SHANGHAI).date()
    assert is_working_day(local_day)[0]
    assert result.at >= start
    assert add_working_days(start, days + 1).at > result.at


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=30))
def test_a_working_day_start_keeps_its_local_time_of_day(start: datetime, days: int) -> None:
    local_start = start.astimezone(SHANGHAI)
    result = add_working_days(start, days).at.astimezone(SHANGHAI)
    if is_working_day(local_start.date())[0]:
        assert result.time() == local_start.time()
    else:
        assert result.time() == datetime.min.time()


@settings(max_examples=200, deadline=None)
@given(start=starts, hours=st.integers(min_value=0, max_value=24 * 12))
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
