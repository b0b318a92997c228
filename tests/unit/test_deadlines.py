"""Deadlines: each POLICY §4 row's duration, and extending, pausing, meeting and expiring one."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aftersales.domain.calendar import SHANGHAI, CalendarLayer, is_working_day
from aftersales.domain.deadlines import (
    Deadline,
    deadlines_for,
    deadlines_met_by,
    due_at,
    extend,
    find_buyer_delay,
    is_overdue,
    meet,
    open_deadline,
    pause,
    pause_clock,
    resume,
    resume_clock,
)
from aftersales.domain.errors import DomainError
from aftersales.domain.model import Action, ClaimType, Role, Status
from aftersales.domain.penalties import applies as penalties_apply
from aftersales.domain.policy import DeadlineKind, DurationUnit, OnExpiry
from aftersales.domain.transitions import initial_status
from aftersales.policies import default_policy
from hypothesis import given, settings
from hypothesis import strategies as st

K = DeadlineKind
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)  # an ordinary working week in Shanghai


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# One row per line of the POLICY §4 table: due time from an ordinary Monday 10:00, owner, expiry, penalty.
POLICY_ROWS = [
    (K.FIRST_RESPONSE, MONDAY + timedelta(hours=24), Role.MERCHANT, OnExpiry.ESCALATE, False),
    (K.CLASSIFY_DISPUTE, MONDAY + timedelta(minutes=10), Role.OPS, OnExpiry.REMIND, False),
    (K.REVIEW_DECISION, local(2026, 11, 4, 10), Role.MERCHANT, OnExpiry.AUTO_APPROVE, False),
    (K.RETURN_SHIPMENT, local(2026, 11, 5, 10), Role.BUYER, OnExpiry.FORFEIT, False),
    (K.INSPECTION, local(2026, 11, 5, 10), Role.MERCHANT, OnExpiry.AUTO_ACCEPT_INSPECTION, True),
    (K.REFUND, local(2026, 11, 11, 10), Role.MERCHANT, OnExpiry.ESCALATE, True),
    (K.REPLACEMENT_SHIPMENT, local(2026, 11, 11, 10), Role.MERCHANT, OnExpiry.ESCALATE, True),
    (K.REPAIR_ANSWER, local(2026, 11, 4, 10), Role.MERCHANT, OnExpiry.ESCALATE, False),
    (K.REPAIR_COMPLETION, local(2026, 11, 11, 10), Role.MERCHANT, OnExpiry.ESCALATE, True),
    (K.COMPLAINT_OPINION, MONDAY + timedelta(hours=72), Role.OPS, OnExpiry.ESCALATE, False),
    (K.MEDIATION_PLAN, MONDAY + timedelta(hours=2), Role.OPS, OnExpiry.ESCALATE, False),
    (K.FOLLOW_UP_VISIT, MONDAY + timedelta(hours=24), Role.OPS, OnExpiry.REMIND, False),
    (K.BUYER_CONFIRMATION, MONDAY + timedelta(days=7), Role.BUYER, OnExpiry.AUTO_CONFIRM, False),
    (K.APPEAL, MONDAY + timedelta(days=7), Role.BUYER, OnExpiry.CLOSE, False),
    (K.QUOTE_ANSWER, MONDAY + timedelta(days=7), Role.BUYER, OnExpiry.DECLINE_QUOTE, False),
    (K.RETURN_TO_BUYER, local(2026, 11, 11, 10), Role.MERCHANT, OnExpiry.ESCALATE, False),
]


def rule_in_working_days(kind: DeadlineKind) -> bool:
    return default_policy().deadline(kind).unit is DurationUnit.WORKING_DAYS


def test_every_deadline_kind_has_a_row() -> None:
    assert {row[0] for row in POLICY_ROWS} == set(DeadlineKind)


@pytest.mark.parametrize(("kind", "due", "owner", "on_expiry", "penalty"), POLICY_ROWS)
def test_policy_row(
    kind: DeadlineKind, due: datetime, owner: Role, on_expiry: OnExpiry, penalty: bool
) -> None:
    policy = default_policy()
    deadline = open_deadline(kind, policy, MONDAY)
    assert deadline.due_at == due
    assert deadline.due_at.tzinfo is UTC
    assert deadline.started_at == MONDAY
    assert (deadline.owner, deadline.on_expiry, deadline.penalty) == (owner, on_expiry, penalty)
    assert deadline.policy_version == policy.version
    assert deadline.source == policy.deadline(kind).source
    assert deadline.calendar_layer is (CalendarLayer.LIBRARY if rule_in_working_days(kind) else None)
    assert deadline.is_open


def test_urgent_complaint_first_response_is_one_hour_and_the_platform_owes_it() -> None:
    deadline = open_deadline(
        K.FIRST_RESPONSE, default_policy(), MONDAY, urgent=True, claim_type=ClaimType.COMPLAINT
    )
    assert deadline.due_at == MONDAY + timedelta(hours=1)
    assert deadline.owner is Role.OPS


@pytest.mark.parametrize("claim_type", [t for t in ClaimType if t is not ClaimType.COMPLAINT])
def test_every_other_claim_is_answered_by_the_merchant_within_24_hours(claim_type: ClaimType) -> None:
    assert K.FIRST_RESPONSE in deadlines_for(Status.PENDING_REVIEW, claim_type)
    deadline = open_deadline(K.FIRST_RESPONSE, default_policy(), MONDAY, urgent=True, claim_type=claim_type)
    assert (deadline.due_at, deadline.owner) == (MONDAY + timedelta(hours=24), Role.MERCHANT)


def test_every_claim_type_opens_a_first_response_where_it_starts() -> None:
    for claim_type in ClaimType:
        assert K.FIRST_RESPONSE in deadlines_for(initial_status(claim_type), claim_type)


# --- which open deadlines an action meets ---


def _open_review_stage() -> list[Deadline]:
    policy = default_policy()
    return [open_deadline(k, policy, MONDAY) for k in (K.FIRST_RESPONSE, K.REVIEW_DECISION)]


@pytest.mark.parametrize("role", [Role.MERCHANT, Role.OPS])
@pytest.mark.parametrize("action", [Action.MESSAGE, Action.EXTEND, Action.RATE, Action.REJECT])
def test_a_merchant_or_agent_action_that_keeps_the_stage_meets_the_first_response(
    role: Role, action: Action
) -> None:
    met = deadlines_met_by(_open_review_stage(), action, role, changes_status=False)
    assert [d.kind for d in met] == [K.FIRST_RESPONSE]


@pytest.mark.parametrize("role", [Role.BUYER, Role.SYSTEM])
def test_the_buyer_or_the_system_does_not_answer_the_claim(role: Role) -> None:
    assert deadlines_met_by(_open_review_stage(), Action.MESSAGE, role, changes_status=False) == []


def test_an_escalation_is_not_a_response() -> None:
    assert deadlines_met_by(_open_review_stage(), Action.ESCALATE, Role.OPS, changes_status=False) == []


@pytest.mark.parametrize("role", list(Role))
def test_leaving_the_stage_meets_every_open_deadline(role: Role) -> None:
    stage = _open_review_stage()
    assert deadlines_met_by(stage, Action.APPROVE, role, changes_status=True) == stage


def test_a_met_first_response_is_not_met_again() -> None:
    stage = _open_review_stage()
    stage[0] = meet(stage[0], MONDAY)
    assert deadlines_met_by(stage, Action.EXTEND, Role.MERCHANT, changes_status=False) == []


def test_urgent_is_ignored_where_the_rule_has_no_urgent_amount() -> None:
    rule = default_policy().deadline(K.REFUND)
    assert due_at(rule, MONDAY, urgent=True) == due_at(rule, MONDAY)


def test_review_decision_waits_out_the_national_day_week() -> None:
    # Opened Wednesday 30 Sep: the 2 working days are 8 and 9 Oct.
    deadline = open_deadline(K.REVIEW_DECISION, default_policy(), local(2026, 9, 30, 16))
    assert deadline.due_at == local(2026, 10, 9, 16)


def test_clock_units_ignore_holidays() -> None:
    deadline = open_deadline(K.FIRST_RESPONSE, default_policy(), local(2026, 9, 30, 16))
    assert deadline.due_at == local(2026, 10, 1, 16)


def test_a_deadline_running_into_2027_records_the_provisional_calendar() -> None:
    deadline = open_deadline(K.REFUND, default_policy(), local(2026, 12, 30, 9))
    assert deadline.calendar_layer is CalendarLayer.PROVISIONAL
    assert deadline.provisional_calendar and not deadline.calendar_fallback
    assert is_working_day(deadline.due_at.astimezone(SHANGHAI).date())[0]


def test_clock_time_deadlines_record_no_calendar() -> None:
    assert open_deadline(K.FIRST_RESPONSE, default_policy(), MONDAY).calendar_layer is None


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        open_deadline(K.REFUND, default_policy(), datetime(2026, 11, 2, 10))


def test_days_unit_is_calendar_days() -> None:
    rule = default_policy().deadline(K.APPEAL)
    assert rule.unit is DurationUnit.DAYS
    assert due_at(rule, local(2026, 9, 30, 16)).at == local(2026, 10, 7, 16)


# --- extend ---


@pytest.fixture
def refund() -> Deadline:
    return open_deadline(K.REFUND, default_policy(), MONDAY)


def test_extend_moves_the_due_time_and_records_why(refund: Deadline) -> None:
    later = refund.due_at + timedelta(days=2)
    extended = extend(refund, later, "  waiting for the manufacturer's part  ", at=MONDAY)
    assert extended.due_at == later
    assert extended.extension_reason == "waiting for the manufacturer's part"
    assert refund.due_at != later  # the original is untouched


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_extend_needs_a_reason(refund: Deadline, reason: str) -> None:
    with pytest.raises(DomainError) as caught:
        extend(refund, refund.due_at + timedelta(days=1), reason, at=MONDAY)
    assert caught.value.code == "extension_reason_required"


@pytest.mark.parametrize("delta", [timedelta(0), -timedelta(hours=1)])
def test_extend_must_give_more_time(refund: Deadline, delta: timedelta) -> None:
    with pytest.raises(DomainError) as caught:
        extend(refund, refund.due_at + delta, "parts delayed", at=MONDAY)
    assert caught.value.code == "extension_not_later"


def test_a_met_deadline_cannot_be_extended(refund: Deadline) -> None:
    with pytest.raises(DomainError) as caught:
        extend(meet(refund, MONDAY), refund.due_at + timedelta(days=1), "late", at=MONDAY)
    assert caught.value.code == "deadline_met"


def test_a_breached_deadline_cannot_be_extended_so_penalties_stay_charged(refund: Deadline) -> None:
    after_breach = refund.due_at + timedelta(minutes=1)
    with pytest.raises(DomainError) as caught:
        extend(refund, refund.due_at + timedelta(days=3), "parts delayed", at=after_breach)
    assert caught.value.code == "extension_after_breach"
    assert (
        extend(refund, refund.due_at + timedelta(days=3), "parts delayed", at=refund.due_at).due_at
        > refund.due_at
    )


# --- pause / resume ---


def test_resume_moves_the_due_time_by_the_paused_time(refund: Deadline) -> None:
    paused = pause(refund, MONDAY + timedelta(hours=1))
    resumed = resume(paused, MONDAY + timedelta(hours=4))
    assert resumed.due_at == refund.due_at + timedelta(hours=3)
    assert resumed.paused_seconds == 3 * 3600
    assert resumed.paused_since is None
    again = resume(pause(resumed, MONDAY + timedelta(hours=5)), MONDAY + timedelta(hours=6))
    assert again.paused_seconds == 4 * 3600
    assert again.due_at == refund.due_at + timedelta(hours=4)


def test_pausing_twice_is_refused(refund: Deadline) -> None:
    with pytest.raises(DomainError) as caught:
        pause(pause(refund, MONDAY), MONDAY + timedelta(hours=1))
    assert caught.value.code == "deadline_already_paused"


def test_resuming_an_unpaused_deadline_is_refused(refund: Deadline) -> None:
    with pytest.raises(DomainError) as caught:
        resume(refund, MONDAY)
    assert caught.value.code == "deadline_not_paused"


def test_resuming_before_the_pause_is_refused(refund: Deadline) -> None:
    with pytest.raises(DomainError) as caught:
        resume(pause(refund, MONDAY + timedelta(hours=2)), MONDAY)
    assert caught.value.code == "resume_before_pause"


# --- meet / is_overdue ---


def test_is_overdue_only_strictly_after_the_due_time(refund: Deadline) -> None:
    assert not is_overdue(refund, refund.due_at - timedelta(seconds=1))
    assert not is_overdue(refund, refund.due_at)
    assert is_overdue(refund, refund.due_at + timedelta(microseconds=1))


def test_a_met_deadline_is_never_overdue(refund: Deadline) -> None:
    met = meet(refund, MONDAY + timedelta(hours=1))
    assert met.met_at == MONDAY + timedelta(hours=1)
    assert not met.is_open
    assert not is_overdue(met, refund.due_at + timedelta(days=30))


def test_meeting_twice_is_refused(refund: Deadline) -> None:
    with pytest.raises(DomainError):
        meet(meet(refund, MONDAY), MONDAY)


def test_a_paused_deadline_is_never_overdue(refund: Deadline) -> None:
    paused = pause(refund, MONDAY)
    assert not is_overdue(paused, refund.due_at + timedelta(days=30))


def test_meeting_a_paused_deadline_closes_the_pause(refund: Deadline) -> None:
    met = meet(pause(refund, MONDAY), MONDAY + timedelta(hours=2))
    assert met.paused_since is None
    assert met.paused_seconds == 2 * 3600
    assert met.met_at == MONDAY + timedelta(hours=2)


def test_a_resumed_deadline_expires_later(refund: Deadline) -> None:
    resumed = resume(pause(refund, MONDAY), MONDAY + timedelta(days=1))
    assert not is_overdue(resumed, refund.due_at + timedelta(hours=1))
    assert is_overdue(resumed, refund.due_at + timedelta(days=1, seconds=1))


def test_buyer_caused_delay_does_not_change_expiry(refund: Deadline) -> None:
    # The flag removes the penalty, not the deadline's consequence.
    assert is_overdue(replace(refund, buyer_caused_delay=True), refund.due_at + timedelta(hours=1))


# --- properties ---


def _window(start: datetime, end: datetime) -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=start, max_value=end, timezones=st.just(SHANGHAI))


around_national_day = _window(datetime(2026, 9, 20), datetime(2026, 10, 12))
around_new_year_2027 = _window(datetime(2026, 12, 15), datetime(2027, 1, 15))


@settings(max_examples=200, deadline=None)
@given(
    start=st.one_of(around_national_day, around_new_year_2027),
    kind=st.sampled_from(DeadlineKind),
    urgent=st.booleans(),
)
def test_deadlines_across_holidays_and_into_2027_compute(
    start: datetime, kind: DeadlineKind, urgent: bool
) -> None:
    policy = default_policy()
    deadline = open_deadline(kind, policy, start, urgent=urgent)
    assert deadline.due_at > start
    assert deadline.due_at.tzinfo is UTC
    rule = policy.deadline(kind)
    if rule.unit is DurationUnit.WORKING_DAYS:
        # Inside a working day, or at the very end of one.
        due_local = (deadline.due_at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
        assert is_working_day(due_local)[0]
        expected = CalendarLayer.PROVISIONAL if due_local.year >= 2027 else CalendarLayer.LIBRARY
        assert deadline.calendar_layer is expected
    else:
        assert deadline.calendar_layer is None


# --- ops findings on the clock: force-majeure pause, buyer-caused delay ---


def _inspection_stage() -> list[Deadline]:
    policy = default_policy()
    return [open_deadline(K.INSPECTION, policy, MONDAY), open_deadline(K.FIRST_RESPONSE, policy, MONDAY)]


def test_a_pause_stops_every_open_deadline_until_ops_end_it() -> None:
    paused = pause_clock(_inspection_stage(), MONDAY + timedelta(hours=1), reason="typhoon")
    assert [d.paused_since for d in paused] == [MONDAY + timedelta(hours=1)] * 2
    later = MONDAY + timedelta(days=3, hours=1)
    resumed = resume_clock(paused, later)
    assert [d.due_at for d in resumed] == [d.due_at + timedelta(days=3) for d in _inspection_stage()]
    assert all(d.paused_since is None and d.paused_seconds == 3 * 86400 for d in resumed)


def test_a_pause_until_a_known_end_runs_on_by_itself() -> None:
    at, until = MONDAY + timedelta(hours=1), MONDAY + timedelta(days=2, hours=1)
    scheduled = pause_clock(_inspection_stage(), at, reason="carrier strike", until=until)
    assert [d.due_at for d in scheduled] == [d.due_at + timedelta(days=2) for d in _inspection_stage()]
    assert all(d.paused_since is None for d in scheduled)
    assert not is_overdue(scheduled[0], _inspection_stage()[0].due_at + timedelta(days=1))


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"reason": " "}, "pause_reason_required"), ({"until": MONDAY}, "pause_until_not_later")],
)
def test_a_pause_needs_a_reason_and_an_end_after_its_start(changes: dict[str, Any], code: str) -> None:
    arguments: dict[str, Any] = {"reason": "typhoon"} | changes
    with pytest.raises(DomainError) as caught:
        pause_clock(_inspection_stage(), MONDAY + timedelta(hours=1), **arguments)
    assert caught.value.code == code


def test_nothing_to_pause_or_resume_is_refused() -> None:
    paused = pause_clock(_inspection_stage(), MONDAY, reason="typhoon")
    with pytest.raises(DomainError, match="no running deadline"):
        pause_clock(paused, MONDAY, reason="again")
    with pytest.raises(DomainError) as caught:
        resume_clock(_inspection_stage(), MONDAY)
    assert caught.value.code == "deadline_not_paused"


def test_a_buyer_delay_finding_marks_the_penalty_deadlines_only() -> None:
    found = find_buyer_delay(_inspection_stage(), reason="buyer sent the wrong parcel")
    assert [(d.kind, d.buyer_caused_delay) for d in found] == [(K.INSPECTION, True)]
    assert penalties_apply(found[0]) is False
    with pytest.raises(DomainError) as caught:
        find_buyer_delay(found, reason="again")
    assert caught.value.code == "no_penalty_deadline"
    with pytest.raises(DomainError) as blank:
        find_buyer_delay(_inspection_stage(), reason="")
    assert blank.value.code == "finding_reason_required"


def test_clock_findings_are_not_a_first_response() -> None:
    for action in (Action.PAUSE_CLOCK, Action.RESUME_CLOCK, Action.FIND_BUYER_DELAY):
        assert deadlines_met_by(_open_review_stage(), action, Role.OPS, changes_status=False) == []
