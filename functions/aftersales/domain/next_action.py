"""What happens next on a claim, who owes it, by when, and which rule says so.

One plain sentence for the buyer's app and the ops console, plus the facts behind it, so both read the
same answer. Times are shown in Beijing time, the time the parties work in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .calendar import SHANGHAI
from .deadlines import Deadline, deadlines_for
from .model import Action, ClaimType, Outcome, Role, Status
from .policy import DeadlineKind, OnExpiry, PenaltyRule, Policy
from .transitions import allowed_actions

K = DeadlineKind


@dataclass(frozen=True)
class NextAction:
    summary: str
    owner: Role | None  # who must act next; None when nobody owes anything
    due_at: datetime | None
    rule: str | None  # the source section of the deadline, e.g. "002 §5.1.3"
    on_expiry: OnExpiry | None
    deadline: DeadlineKind | None = None
    penalty: bool = False  # a late merchant owes the buyer a daily penalty
    actions: dict[Role, list[Action]] = field(default_factory=dict)


_PARTY = {
    Role.BUYER: "the buyer",
    Role.MERCHANT: "the merchant",
    Role.OPS: "the platform",
    Role.SYSTEM: "the platform",
}

_TASK = {
    K.FIRST_RESPONSE: "respond to the claim",
    K.CLASSIFY_DISPUTE: "classify the dispute",
    K.REVIEW_DECISION: "approve or reject the request",
    K.RETURN_SHIPMENT: "ship the goods back",
    K.INSPECTION: "inspect the returned goods",
    K.REFUND: "refund the buyer",
    K.REPLACEMENT_SHIPMENT: "ship the replacement",
    K.REPAIR_ANSWER: "answer the repair request",
    K.REPAIR_COMPLETION: "finish the repair",
    K.COMPLAINT_OPINION: "give a written opinion on the complaint",
    K.MEDIATION_PLAN: "propose a mediation plan",
    K.FOLLOW_UP_VISIT: "follow up with the buyer",
    K.BUYER_CONFIRMATION: "confirm the goods are fine",
    K.APPEAL: "accept the rejection or dispute it",
    K.QUOTE_ANSWER: "accept or decline the repair quote",
    K.RETURN_TO_BUYER: "ship the unrepaired goods back to the buyer",
}

_CONSEQUENCE = {
    OnExpiry.AUTO_APPROVE: "the request is approved automatically",
    OnExpiry.FORFEIT: "the claim closes and the buyer forfeits it",
    OnExpiry.AUTO_ACCEPT_INSPECTION: "the inspection is accepted automatically",
    OnExpiry.AUTO_CONFIRM: "the goods are confirmed automatically and the claim closes",
    OnExpiry.DECLINE_QUOTE: "the quote is declined and the goods are shipped back unrepaired",
    OnExpiry.CLOSE: "the claim closes",
    OnExpiry.ESCALATE: "the claim is escalated",
    OnExpiry.REMIND: "a reminder is sent",
}

# Stages that wait on something other than a deadline: a parcel, a quote, a retry, an arbitrator.
_WAITING: dict[Status, tuple[Role | None, str]] = {
    Status.RETURN_IN_TRANSIT: (
        None,
        "The return parcel is on its way to the merchant, who must inspect it once it arrives.",
    ),
    Status.OUTBOUND_IN_TRANSIT: (
        None,
        "The goods are on their way to the buyer, who must confirm them once they arrive.",
    ),
    Status.AWAITING_QUOTE_ACCEPTANCE: (
        Role.BUYER,
        "The buyer must accept or decline the repair quote before any paid repair starts.",
    ),
    Status.REFUND_FAILED: (Role.OPS, "The refund failed; the platform must retry it."),
    Status.IN_ARBITRATION: (Role.OPS, "The dispute is with third-party arbitration, whose ruling is final."),
}

_ENDING: dict[Outcome, str] = {
    Outcome.REFUNDED: "the buyer was refunded",
    Outcome.EXCHANGED: "the goods were exchanged",
    Outcome.REPAIRED: "the goods were repaired",
    Outcome.REJECTED: "the claim was rejected",
    Outcome.FORFEITED: "the buyer did not ship the goods back in time",
    Outcome.CANCELLED: "the buyer cancelled it",
    Outcome.QUOTE_DECLINED: "the buyer declined the repair quote",
    Outcome.RESOLVED: "the platform gave its written opinion",
}


def beijing_time(at: datetime) -> str:
    """``2026-11-25 18:00 (Beijing time)``: minutes are precise enough for a person."""
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (Beijing time)"


def _percent(basis_points: int) -> str:
    """50 → ``0.5 %``; 100 → ``1 %``."""
    value = (Decimal(basis_points) / 100).normalize()
    return f"{value:f} %"


def _actions(status: Status, claim_type: ClaimType) -> dict[Role, list[Action]]:
    actions = {role: allowed_actions(status, claim_type, role) for role in Role}
    return {role: listed for role, listed in actions.items() if listed}


def _stage_deadline(status: Status, claim_type: ClaimType, deadlines: Sequence[Deadline]) -> Deadline | None:
    """The earliest open deadline this stage opened; deadlines of other stages are ignored."""
    kinds = deadlines_for(status, claim_type)
    candidates = [d for d in deadlines if d.is_open and d.kind in kinds]
    return min(candidates, key=lambda d: (d.due_at, kinds.index(d.kind)), default=None)


def _deadline_sentence(deadline: Deadline, claim_type: ClaimType, rate: str, now: datetime | None) -> str:
    party = _PARTY[deadline.owner]
    task = _TASK[deadline.kind]
    if deadline.kind is K.BUYER_CONFIRMATION:
        task = f"confirm the {'repaired' if claim_type is ClaimType.REPAIR else 'replacement'} goods"
    if deadline.paused_since is not None:
        return (
            f"{party.capitalize()} must {task}; the deadline is paused since "
            f"{beijing_time(deadline.paused_since)} and resumes with the time left."
        )
    due = beijing_time(deadline.due_at)
    if deadline.extension_reason:
        due += f", extended because: {deadline.extension_reason}"
    consequence = _CONSEQUENCE[deadline.on_expiry]
    penalty = f" and a {rate} daily penalty applies" if _penalised(deadline) else ""
    if now is not None and now > deadline.due_at:
        return f"{party.capitalize()} was due to {task} by {due} and is late; {consequence}{penalty}."
    return f"{party.capitalize()} must {task} by {due}; if not, {consequence}{penalty}."


def _penalised(deadline: Deadline) -> bool:
    return deadline.penalty and deadline.owner is Role.MERCHANT and not deadline.buyer_caused_delay


def next_action(
    status: Status,
    claim_type: ClaimType,
    open_deadlines: Sequence[Deadline],
    *,
    outcome: Outcome | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> NextAction:
    """The next step of a claim in ``status``, from the deadlines its stage has open.

    ``policy`` gives the penalty rate to quote (the schema default otherwise); ``now``, when given,
    lets the sentence say a deadline is already late.
    """
    actions = _actions(status, claim_type)
    rate = _percent((policy.penalty if policy else PenaltyRule()).rate_basis_points_per_day)
    deadline = _stage_deadline(status, claim_type, open_deadlines)

    if status.is_final:
        ending = f"The claim is closed: {_ENDING[outcome]}" if outcome else "The claim is closed"
        if deadline is None:
            return NextAction(f"{ending}.", None, None, None, None, actions=actions)
        follow_up = f"{_PARTY[deadline.owner]} will {_TASK[deadline.kind]} by {beijing_time(deadline.due_at)}"
        return NextAction(
            f"{ending}; {follow_up}.",
            deadline.owner,
            deadline.due_at,
            deadline.source,
            deadline.on_expiry,
            deadline.kind,
            actions=actions,
        )

    if deadline is not None:
        return NextAction(
            _deadline_sentence(deadline, claim_type, rate, now),
            deadline.owner,
            deadline.due_at,
            deadline.source,
            deadline.on_expiry,
            deadline.kind,
            _penalised(deadline),
            actions,
        )

    owner, summary = _WAITING.get(status, (None, ""))
    if not summary:
        # A stage whose deadline is not recorded (yet): say who can move it rather than nothing.
        # A message moves nothing: who can move the claim is who has another action.
        people = [
            role
            for role in (Role.MERCHANT, Role.BUYER, Role.OPS)
            if any(action is not Action.MESSAGE for action in actions.get(role, []))
        ]
        owner = people[0] if people else None
        summary = f"Waiting for {_PARTY[owner] if owner else 'the platform'} to act; no deadline is set."
    return NextAction(summary, owner, None, None, None, actions=actions)
