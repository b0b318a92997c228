"""What an overdue deadline calls for (POLICY §4 "when missed", §5, §6), decided without storage.

sla_tick asks ``lapse`` for each overdue deadline once the penalty days due are charged, then carries
the answer out: apply the automatic outcome, escalate once, remind once, or come back later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .claim import PenaltyDay
from .deadlines import Deadline
from .model import Action
from .penalties import PENALTY_DAY, penalty_ledger_prefix
from .policy import DeadlineRule, OnExpiry

# What a lapsed deadline does, in the transition table's words.
AUTOMATIC_ACTIONS: dict[OnExpiry, Action] = {
    OnExpiry.AUTO_APPROVE: Action.AUTO_APPROVE,
    OnExpiry.FORFEIT: Action.FORFEIT,
    OnExpiry.AUTO_ACCEPT_INSPECTION: Action.AUTO_ACCEPT_INSPECTION,
    OnExpiry.AUTO_CONFIRM: Action.AUTO_CONFIRM,
    OnExpiry.DECLINE_QUOTE: Action.DECLINE_QUOTE,
    OnExpiry.CLOSE: Action.APPEAL_LAPSED,
}


class Step(StrEnum):
    DECIDE = "decide"  # apply ``Lapse.action``, the automatic outcome
    ESCALATE = "escalate"  # one step up the ladder, once per lapse
    REMIND = "remind"  # tell the listeners, once
    WAIT = "wait"  # nothing to do now: come back at ``Lapse.come_back_at`` (None: leave the index)


@dataclass(frozen=True)
class Lapse:
    step: Step
    action: Action | None = None
    come_back_at: datetime | None = None


def overdue_days(deadline: Deadline, now: datetime) -> int:
    """Started overdue days, as penalty days count them (day 1 at the breach), whether or not a penalty
    applies: the grace before an automatic outcome counts the same days for everyone."""
    late = now - deadline.due_at
    return max(0, -(-late // PENALTY_DAY)) if late > timedelta(0) else 0


def charged(deadline: Deadline, ledger: Iterable[PenaltyDay]) -> tuple[int, int]:
    """(days, fen) already in the ledger for this deadline (this instance of its kind). Days are written
    in order, so the highest day is the count even if a crash cut a run short."""
    prefix = penalty_ledger_prefix(deadline.kind, deadline.instance)
    days = [day for day in ledger if day.ledger_key.startswith(prefix)]
    return max((day.day for day in days), default=0), sum(day.amount_fen for day in days)


def lapse(
    deadline: Deadline,
    rule: DeadlineRule,
    now: datetime,
    *,
    next_accrual: datetime | None,
    escalated: bool,
) -> Lapse:
    """What an overdue ``deadline`` calls for now. ``next_accrual``: when its next penalty day accrues
    (None: no more days); ``escalated``: this lapse was escalated already."""
    action = AUTOMATIC_ACTIONS.get(deadline.on_expiry)
    if action is not None:
        if overdue_days(deadline, now) >= rule.act_after_overdue_days:
            return Lapse(Step.DECIDE, action)
        # A grace of overdue days (inspection: 3 charged days) before the outcome: come back for the
        # next day's charge, or at the latest when the grace ends.
        outcome_at = deadline.due_at + (rule.act_after_overdue_days - 1) * PENALTY_DAY
        return Lapse(Step.WAIT, come_back_at=min(outcome_at, next_accrual) if next_accrual else outcome_at)
    if deadline.on_expiry is OnExpiry.ESCALATE:
        if not escalated:
            return Lapse(Step.ESCALATE, Action.ESCALATE, come_back_at=next_accrual)
        # Escalated at the breach already; a penalty deadline keeps coming back each day until done.
        return Lapse(Step.WAIT, come_back_at=next_accrual)
    return Lapse(Step.REMIND)
