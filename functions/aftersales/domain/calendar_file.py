"""A year's calendar file: the State Council's holiday notice transcribed, for a year ``chinesecalendar``
does not cover yet (``aftersales/calendars/<year>.yaml`` or ``.json``).

The file says which notice it transcribes and lists the holiday periods (every day off, weekends inside
them included) and the make-up working days (调休上班, always a Saturday or a Sunday)::

    year: 2026
    notice: 国务院办公厅关于2026年部分节假日安排的通知
    published: 2025-11-04
    url: https://www.gov.cn/...            # optional
    holidays:
      - {name: 元旦, first: 2026-01-01, last: 2026-01-03}
    working_days: [2026-01-04]

``validate_calendar_data`` lists every problem at once so ops can fix a file in one go;
``aftersales ops calendar validate FILE`` runs it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .calendar import CalendarLayer, YearCalendar
from .errors import DomainError


class CalendarFileError(DomainError):
    """An invalid calendar file; ``problems`` lists each one in plain words."""

    code = "invalid_calendar_file"

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message, details={"problems": problems})
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use


class HolidayPeriod(_Strict):
    name: Annotated[str, Field(min_length=1)]
    first: date
    last: date

    def days(self) -> list[date]:
        count = (self.last - self.first).days + 1
        return [self.first + timedelta(days=n) for n in range(max(count, 0))]


class CalendarNotice(_Strict):
    year: Annotated[int, Field(ge=2000, le=2200)]
    notice: Annotated[str, Field(min_length=1)]  # the notice's title (and number when it has one)
    published: date
    url: str | None = None
    holidays: Annotated[list[HolidayPeriod], Field(min_length=1)]
    working_days: list[date] = []


def _problems(notice: CalendarNotice) -> list[str]:
    problems, seen = _holiday_problems(notice)
    problems += _working_day_problems(notice, seen)
    if notice.published.year > notice.year:
        problems.append(f"published: {notice.published} is after the year the notice is for")
    return problems


def _holiday_problems(notice: CalendarNotice) -> tuple[list[str], dict[date, str]]:
    """Problems of the days off, and which holiday each day off belongs to."""
    problems: list[str] = []
    seen: dict[date, str] = {}
    for period in notice.holidays:
        if period.last < period.first:
            problems.append(f"{period.name}: last day {period.last} is before first day {period.first}")
        for day in period.days():
            if day.year != notice.year:
                problems.append(f"{period.name}: {day} is not in {notice.year}")
            if day in seen:
                problems.append(f"{period.name}: {day} is already a day off of {seen[day]}")
            seen.setdefault(day, period.name)
    return problems, seen


def _working_day_problems(notice: CalendarNotice, seen: dict[date, str]) -> list[str]:
    problems: list[str] = []
    if len(set(notice.working_days)) != len(notice.working_days):
        problems.append("working_days: a day is listed twice")
    for day in notice.working_days:
        if day.year != notice.year:
            problems.append(f"working_days: {day} is not in {notice.year}")
        if day.weekday() < 5:
            problems.append(f"working_days: {day} is a {day:%A}; make-up working days are weekend days")
        if day in seen:
            problems.append(f"working_days: {day} is also a day off of {seen[day]}")
    return problems


def validate_calendar_data(data: Any, *, expected_year: int | None = None) -> YearCalendar:
    """The year calendar a file's data describes, or ``CalendarFileError`` with every problem."""
    if not isinstance(data, Mapping):
        raise CalendarFileError("a calendar file must be a mapping", ["the file is not a mapping"])
    try:
        notice = CalendarNotice.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()]
        raise CalendarFileError(f"invalid calendar file: {len(problems)} problem(s)", problems) from exc
    problems = _problems(notice)
    if expected_year is not None and notice.year != expected_year:
        problems.append(f"year: the file says {notice.year} but is named for {expected_year}")
    if problems:
        raise CalendarFileError(f"invalid calendar file: {len(problems)} problem(s)", problems)
    days_off = frozenset(day for period in notice.holidays for day in period.days())
    source = f"{notice.notice} ({notice.published.isoformat()})"
    return YearCalendar(notice.year, CalendarLayer.FILE, days_off, frozenset(notice.working_days), source)


def read_calendar_data(path: Path) -> Any:
    """A calendar file's content, YAML or JSON by its suffix."""
    import yaml  # imported by the first read of a year file, if any, not at import

    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CalendarFileError(f"{path.name}: not valid {path.suffix[1:]}", [str(exc)]) from exc


def load_calendar_file(path: Path, *, expected_year: int | None = None) -> YearCalendar:
    return validate_calendar_data(read_calendar_data(path), expected_year=expected_year)
