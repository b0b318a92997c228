"""A deadline counted on a provisional or Monday-Friday calendar is logged and counted, once."""

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aftersales.calendar_alerts import report_unofficial_calendars
from aftersales.domain.calendar import SHANGHAI, CalendarLayer
from aftersales.domain.deadlines import meet, open_deadline
from aftersales.domain.policy import DeadlineKind
from aftersales.policies import default_policy

K = DeadlineKind
OPENED = datetime(2027, 2, 3, 10, tzinfo=SHANGHAI)


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_provisional_deadline_logs_a_warning_and_emits_a_metric(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    review = open_deadline(K.REVIEW_DECISION, default_policy(), OPENED)
    first = open_deadline(K.FIRST_RESPONSE, default_policy(), OPENED)  # clock hours: nothing to say
    assert report_unofficial_calendars("clm_1", [review, first], OPENED) == 1
    [warning] = _warnings(caplog)
    assert warning.getMessage() == "deadline computed on an unofficial calendar"
    fields = vars(warning)
    assert (fields["claim_id"], fields["deadline"], fields["calendar_layer"]) == (
        "clm_1",
        "review_decision",
        "provisional",
    )
    [metric] = [line for line in _lines(capsys.readouterr().out) if "_aws" in line]
    assert metric["DeadlinesOnProvisionalCalendar"] == [1.0]
    assert metric["kind"] == "review_decision"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AfterSales"  # type: ignore[index]


def test_the_weekday_fallback_has_its_own_metric(capsys: pytest.CaptureFixture[str]) -> None:
    review = replace(
        open_deadline(K.REVIEW_DECISION, default_policy(), OPENED), calendar_layer=CalendarLayer.WEEKDAYS
    )
    assert report_unofficial_calendars("clm_1", [review], OPENED) == 1
    assert any("DeadlinesOnWeekdayFallback" in line for line in _lines(capsys.readouterr().out))


def test_official_met_or_earlier_deadlines_are_not_reported(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    policy = default_policy()
    official = open_deadline(K.REVIEW_DECISION, policy, datetime(2026, 11, 2, 10, tzinfo=SHANGHAI))
    provisional = open_deadline(K.REFUND, policy, OPENED)
    met = meet(open_deadline(K.INSPECTION, policy, OPENED), OPENED)
    later = OPENED + timedelta(hours=1)  # an extension written later: reported when it opened
    assert report_unofficial_calendars("clm_1", [official, met], OPENED) == 0
    assert report_unofficial_calendars("clm_1", [provisional], later) == 0
    assert _warnings(caplog) == []
    assert _lines(capsys.readouterr().out) == []
