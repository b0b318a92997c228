"""The pure parts of sla_tick: how overdue days are counted, and that every lapse maps to an action
the transition table allows the system to take in the stage that opened the deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aftersales.domain import deadlines as dl
from aftersales.domain import penalties, sla
from aftersales.domain.model import Action, ClaimType, Role, Status
from aftersales.domain.policy import DeadlineKind, OnExpiry
from aftersales.domain.transitions import TRANSITIONS, allowed_actions, initial_status, transition
from aftersales.policies import default_policy
from hypothesis import given
from hypothesis import strategies as st

POLICY = default_policy()
START = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
INSPECTION = dl.open_deadline(DeadlineKind.INSPECTION, POLICY, START)

late = st.integers(min_value=-10 * 86_400, max_value=400 * 86_400).map(lambda s: timedelta(seconds=s))


@given(late)
def test_overdue_days_count_like_penalty_days(delta: timedelta) -> None:
    now = INSPECTION.due_at + delta
    assert sla.overdue_days(INSPECTION, now) == penalties.accrued_days(INSPECTION, now)


@given(late)
def test_overdue_days_are_counted_even_when_no_penalty_applies(delta: timedelta) -> None:
    now = INSPECTION.due_at + delta
    buyer_caused = replace(INSPECTION, buyer_caused_delay=True)
    assert penalties.accrued_days(buyer_caused, now) == 0
    assert sla.overdue_days(buyer_caused, now) == sla.overdue_days(INSPECTION, now)


@given(late, late)
def test_overdue_days_never_go_back(a: timedelta, b: timedelta) -> None:
    first, second = sorted((a, b))
    days = [sla.overdue_days(INSPECTION, INSPECTION.due_at + d) for d in (first, second)]
    assert days[0] <= days[1]


def test_the_first_overdue_day_starts_just_after_the_due_time() -> None:
    assert sla.overdue_days(INSPECTION, INSPECTION.due_at) == 0
    assert sla.overdue_days(INSPECTION, INSPECTION.due_at + timedelta(seconds=1)) == 1
    assert sla.overdue_days(INSPECTION, INSPECTION.due_at + timedelta(days=1)) == 1
    assert sla.overdue_days(INSPECTION, INSPECTION.due_at + timedelta(days=1, seconds=1)) == 2


def _reachable(claim_type: ClaimType) -> set[Status]:
    """The statuses a claim of this type can be in, following the transition table from its start."""
    seen: set[Status] = set()
    todo = [initial_status(claim_type)]
    while todo:
        status = todo.pop()
        if status in seen:
            continue
        seen.add(status)
        for action in allowed_actions(status, claim_type):
            role = next(iter(TRANSITIONS[status, action].roles))
            todo.append(transition(status, action, role, claim_type, reopen_count=0).target)
    return seen


def _stages() -> list[tuple[DeadlineKind, Status, ClaimType]]:
    return [
        (kind, status, claim_type)
        for claim_type in ClaimType
        for status in sorted(_reachable(claim_type))
        for kind in dl.deadlines_for(status, claim_type)
    ]


@pytest.mark.parametrize(("kind", "status", "claim_type"), _stages())
def test_every_lapse_is_an_action_the_system_may_take_in_that_stage(
    kind: DeadlineKind, status: Status, claim_type: ClaimType
) -> None:
    on_expiry = POLICY.deadline(kind).on_expiry
    if on_expiry is OnExpiry.REMIND:
        return  # an event only: nothing changes on the claim
    action = Action.ESCALATE if on_expiry is OnExpiry.ESCALATE else sla.AUTOMATIC_ACTIONS[on_expiry]
    moved = transition(status, action, Role.SYSTEM, claim_type)
    if action is not Action.ESCALATE:
        assert moved.changes_status  # the workflow's task is failed with Deadline.<kind>


def test_every_automatic_outcome_has_an_action() -> None:
    automatic = set(OnExpiry) - {OnExpiry.ESCALATE, OnExpiry.REMIND}
    assert set(sla.AUTOMATIC_ACTIONS) == automatic


# --------------------------------------------------------------------------- what a lapse calls for

REVIEW = dl.open_deadline(DeadlineKind.REVIEW_DECISION, POLICY, START)
REFUND = dl.open_deadline(DeadlineKind.REFUND, POLICY, START)


def test_a_lapse_with_an_automatic_outcome_decides_it_at_once():
    plan = sla.lapse(
        REVIEW,
        POLICY.deadline(REVIEW.kind),
        REVIEW.due_at + timedelta(seconds=1),
        next_accrual=None,
        escalated=False,
    )
    assert (plan.step, plan.action) == (sla.Step.DECIDE, Action.AUTO_APPROVE)


def test_an_inspection_lapse_waits_for_its_grace_of_charged_days_then_decides():
    rule = POLICY.deadline(DeadlineKind.INSPECTION)
    assert rule.act_after_overdue_days == 3
    day_one = INSPECTION.due_at + timedelta(seconds=1)
    next_day = INSPECTION.due_at + penalties.PENALTY_DAY
    plan = sla.lapse(INSPECTION, rule, day_one, next_accrual=next_day, escalated=False)
    assert (plan.step, plan.come_back_at) == (sla.Step.WAIT, next_day)
    grace_end = INSPECTION.due_at + 2 * penalties.PENALTY_DAY
    assert sla.lapse(INSPECTION, rule, day_one, next_accrual=None, escalated=False).come_back_at == grace_end
    day_three = grace_end + timedelta(seconds=1)
    plan = sla.lapse(INSPECTION, rule, day_three, next_accrual=None, escalated=False)
    assert (plan.step, plan.action) == (sla.Step.DECIDE, Action.AUTO_ACCEPT_INSPECTION)


def test_an_escalating_lapse_escalates_once_then_comes_back_for_each_penalty_day():
    rule = POLICY.deadline(DeadlineKind.REFUND)
    now = REFUND.due_at + timedelta(seconds=1)
    tomorrow = REFUND.due_at + penalties.PENALTY_DAY
    first = sla.lapse(REFUND, rule, now, next_accrual=tomorrow, escalated=False)
    assert (first.step, first.action, first.come_back_at) == (sla.Step.ESCALATE, Action.ESCALATE, tomorrow)
    again = sla.lapse(REFUND, rule, now, next_accrual=tomorrow, escalated=True)
    assert (again.step, again.come_back_at) == (sla.Step.WAIT, tomorrow)
    capped = sla.lapse(REFUND, rule, now, next_accrual=None, escalated=True)
    assert (capped.step, capped.come_back_at) == (sla.Step.WAIT, None)


def test_a_reminder_lapse_only_reminds():
    visit = dl.open_deadline(DeadlineKind.FOLLOW_UP_VISIT, POLICY, START)
    assert visit.on_expiry is OnExpiry.REMIND
    plan = sla.lapse(
        visit,
        POLICY.deadline(visit.kind),
        visit.due_at + timedelta(hours=1),
        next_accrual=None,
        escalated=False,
    )
    assert plan.step is sla.Step.REMIND


def test_charged_days_count_only_this_instance_of_the_deadline():
    from aftersales.domain.claim import PenaltyDay

    def day(kind, instance, n, fen=65):
        return PenaltyDay(penalties.penalty_ledger_key(kind, n, instance), kind.value, n, fen, START)

    ledger = [
        day(DeadlineKind.INSPECTION, 1, 1),
        day(DeadlineKind.INSPECTION, 1, 2),
        day(DeadlineKind.REFUND, 1, 1),
    ]
    assert sla.charged(INSPECTION, ledger) == (2, 130)
    assert sla.charged(replace(INSPECTION, instance=2), ledger) == (0, 0)
