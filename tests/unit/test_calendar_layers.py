"""Calendar layers: the library, a project calendar file, the provisional statutory dates, Mon-Fri."""

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from aftersales.domain.calendar import (
    CALENDAR_DIR,
    SHANGHAI,
    BusinessCalendar,
    CalendarLayer,
    YearCalendar,
    add_working_days,
    default_calendar,
    file_year,
    is_working_day,
    library_year,
    provisional_year,
)
from aftersales.domain.calendar_file import CalendarFileError, load_calendar_file, validate_calendar_data
from aftersales.domain.deadlines import open_deadline
from aftersales.domain.policy import DeadlineKind
from aftersales.policies import default_policy

L = CalendarLayer
FIXTURES = Path(__file__).parent.parent / "fixtures" / "calendars"
NOTICE_2026 = FIXTURES / "2026.yaml"


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


# --- layer 1: the library ---


def test_the_library_knows_2026_and_not_2027() -> None:
    assert library_year(2026) is not None
    assert library_year(2027) is None


def test_the_default_calendar_uses_the_library_where_it_has_the_year() -> None:
    assert default_calendar().year(2026).layer is L.LIBRARY


# --- layer 2: a calendar file ---


def test_the_2026_notice_transcribed_matches_the_library_on_every_day() -> None:
    transcribed = load_calendar_file(NOTICE_2026, expected_year=2026)
    library = library_year(2026)
    assert library is not None
    assert transcribed.layer is L.FILE
    assert "2026年部分节假日安排" in transcribed.source
    assert [d for d in days_of(2026) if transcribed.is_working(d) != library.is_working(d)] == []


def test_a_file_serves_a_year_the_library_lacks() -> None:
    calendar = BusinessCalendar([file_year(FIXTURES), provisional_year])
    assert is_working_day(date(2026, 10, 10), calendar) == (True, L.FILE)  # make-up Saturday
    assert is_working_day(date(2026, 10, 6), calendar) == (False, L.FILE)  # bridging day off
    result = add_working_days(local(2026, 9, 30, 10), 1, calendar)
    assert (result.at, result.layer) == (local(2026, 10, 8, 10), L.FILE)


def test_the_library_wins_over_a_file_for_the_same_year() -> None:
    calendar = BusinessCalendar([library_year, file_year(FIXTURES)])
    assert calendar.year(2026).layer is L.LIBRARY


def test_json_files_are_read_too(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(NOTICE_2026.read_text(encoding="utf-8"))
    (tmp_path / "2026.json").write_text(json.dumps(data, default=str), encoding="utf-8")
    assert BusinessCalendar([file_year(tmp_path)]).year(2026) == load_calendar_file(NOTICE_2026)


def test_a_missing_file_leaves_the_year_to_the_next_layer(tmp_path: Path) -> None:
    assert BusinessCalendar([file_year(tmp_path), provisional_year]).year(2026).layer is L.PROVISIONAL


def test_a_file_named_for_another_year_is_refused(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(NOTICE_2026.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        file_year(tmp_path)(2027)
    assert any("named for 2027" in p for p in caught.value.problems)


def _notice(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "year": 2026,
        "notice": "国务院办公厅关于2026年部分节假日安排的通知",
        "published": "2025-11-04",
        "holidays": [{"name": "国庆节", "first": "2026-10-01", "last": "2026-10-07"}],
        "working_days": ["2026-09-20", "2026-10-10"],
    }
    return base | changes


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"working_days": ["2026-10-09"]}, "is a Friday"),
        ({"working_days": ["2026-10-03"]}, "also a day off"),
        ({"working_days": ["2026-10-10", "2026-10-10"]}, "listed twice"),
        ({"working_days": ["2027-01-09"]}, "not in 2026"),
        ({"holidays": [{"name": "x", "first": "2026-10-07", "last": "2026-10-01"}]}, "before first day"),
        (
            {
                "holidays": [
                    {"name": "a", "first": "2026-10-01", "last": "2026-10-03"},
                    {"name": "b", "first": "2026-10-03", "last": "2026-10-04"},
                ]
            },
            "already a day off of a",
        ),
        ({"holidays": [{"name": "x", "first": "2026-12-31", "last": "2027-01-02"}]}, "not in 2026"),
        ({"notice": ""}, "notice"),
        ({"holidays": []}, "holidays"),
        ({"published": "2027-01-01"}, "after the year"),
        ({"extra": 1}, "extra"),
    ],
)
def test_the_validator_names_each_problem(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(CalendarFileError) as caught:
        validate_calendar_data(_notice(**changes))
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert caught.value.code == "invalid_calendar_file"


def test_the_validator_reports_every_problem_at_once() -> None:
    with pytest.raises(CalendarFileError) as caught:
        validate_calendar_data(_notice(working_days=["2026-10-09", "2026-10-03"]))
    assert len(caught.value.problems) == 2


def test_a_valid_notice_gives_its_days() -> None:
    calendar = validate_calendar_data(_notice())
    assert calendar == YearCalendar(
        2026,
        L.FILE,
        frozenset(date(2026, 10, d) for d in range(1, 8)),
        frozenset({date(2026, 9, 20), date(2026, 10, 10)}),
        "国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)",
    )


def test_every_shipped_calendar_file_is_valid() -> None:
    shipped = [p for p in CALENDAR_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".json")]
    for path in shipped:
        load_calendar_file(path, expected_year=int(path.stem))


# --- layer 3: provisional ---


def test_2027_is_provisional_on_the_default_calendar() -> None:
    year = default_calendar().year(2027)
    assert year.layer is L.PROVISIONAL
    assert not year.layer.official
    assert year.working_days == frozenset()  # no make-up days without the notice


def test_a_claim_opened_on_3_february_2027_skips_the_spring_festival_provisionally() -> None:
    # Spring Festival 2027 is Saturday 6 Feb; eve (Fri 5) and the festival days are statutory days off,
    # with days in lieu (Tue 9, Wed 10) for the two falling on the weekend.
    opened = local(2027, 2, 3, 10)
    review = open_deadline(DeadlineKind.REVIEW_DECISION, default_policy(), opened)
    assert review.due_at == local(2027, 2, 11, 10)  # Thu 4 Feb, then Thu 11 Feb
    assert review.calendar_layer is L.PROVISIONAL
    assert review.provisional_calendar and not review.calendar_fallback
    refund = open_deadline(DeadlineKind.REFUND, default_policy(), opened)
    assert refund.due_at == local(2027, 2, 18, 10)  # the 7th of 4, 11, 12, 15, 16, 17, 18 Feb
    # On Monday-Friday alone the same review would fall due on the eve of the festival.
    weekdays = add_working_days(opened, 2, BusinessCalendar([]))
    assert (weekdays.at, weekdays.layer) == (local(2027, 2, 5, 10), L.WEEKDAYS)


def test_new_year_2027_is_a_provisional_day_off() -> None:
    assert is_working_day(date(2027, 1, 1)) == (False, L.PROVISIONAL)
    assert is_working_day(date(2027, 1, 4)) == (True, L.PROVISIONAL)


def test_a_count_across_the_year_end_reports_the_least_trusted_layer() -> None:
    result = add_working_days(local(2026, 12, 30, 9), 3)
    assert result.at == local(2027, 1, 5, 9)  # 31 Dec, 4 Jan, 5 Jan: 1 Jan is a statutory day off
    assert result.layer is L.PROVISIONAL
    assert add_working_days(local(2026, 12, 30, 9), 1).layer is L.LIBRARY


# --- layer 4: Monday-Friday ---


def test_monday_to_friday_when_no_layer_knows_the_year() -> None:
    calendar = BusinessCalendar([lambda year: None])
    assert is_working_day(date(2027, 1, 1), calendar) == (True, L.WEEKDAYS)
    assert is_working_day(date(2027, 1, 2), calendar) == (False, L.WEEKDAYS)
    result = add_working_days(local(2026, 12, 31, 9), 1, calendar)
    assert result.fallback_used and result.at == local(2027, 1, 1, 9)


def test_a_broken_layer_is_not_consulted_again_for_the_year() -> None:
    calls: list[int] = []

    def counting(year: int) -> None:
        calls.append(year)

    calendar = BusinessCalendar([counting])
    for day in range(1, 20):
        calendar.is_working_day(date(2030, 1, day))
    assert calls == [2030]


def test_layers_rank_from_most_to_least_trusted() -> None:
    assert [layer.official for layer in L] == [True, True, False, False]
    assert L.LIBRARY.worst(L.PROVISIONAL) is L.PROVISIONAL
    assert L.WEEKDAYS.worst(L.FILE) is L.WEEKDAYS


# --- stored deadlines: the layer round-trips, older items stay readable ---


def test_the_layer_is_stored_and_read_back() -> None:
    from aftersales.store.mapping import deadline_to_item, item_to_deadline

    review = open_deadline(DeadlineKind.REVIEW_DECISION, default_policy(), local(2027, 2, 3, 10))
    item = deadline_to_item("clm_1", review, shards=4)
    assert (item.calendar_layer, item.calendar_fallback) == ("provisional", False)
    assert item_to_deadline(item) == review


@pytest.mark.parametrize(("fallback", "layer"), [(True, L.WEEKDAYS), (False, None)])
def test_items_stored_before_layers_read_from_their_fallback_flag(fallback: bool, layer: L | None) -> None:
    from aftersales.store.mapping import deadline_to_item, item_to_deadline

    review = open_deadline(DeadlineKind.REVIEW_DECISION, default_policy(), local(2026, 11, 2, 10))
    item = deadline_to_item("clm_1", review, shards=4)
    item.calendar_layer, item.calendar_fallback = None, fallback  # as an older writer left it
    assert item_to_deadline(item).calendar_layer is layer
