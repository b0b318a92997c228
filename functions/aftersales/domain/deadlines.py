"""Deadlines: which ones a stage opens, when each is due, who owes it, what happens when it passes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from .calendar import CalendarLayer, CalendarResult, add_working_days
from .errors import DomainError
from .model import Action, ClaimType, Role, Status
from .policy import DeadlineKind, DeadlineRule, DurationUnit, OnExpiry, Policy

K = DeadlineKind

# The deadlines a claim opens when it enters a status (POLICY §4). Leaving the status closes them.
# Every claim starts in pending_review or awaiting_opinion, so each opens the first response there.
_STAGE_DEADLINES: dict[Status, tuple[DeadlineKind, ...]] = {
    Status.PENDING_REVIEW: (K.FIRST_RESPONSE, K.REVIEW_DECISION),
    Status.AWAITING_RETURN_SHIPMENT: (K.RETURN_SHIPMENT,),
    Status.AWAITING_INSPECTION: (K.INSPECTION,),
    Status.AWAITING_REFUND: (K.REFUND,),
    Status.AWAITING_REPLACEMENT_SHIPMENT: (K.REPLACEMENT_SHIPMENT,),
    Status.REPAIRING: (K.REPAIR_COMPLETION,),
    Status.AWAITING_QUOTE_ACCEPTANCE: (K.QUOTE_ANSWER,),
    Status.AWAITING_RETURN_TO_BUYER: (K.RETURN_TO_BUYER,),
    Status.AWAITING_BUYER_CONFIRMATION: (K.BUYER_CONFIRMATION,),
    Status.REJECTED: (K.APPEAL,),
    Status.IN_MEDIATION: (K.CLASSIFY_DISPUTE, K.MEDIATION_PLAN),
    Status.AWAITING_OPINION: (K.FIRST_RESPONSE, K.COMPLAINT_OPINION),
    Status.CLOSED: (K.FOLLOW_UP_VISIT,),
}


def deadlines_for(status: Status, claim_type: ClaimType) -> tuple[DeadlineKind, ...]:
    """Deadline kinds opened on entering ``status``. A repair request is answered, not auto-approved."""
    if status is Status.PENDING_REVIEW and claim_type is ClaimType.REPAIR:
        return (K.FIRST_RESPONSE, K.REPAIR_ANSWER)
    return _STAGE_DEADLINES.get(status, ())


@dataclass(frozen=True)
class Deadline:
    """One open (or met) deadline of one claim."""

    kind: DeadlineKind
    owner: Role
    started_at: datetime
    due_at: datetime
    on_expiry: OnExpiry
    penalty: bool
    source: str  # the policy section that sets it
    policy_version: str
    # The least trusted calendar layer a working-day count needed (None: clock time, no calendar).
    calendar_layer: CalendarLayer | None = None
    extension_reason: str | None = None
    paused_since: datetime | None = None
    paused_seconds: int = 0  # total time spent paused before ``paused_since``
    met_at: datetime | None = None
    buyer_caused_delay: bool = False
    # The n-th time the claim opened this kind of deadline: a stage entered again (a reopened repair, a
    # refund retried after a failure) charges its own penalty days, never colliding with the first's.
    instance: int = 1
    escalated_at: datetime | None = None  # the lapse was escalated (once)

    @property
    def is_open(self) -> bool:
        return self.met_at is None

    @property
    def calendar_fallback(self) -> bool:
        """No holiday data for a year on the way: Monday-Friday was counted."""
        return self.calendar_layer is CalendarLayer.WEEKDAYS

    @property
    def provisional_calendar(self) -> bool:
        """Computed without the State Council's notice for some year: may move when it is published."""
        return self.calendar_layer is not None and not self.calendar_layer.official


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


_CLOCK_UNITS = {
    DurationUnit.MINUTES: timedelta(minutes=1),
    DurationUnit.HOURS: timedelta(hours=1),
    DurationUnit.DAYS: timedelta(days=1),
}


def due_at(
    rule: DeadlineRule, start: datetime, *, urgent: bool = False, claim_type: ClaimType | None = None
) -> CalendarResult:
    """When a deadline of ``rule`` started at ``start`` falls due (aware UTC).

    Minutes, hours and days are clock time; working days follow the statutory calendar (POLICY §4).
    """
    start = _require_aware(start, "start")
    amount = rule.amount_for(urgent=urgent, claim_type=claim_type)
    if rule.unit is DurationUnit.WORKING_DAYS:
        return add_working_days(start, amount)
    return CalendarResult(start + amount * _CLOCK_UNITS[rule.unit], None)


def open_deadline(
    kind: DeadlineKind,
    policy: Policy,
    start: datetime,
    *,
    urgent: bool = False,
    claim_type: ClaimType | None = None,
) -> Deadline:
    """A new deadline of ``kind`` under ``policy``, stamped with the policy version that set it.

    ``claim_type`` picks the rule's owner for that type (the platform answers complaints, the merchant
    the rest) and whether an urgent amount applies.
    """
    rule = policy.deadline(kind)
    due = due_at(rule, start, urgent=urgent, claim_type=claim_type)
    return Deadline(
        kind=kind,
        owner=rule.owner_for(claim_type),
        started_at=start.astimezone(UTC),
        due_at=due.at,
        on_expiry=rule.on_expiry,
        penalty=rule.penalty,
        source=rule.source,
        policy_version=policy.version,
        calendar_layer=due.layer,
    )


# Deadlines met by any action of the merchant or a platform agent on the claim, whatever the stage: a
# decision, a message, an extension answers the consumer (001 三(续)2; 003 §4.3.1).
_MET_BY_A_RESPONSE = frozenset({K.FIRST_RESPONSE})
_RESPONDERS = frozenset({Role.MERCHANT, Role.OPS})
# Passing the claim up the ladder, or a finding about its clock, tells the consumer nothing.
_NOT_A_RESPONSE = frozenset(
    {Action.ESCALATE, Action.PAUSE_CLOCK, Action.RESUME_CLOCK, Action.FIND_BUYER_DELAY}
)


def deadlines_met_by(
    open_deadlines: Iterable[Deadline], action: Action, role: Role, *, changes_status: bool
) -> list[Deadline]:
    """The open deadlines that ``action`` by ``role`` meets.

    Moving the claim to another stage meets every deadline still open (leaving a stage closes its
    deadlines). An action that keeps the stage meets the first response when the merchant or a platform
    agent takes it; the buyer's own actions and the system's (an escalation, a reminder) do not.
    """
    open_now = [d for d in open_deadlines if d.is_open]
    if changes_status:
        return open_now
    if role not in _RESPONDERS or action in _NOT_A_RESPONSE:
        return []
    return [d for d in open_now if d.kind in _MET_BY_A_RESPONSE]


def _require_open(deadline: Deadline) -> None:
    if not deadline.is_open:
        raise DomainError(f"the {deadline.kind} deadline has already been met", code="deadline_met")


def extend(deadline: Deadline, new_due: datetime, reason: str, *, at: datetime) -> Deadline:
    """An extension must say why and until when, and only ever gives more time (002 §5.2.3).

    It must be asked for before the deadline passes: once breached, penalty days have been charged and
    an extension would silently take them back.
    """
    _require_open(deadline)
    if _require_aware(at, "at") > deadline.due_at:
        raise DomainError(
            f"the {deadline.kind} deadline has already passed and can no longer be extended",
            code="extension_after_breach",
            details={"due_at": deadline.due_at.isoformat()},
        )
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("an extension must give a reason", code="extension_reason_required")
    new_due = _require_aware(new_due, "new_due")
    if new_due <= deadline.due_at:
        raise DomainError(
            "an extension must move the deadline later",
            code="extension_not_later",
            details={"due_at": deadline.due_at.isoformat(), "requested": new_due.isoformat()},
        )
    return replace(deadline, due_at=new_due, extension_reason=reason.strip())


def pause(deadline: Deadline, at: datetime) -> Deadline:
    """Stop the clock (force majeure): no expiry and no penalty while paused."""
    _require_open(deadline)
    if deadline.paused_since is not None:
        raise DomainError(f"the {deadline.kind} deadline is already paused", code="deadline_already_paused")
    return replace(deadline, paused_since=_require_aware(at, "at"))


def resume(deadline: Deadline, at: datetime) -> Deadline:
    """Restart the clock; the due time moves later by the time spent paused (whole seconds)."""
    if deadline.paused_since is None:
        raise DomainError(f"the {deadline.kind} deadline is not paused", code="deadline_not_paused")
    at = _require_aware(at, "at")
    if at < deadline.paused_since:
        raise DomainError("a deadline cannot resume before it was paused", code="resume_before_pause")
    # Whole seconds on both sides so ``paused_seconds`` always equals how far ``due_at`` moved.
    paused = int((at - deadline.paused_since).total_seconds())
    return replace(
        deadline,
        due_at=deadline.due_at + timedelta(seconds=paused),
        paused_since=None,
        paused_seconds=deadline.paused_seconds + paused,
    )


def pause_clock(
    open_deadlines: Iterable[Deadline], at: datetime, *, reason: str, until: datetime | None = None
) -> list[Deadline]:
    """Force majeure: stop the clock of every open deadline of a claim (no expiry, no penalty).

    With ``until`` the pause is over by itself then: the deadlines run on, each due time moved later by
    the paused time, as if resumed at ``until``. Without it, ops end the pause (``resume_clock``).
    """
    at = _require_aware(at, "at")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("a pause must give its reason", code="pause_reason_required")
    if until is not None and _require_aware(until, "until") <= at:
        raise DomainError("a pause must end after it starts", code="pause_until_not_later")
    running = [d for d in open_deadlines if d.is_open and d.paused_since is None]
    if not running:
        raise DomainError("no running deadline to pause", code="nothing_to_pause")
    paused = [pause(d, at) for d in running]
    return [resume(d, until) for d in paused] if until is not None else paused


def resume_clock(open_deadlines: Iterable[Deadline], at: datetime) -> list[Deadline]:
    """End a force-majeure pause: every paused deadline runs on, its due time moved by the paused time."""
    paused = [d for d in open_deadlines if d.is_open and d.paused_since is not None]
    if not paused:
        raise DomainError("no deadline of the claim is paused", code="deadline_not_paused")
    return [resume(d, at) for d in paused]


def find_buyer_delay(
    open_deadlines: Iterable[Deadline], *, reason: str, kind: DeadlineKind | None = None
) -> list[Deadline]:
    """A finding that the buyer caused a merchant deadline's delay: no penalty accrues on it
    (002 §5.3.2); its automatic outcome still comes. ``kind``: that deadline; default every open one
    that would charge a penalty."""
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError("a finding must give its reason", code="finding_reason_required")
    targets = [
        d
        for d in open_deadlines
        if d.is_open
        and d.penalty
        and d.owner is Role.MERCHANT
        and not d.buyer_caused_delay
        and (kind is None or d.kind is kind)
    ]
    if not targets:
        raise DomainError("no open deadline that charges the merchant a penalty", code="no_penalty_deadline")
    return [replace(d, buyer_caused_delay=True) for d in targets]


def meet(deadline: Deadline, at: datetime) -> Deadline:
    """The owner did what was due; a paused deadline is resumed first so its due time stays honest."""
    _require_open(deadline)
    at = _require_aware(at, "at")
    if deadline.paused_since is not None:
        deadline = resume(deadline, max(at, deadline.paused_since))
    return replace(deadline, met_at=at)


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """Past due, still open and not paused. Strictly after ``due_at``, as penalty day 1 (POLICY §5)."""
    now = _require_aware(now, "now")
    return deadline.is_open and deadline.paused_since is None and now > deadline.due_at
