"""Overdue penalties (违约金, POLICY §5): a share of the claimed amount for each day a merchant is late.

Day *n* accrues once ``now > due_at + (n-1) × 24 h``. Each day is one ledger entry whose key is unique
per (claim, deadline, day), so recomputing and rewriting never charges a merchant twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .deadlines import Deadline
from .model import Role
from .money import percent_of
from .policy import DeadlineKind, Policy

PENALTY_DAY = timedelta(hours=24)


@dataclass(frozen=True)
class PenaltyAccrual:
    """One overdue day's charge: the ledger entry to write (once) under ``ledger_key``."""

    day: int
    amount_fen: int
    ledger_key: str


def penalty_ledger_prefix(kind: DeadlineKind, instance: int = 1) -> str:
    """The sort-key prefix of one deadline's penalty days (see ``Deadline.instance``)."""
    return f"PEN#{kind}#{instance:02d}#"


def penalty_ledger_key(kind: DeadlineKind, day: int, instance: int = 1) -> str:
    """The sort key of a penalty day; zero-padded so a claim's days sort in order."""
    if day < 1:
        raise ValueError("penalty days start at 1")
    return f"{penalty_ledger_prefix(kind, instance)}{day:04d}"


def applies(deadline: Deadline) -> bool:
    """Only merchant-owed penalty deadlines, and never when the buyer caused the delay (002 §5.3.2)."""
    return deadline.penalty and deadline.owner is Role.MERCHANT and not deadline.buyer_caused_delay


def daily_penalty_fen(base_fen: int, policy: Policy) -> int:
    """One day's penalty on the claimed amount, rounded half-up."""
    _require_base(base_fen)
    return percent_of(base_fen, policy.penalty.rate_basis_points_per_day)


def cap_fen(base_fen: int, policy: Policy) -> int:
    """The most a merchant can owe for one deadline (default: the claimed amount itself)."""
    _require_base(base_fen)
    return percent_of(base_fen, policy.penalty.cap_basis_points)


def _require_base(base_fen: int) -> None:
    if base_fen < 0:
        raise ValueError("the penalty base must not be negative")


def _clock_stop(deadline: Deadline, now: datetime) -> datetime:
    """The instant overdue time is counted up to: now, or earlier if the deadline is met or paused."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    stop = now.astimezone(UTC)
    for frozen_at in (deadline.met_at, deadline.paused_since):
        if frozen_at is not None:
            stop = min(stop, frozen_at)
    return stop


def accrued_days(deadline: Deadline, now: datetime) -> int:
    """How many penalty days have accrued by ``now``, before any cap; 0 when no penalty applies.

    Paused time does not count: while paused the clock is stopped, and resuming moves ``due_at`` later
    by the paused time.
    """
    if not applies(deadline):
        return 0
    overdue = _clock_stop(deadline, now) - deadline.due_at
    if overdue <= timedelta(0):
        return 0
    return -(-overdue // PENALTY_DAY)  # ceiling: day 1 accrues the moment the deadline is breached


def accruals_due(
    deadline: Deadline,
    base_fen: int,
    policy: Policy,
    now: datetime,
    *,
    already_accrued_days: int,
    already_accrued_fen: int,
) -> list[PenaltyAccrual]:
    """The ledger entries to write now, after the ones already written.

    The entry that reaches the cap is trimmed to what is left and nothing accrues after it. Days with
    nothing to charge (a zero daily amount) produce no entries.
    """
    if already_accrued_days < 0 or already_accrued_fen < 0:
        raise ValueError("already accrued days and fen must not be negative")
    daily = daily_penalty_fen(base_fen, policy)
    cap = cap_fen(base_fen, policy)
    total = already_accrued_fen
    entries: list[PenaltyAccrual] = []
    for day in range(already_accrued_days + 1, accrued_days(deadline, now) + 1):
        amount = min(daily, cap - total)
        if amount <= 0:
            break
        entries.append(PenaltyAccrual(day, amount, penalty_ledger_key(deadline.kind, day, deadline.instance)))
        total += amount
    return entries


def total_penalty_fen(deadline: Deadline, base_fen: int, policy: Policy, now: datetime) -> int:
    """Everything owed for this deadline by ``now``: ``min(cap, daily × days)``."""
    entries = accruals_due(deadline, base_fen, policy, now, already_accrued_days=0, already_accrued_fen=0)
    return sum(entry.amount_fen for entry in entries)


def next_accrual_at(
    deadline: Deadline,
    accrued_days: int,
    *,
    base_fen: int | None = None,
    policy: Policy | None = None,
) -> datetime | None:
    """When day ``accrued_days + 1`` accrues, for sla_tick to come back then.

    None when no penalty applies, the deadline is met or paused (the clock is stopped), or, given
    ``base_fen`` and ``policy``, when the cap is reached or nothing would be charged.
    """
    if accrued_days < 0:
        raise ValueError("accrued_days must not be negative")
    if (base_fen is None) != (policy is None):
        raise ValueError("give both base_fen and policy, or neither")
    if not applies(deadline) or not deadline.is_open or deadline.paused_since is not None:
        return None
    if base_fen is not None and policy is not None:
        daily = daily_penalty_fen(base_fen, policy)
        if daily == 0 or daily * accrued_days >= cap_fen(base_fen, policy):
            return None
    return deadline.due_at + accrued_days * PENALTY_DAY
