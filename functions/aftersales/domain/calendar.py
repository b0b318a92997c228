"""The business calendar: mainland-China statutory working days, in Asia/Shanghai time (POLICY §4).

Make-up working days (调休) count as working days. For a year the calendar data does not cover, the
calendar falls back to Monday-Friday and says so, so the claim can record it; it never fails on a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CalendarResult:
    """A computed instant (aware UTC) and whether any day on the way needed the Mon-Fri fallback."""

    at: datetime
    fallback_used: bool


def is_working_day(day: date) -> tuple[bool, bool]:
    """``(working, fallback_used)`` for a local (Shanghai) date. Cached: sla_tick asks a lot."""
    if isinstance(day, datetime):
        raise TypeError("pass the local date, not a datetime: the Shanghai date decides")
    return _lookup(day)


@cache
def _lookup(day: date) -> tuple[bool, bool]:
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        # The statutory calendar is published year by year; Mon-Fri is the documented stand-in.
        return day.weekday() < 5, True


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")


def _to_utc(local_day: date, local_time: time) -> datetime:
    return datetime.combine(local_day, local_time, tzinfo=SHANGHAI).astimezone(UTC)


def _next_working_day(day: date) -> tuple[date, bool]:
    """The first working day strictly after ``day``, and whether the fallback was consulted."""
    fallback = False
    while True:
        day += _ONE_DAY
        working, used = is_working_day(day)
        fallback = fallback or used
        if working:
            return day, fallback


def _clock_start(start: datetime) -> tuple[date, time, bool]:
    """Where the working clock starts: ``start`` itself on a working day, else 00:00 of the next one."""
    _require_aware(start)
    local = start.astimezone(SHANGHAI)
    working, fallback = is_working_day(local.date())
    if working:
        return local.date(), local.time(), fallback
    day, used = _next_working_day(local.date())
    return day, time(0), fallback or used


def add_working_days(start: datetime, days: int) -> CalendarResult:
    """Same local time of day on the ``days``-th next working day; always lands on a working day."""
    if days < 0:
        raise ValueError("days must not be negative")
    day, local_time, fallback = _clock_start(start)
    for _ in range(days):
        day, used = _next_working_day(day)
        fallback = fallback or used
    return CalendarResult(_to_utc(day, local_time), fallback)


def add_working_hours(start: datetime, hours: int) -> CalendarResult:
    """``start`` plus ``hours``, counting only the hours that fall on local working days.

    A result that exhausts a working day exactly is that day's end (next midnight), not the next
    working morning: both are the same amount of working time.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    day, local_time, fallback = _clock_start(start)
    remaining = timedelta(hours=hours)
    cursor = datetime.combine(day, local_time)  # naive local wall time; Shanghai has no DST
    while True:
        day_end = datetime.combine(cursor.date() + _ONE_DAY, time(0))
        if cursor + remaining <= day_end:
            end = cursor + remaining
            return CalendarResult(_to_utc(end.date(), end.time()), fallback)
        remaining -= day_end - cursor
        next_day, used = _next_working_day(cursor.date())
        fallback = fallback or used
        cursor = datetime.combine(next_day, time(0))
