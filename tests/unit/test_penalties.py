"""Overdue penalties (POLICY §5): 0.5 % a day of the claimed amount, capped, once per day."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aftersales.domain.calendar import SHANGHAI
from aftersales.domain.deadlines import Deadline, meet, open_deadline, pause, resume
from aftersales.domain.model import Role
from aftersales.domain.money import MAX_FEN
from aftersales.domain.penalties import (
    PenaltyAccrual,
    accruals_due,
    accrued_days,
    cap_fen,
    daily_penalty_fen,
    next_accrual_at,
    penalty_ledger_key,
    total_penalty_fen,
)
from aftersales.domain.policy import DeadlineKind, PenaltyRule, Policy
from aftersales.policies import default_policy
from hypothesis import given, settings
from hypothesis import strategies as st

DAY = timedelta(hours=24)
START = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)


def with_penalty(rate: int = 50, cap: int = 10_000) -> Policy:
    return default_policy().model_copy(
        update={"penalty": PenaltyRule(rate_basis_points_per_day=rate, cap_basis_points=cap)}
    )


@pytest.fixture
def refund() -> Deadline:
    return open_deadline(DeadlineKind.REFUND, default_policy(), START)


def test_daily_penalty_is_half_a_percent_rounded_half_up() -> None:
    assert daily_penalty_fen(12990, default_policy()) == 65  # 64.95
    assert daily_penalty_fen(10100, default_policy()) == 51  # 50.5
    assert daily_penalty_fen(10099, default_policy()) == 50  # 50.495


def test_default_cap_is_the_claimed_amount() -> None:
    assert cap_fen(12990, default_policy()) == 12990


def test_three_days_late(refund: Deadline) -> None:
    now = refund.due_at + 2 * DAY + timedelta(seconds=1)
    assert accrued_days(refund, now) == 3
    assert total_penalty_fen(refund, 12990, default_policy(), now) == 3 * 65


@pytest.mark.parametrize(
    ("offset", "days"),
    [
        (-timedelta(hours=1), 0),
        (timedelta(0), 0),  # at the due time: not yet breached
        (timedelta(microseconds=1), 1),  # day 1 accrues at the moment of breach
        (DAY, 1),
        (DAY + timedelta(microseconds=1), 2),
        (2 * DAY, 2),
        (10 * DAY + timedelta(minutes=1), 11),
    ],
)
def test_day_n_accrues_strictly_after_due_plus_n_minus_one_days(
    refund: Deadline, offset: timedelta, days: int
) -> None:
    assert accrued_days(refund, refund.due_at + offset) == days


def test_entries_carry_one_ledger_key_per_day(refund: Deadline) -> None:
    entries = accruals_due(
        refund,
        12990,
        default_policy(),
        refund.due_at + DAY + timedelta(seconds=1),
        already_accrued_days=0,
        already_accrued_fen=0,
    )
    assert entries == [
        PenaltyAccrual(1, 65, "PEN#refund#01#0001"),
        PenaltyAccrual(2, 65, "PEN#refund#01#0002"),
    ]


def test_only_new_days_are_returned(refund: Deadline) -> None:
    now = refund.due_at + 3 * DAY + timedelta(seconds=1)
    entries = accruals_due(
        refund, 12990, default_policy(), now, already_accrued_days=2, already_accrued_fen=130
    )
    assert [(e.day, e.amount_fen) for e in entries] == [(3, 65), (4, 65)]
    assert (
        accruals_due(refund, 12990, default_policy(), now, already_accrued_days=4, already_accrued_fen=260)
        == []
    )


def test_the_entry_reaching_the_cap_is_trimmed_and_nothing_follows(refund: Deadline) -> None:
    policy = with_penalty(cap=120)  # cap 155.88 → 156 fen
    entries = accruals_due(
        refund, 12990, policy, refund.due_at + 10 * DAY, already_accrued_days=0, already_accrued_fen=0
    )
    assert [e.amount_fen for e in entries] == [65, 65, 26]
    assert total_penalty_fen(refund, 12990, policy, refund.due_at + 100 * DAY) == 156


def test_default_cap_stops_at_the_claimed_amount(refund: Deadline) -> None:
    # 199 × 65 = 12935; day 200 takes the last 55 fen.
    entries = accruals_due(
        refund,
        12990,
        default_policy(),
        refund.due_at + 300 * DAY,
        already_accrued_days=0,
        already_accrued_fen=0,
    )
    assert len(entries) == 200
    assert entries[-1] == PenaltyAccrual(200, 55, "PEN#refund#01#0200")
    assert sum(e.amount_fen for e in entries) == 12990


def test_no_penalty_when_the_buyer_caused_the_delay(refund: Deadline) -> None:
    late = refund.due_at + 5 * DAY
    assert total_penalty_fen(replace(refund, buyer_caused_delay=True), 12990, default_policy(), late) == 0


def test_no_penalty_on_a_deadline_without_one() -> None:
    review = open_deadline(DeadlineKind.REVIEW_DECISION, default_policy(), START)
    assert not review.penalty
    assert total_penalty_fen(review, 12990, default_policy(), review.due_at + 5 * DAY) == 0


def test_no_penalty_on_a_deadline_the_merchant_does_not_owe(refund: Deadline) -> None:
    ops_owed = replace(refund, owner=Role.OPS)
    assert total_penalty_fen(ops_owed, 12990, default_policy(), refund.due_at + 5 * DAY) == 0


def test_paused_time_after_the_breach_does_not_count(refund: Deadline) -> None:
    due = refund.due_at
    paused = pause(refund, due + timedelta(hours=30))  # days 1 and 2 accrued
    assert accrued_days(paused, due + 100 * DAY) == 2
    resumed = resume(paused, due + timedelta(hours=40))  # 10 h paused
    assert accrued_days(resumed, due + timedelta(hours=58)) == 2
    assert accrued_days(resumed, due + timedelta(hours=58, seconds=1)) == 3


def test_penalty_stops_when_the_deadline_is_met(refund: Deadline) -> None:
    met = meet(refund, refund.due_at + timedelta(hours=30))
    assert accrued_days(met, met.due_at + 100 * DAY) == 2


def test_next_accrual_is_the_start_of_the_next_day(refund: Deadline) -> None:
    assert next_accrual_at(refund, 0) == refund.due_at
    assert next_accrual_at(refund, 3) == refund.due_at + 3 * DAY
    day_four = next_accrual_at(refund, 3)
    assert day_four is not None
    assert accrued_days(refund, day_four) == 3
    assert accrued_days(refund, day_four + timedelta(microseconds=1)) == 4


def test_no_next_accrual_when_stopped_or_not_applicable(refund: Deadline) -> None:
    assert next_accrual_at(pause(refund, START), 0) is None
    assert next_accrual_at(meet(refund, START), 0) is None
    assert next_accrual_at(replace(refund, buyer_caused_delay=True), 0) is None


def test_no_next_accrual_once_capped(refund: Deadline) -> None:
    policy = with_penalty(cap=120)  # 156 fen: reached on day 3
    assert next_accrual_at(refund, 2, base_fen=12990, policy=policy) == refund.due_at + 2 * DAY
    assert next_accrual_at(refund, 3, base_fen=12990, policy=policy) is None
    assert next_accrual_at(refund, 0, base_fen=1, policy=policy) is None  # nothing to charge


def test_next_accrual_needs_base_and_policy_together(refund: Deadline) -> None:
    with pytest.raises(ValueError):
        next_accrual_at(refund, 0, base_fen=12990)


def test_ledger_key_is_zero_padded_and_sortable() -> None:
    assert penalty_ledger_key(DeadlineKind.INSPECTION, 7) == "PEN#inspection#01#0007"
    assert penalty_ledger_key(DeadlineKind.REFUND, 9) < penalty_ledger_key(DeadlineKind.REFUND, 10)
    with pytest.raises(ValueError):
        penalty_ledger_key(DeadlineKind.REFUND, 0)


def test_negative_base_is_refused(refund: Deadline) -> None:
    with pytest.raises(ValueError):
        daily_penalty_fen(-1, default_policy())


# --- properties ---

bases = st.integers(min_value=0, max_value=MAX_FEN)
rates = st.integers(min_value=0, max_value=10_000)
caps = st.integers(min_value=0, max_value=20_000)
offsets = st.timedeltas(min_value=-5 * DAY, max_value=400 * DAY)


@settings(max_examples=200, deadline=None)
@given(base=bases, rate=rates, cap=caps, offset=offsets)
def test_total_is_exactly_min_of_cap_and_daily_times_days(
    base: int, rate: int, cap: int, offset: timedelta
) -> None:
    policy = with_penalty(rate, cap)
    deadline = open_deadline(DeadlineKind.INSPECTION, policy, START)
    now = deadline.due_at + offset
    total = total_penalty_fen(deadline, base, policy, now)
    expected = min(cap_fen(base, policy), daily_penalty_fen(base, policy) * accrued_days(deadline, now))
    assert total == expected
    assert total <= cap_fen(base, policy)


@settings(max_examples=200, deadline=None)
@given(
    base=bases,
    rate=rates,
    cap=caps,
    first=offsets,
    step=st.timedeltas(min_value=timedelta(0), max_value=60 * DAY),
)
def test_penalty_never_decreases_and_accrues_each_day_once(
    base: int, rate: int, cap: int, first: timedelta, step: timedelta
) -> None:
    policy = with_penalty(rate, cap)
    deadline = open_deadline(DeadlineKind.REPAIR_COMPLETION, policy, START)
    earlier, later = deadline.due_at + first, deadline.due_at + first + step
    before = accruals_due(deadline, base, policy, earlier, already_accrued_days=0, already_accrued_fen=0)
    written_days = before[-1].day if before else 0
    after = accruals_due(
        deadline,
        base,
        policy,
        later,
        already_accrued_days=written_days,
        already_accrued_fen=sum(e.amount_fen for e in before),
    )
    assert total_penalty_fen(deadline, base, policy, later) >= total_penalty_fen(
        deadline, base, policy, earlier
    )
    # Two ticks write exactly what one tick at the later time would.
    assert before + after == accruals_due(
        deadline, base, policy, later, already_accrued_days=0, already_accrued_fen=0
    )
    keys = [e.ledger_key for e in before + after]
    assert len(keys) == len(set(keys))
    assert all(e.amount_fen > 0 for e in before + after)


@settings(max_examples=200, deadline=None)
@given(
    base=bases,
    pause_at=offsets,
    paused_for=st.timedeltas(min_value=timedelta(0), max_value=30 * DAY),
    after=st.timedeltas(min_value=timedelta(0), max_value=60 * DAY),
)
def test_paused_time_never_adds_penalty(
    base: int, pause_at: timedelta, paused_for: timedelta, after: timedelta
) -> None:
    policy = default_policy()
    deadline = open_deadline(DeadlineKind.REFUND, policy, START)
    paused_at = deadline.due_at + pause_at
    resumed_at = paused_at + paused_for
    resumed = resume(pause(deadline, paused_at), resumed_at)
    frozen = total_penalty_fen(pause(deadline, paused_at), base, policy, resumed_at)
    assert frozen == total_penalty_fen(deadline, base, policy, paused_at)
    # After resuming, the penalty is what an unpaused deadline would owe without the paused time.
    assert total_penalty_fen(resumed, base, policy, resumed_at + after) <= total_penalty_fen(
        deadline, base, policy, paused_at + after + timedelta(seconds=1)
    )
    assert total_penalty_fen(resumed, base, policy, resumed_at + after) >= frozen


def test_a_stage_entered_again_charges_its_own_days(refund: Deadline) -> None:
    again = replace(refund, instance=2)
    first = accruals_due(
        refund,
        12990,
        default_policy(),
        refund.due_at + timedelta(days=1, minutes=1),
        already_accrued_days=0,
        already_accrued_fen=0,
    )
    second = accruals_due(
        again,
        12990,
        default_policy(),
        again.due_at + timedelta(days=1, minutes=1),
        already_accrued_days=0,
        already_accrued_fen=0,
    )
    assert [a.ledger_key for a in first] == ["PEN#refund#01#0001", "PEN#refund#01#0002"]
    assert [a.ledger_key for a in second] == ["PEN#refund#02#0001", "PEN#refund#02#0002"]
