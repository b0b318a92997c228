"""The business calendar: mainland-China statutory working days, in Asia/Shanghai time (POLICY §4).

Make-up working days (调休) count as working days. The calendar of a year comes from the first layer
that knows it (``CalendarLayer``, most trusted first):

1. ``library``: the ``chinesecalendar`` package, which ships the State Council's notices;
2. ``file``: a calendar file of the project, ``aftersales/calendars/<year>.yaml`` (or ``.json``), the
   year's notice transcribed by ops when it is published and the library has not caught up;
3. ``provisional``: the statutory holiday dates the ``holidays`` package computes for any year (fixed
   and lunar days, with the day off in lieu of one falling on a weekend), without the make-up working
   days and bridging days off that only the notice sets;
4. ``weekdays``: Monday-Friday, the last resort.

Every computed instant says the least trusted layer any day on the way needed, so a deadline can
record it and the service can warn; the calendar never fails on a date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
_WORKING_DAY = timedelta(hours=24)

# Where ops drop a year's calendar file (see ``calendar_file``); shipped with the code.
CALENDAR_DIR = Path(__file__).resolve().parent.parent / "calendars"


class CalendarLayer(StrEnum):
    """Where a year's working days came from, most trusted first."""

    LIBRARY = "library"
    FILE = "file"
    PROVISIONAL = "provisional"
    WEEKDAYS = "weekdays"

    @property
    def official(self) -> bool:
        """Built from the State Council's notice (make-up working days included)."""
        return self in (CalendarLayer.LIBRARY, CalendarLayer.FILE)

    @property
    def rank(self) -> int:
        return list(CalendarLayer).index(self)

    def worst(self, other: CalendarLayer) -> CalendarLayer:
        return self if self.rank >= other.rank else other

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    CalendarLayer.LIBRARY: "official calendar (chinesecalendar)",
    CalendarLayer.FILE: "official calendar (project calendar file)",
    CalendarLayer.PROVISIONAL: "provisional calendar (statutory holidays only, no make-up working days)",
    CalendarLayer.WEEKDAYS: "Monday-Friday fallback (no holiday data for the year)",
}


@dataclass(frozen=True)
class YearCalendar:
    """One year's working days: weekdays work unless listed off, weekends rest unless listed working."""

    year: int
    layer: CalendarLayer
    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()  # make-up working days (Saturdays or Sundays)
    source: str = ""

    def is_working(self, day: date) -> bool:
        if day.year != self.year:
            raise ValueError(f"{day} is not in {self.year}")
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5


YearSource = Callable[[int], YearCalendar | None]


def library_year(year: int) -> YearCalendar | None:
    """The year as ``chinesecalendar`` knows it, or None when its data does not cover the year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    off = frozenset(d for d in chinese_calendar.constants.holidays if d.year == year)
    working = frozenset(d for d in chinese_calendar.constants.workdays if d.year == year)
    return YearCalendar(year, CalendarLayer.LIBRARY, off, working, "chinesecalendar")


def file_year(directory: Path) -> YearSource:
    """Years transcribed in ``directory`` as ``<year>.yaml`` or ``<year>.json`` (a missing one: None)."""

    def lookup(year: int) -> YearCalendar | None:
        from .calendar_file import load_calendar_file  # the file format lives beside its validator

        for suffix in (".yaml", ".yml", ".json"):
            path = directory / f"{year}{suffix}"
            if path.is_file():
                return load_calendar_file(path, expected_year=year)
        return None

    return lookup


def provisional_year(year: int) -> YearCalendar | None:
    """The statutory holiday dates of ``year`` from the ``holidays`` package, no make-up days."""
    import holidays  # only years past chinese_calendar's reach here: not imported at start-up

    try:
        dates = holidays.country_holidays("CN", years=year)
    except Exception:  # an unsupported year or a missing package: the next layer decides
        return None
    off = frozenset(d for d in dates if d.year == year)
    if not off:
        return None
    return YearCalendar(year, CalendarLayer.PROVISIONAL, off, frozenset(), "holidays (statutory dates)")


def weekdays_year(year: int) -> YearCalendar:
    return YearCalendar(year, CalendarLayer.WEEKDAYS, source="Monday-Friday")


class BusinessCalendar:
    """Working days by layers: the first source that knows a year wins; Monday-Friday otherwise.

    Each year is resolved once (sla_tick asks a lot), so a file added to a running process is seen
    by new processes; Lambda recycles them.
    """

    def __init__(self, sources: Sequence[YearSource]) -> None:
        self._sources = tuple(sources)
        self.year = cache(self._resolve)

    def _resolve(self, year: int) -> YearCalendar:
        for source in self._sources:
            found = source(year)
            if found is not None:
                return found
        return weekdays_year(year)

    def is_working_day(self, day: date) -> tuple[bool, CalendarLayer]:
        """``(working, layer)`` for a local (Shanghai) date."""
        if isinstance(day, datetime):
            raise TypeError("pass the local date, not a datetime: the Shanghai date decides")
        calendar = self.year(day.year)
        return calendar.is_working(day), calendar.layer


@cache
def default_calendar() -> BusinessCalendar:
    return BusinessCalendar([library_year, file_year(CALENDAR_DIR), provisional_year])


@dataclass(frozen=True)
class CalendarResult:
    """A computed instant (aware UTC) and the least trusted calendar layer any day on the way needed.

    ``layer`` is None for clock-time results, which need no calendar.
    """

    at: datetime
    layer: CalendarLayer | None

    @property
    def fallback_used(self) -> bool:
        """Monday-Friday stood in for a year nothing else knew."""
        return self.layer is CalendarLayer.WEEKDAYS


def is_working_day(day: date, calendar: BusinessCalendar | None = None) -> tuple[bool, CalendarLayer]:
    """``(working, layer)`` for a local (Shanghai) date, on ``calendar`` (the default layers)."""
    return (calendar or default_calendar()).is_working_day(day)


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")


def _to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


class _Walk:
    """Steps over local days, remembering the least trusted layer consulted."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.layer = CalendarLayer.LIBRARY

    def working(self, day: date) -> bool:
        working, layer = self.calendar.is_working_day(day)
        self.layer = self.layer.worst(layer)
        return working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.working(day):
            day += _ONE_DAY
        return day


def add_working_hours(
    start: datetime, hours: int, calendar: BusinessCalendar | None = None
) -> CalendarResult:
    """``start`` plus ``hours``, counting only the hours that fall on local working days.

    The clock starts at ``start`` on a working day, else at 00:00 of the next working day: the first
    working moment. A result that exhausts a working day exactly is that day's end (next midnight),
    not the next working morning: both are the same amount of working time, and the earlier is the
    honest deadline when a weekend or a holiday follows.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    return _add_working_time(start, timedelta(hours=hours), calendar or default_calendar())


def add_working_days(start: datetime, days: int, calendar: BusinessCalendar | None = None) -> CalendarResult:
    """``days`` whole working days (24 working hours each) after the first working moment from ``start``.

    From a working day this is the same local time on the ``days``-th next working day; from a day off
    (a weekend, a holiday, any hour of it) the count starts at the next working day's 00:00, so the
    deadline is the end of the ``days``-th working day, never a weekend or a holiday week later.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    return _add_working_time(start, days * _WORKING_DAY, calendar or default_calendar())


def _add_working_time(start: datetime, amount: timedelta, calendar: BusinessCalendar) -> CalendarResult:
    _require_aware(start)
    walk = _Walk(calendar)
    # Naive local wall time from here on: Shanghai has had no DST since 1991.
    cursor = start.astimezone(SHANGHAI).replace(tzinfo=None)
    if not walk.working(cursor.date()):
        cursor = datetime.combine(walk.next_working_day(cursor.date()), time(0))
    remaining = amount
    while True:
        day_end = datetime.combine(cursor.date() + _ONE_DAY, time(0))
        if cursor + remaining <= day_end:
            return CalendarResult(_to_utc(cursor + remaining), walk.layer)
        remaining -= day_end - cursor
        cursor = datetime.combine(walk.next_working_day(cursor.date()), time(0))
