"""Deadlines: which ones a stage opens, when each is due, who owes it, what happens when it passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import ClaimType, Role, Status
from .policy import DeadlineKind, OnExpiry

K = DeadlineKind

# The deadlines a claim opens when it enters a status (POLICY §4). Leaving the status closes them.
_STAGE_DEADLINES: dict[Status, tuple[DeadlineKind, ...]] = {
    Status.PENDING_REVIEW: (K.REVIEW_DECISION,),
    Status.AWAITING_RETURN_SHIPMENT: (K.RETURN_SHIPMENT,),
    Status.AWAITING_INSPECTION: (K.INSPECTION,),
    Status.AWAITING_REFUND: (K.REFUND,),
    Status.AWAITING_REPLACEMENT_SHIPMENT: (K.REPLACEMENT_SHIPMENT,),
    Status.REPAIRING: (K.REPAIR_COMPLETION,),
    Status.AWAITING_BUYER_CONFIRMATION: (K.BUYER_CONFIRMATION,),
    Status.REJECTED: (K.APPEAL,),
    Status.IN_MEDIATION: (K.CLASSIFY_DISPUTE, K.MEDIATION_PLAN),
    Status.AWAITING_OPINION: (K.FIRST_RESPONSE, K.COMPLAINT_OPINION),
    Status.CLOSED: (K.FOLLOW_UP_VISIT,),
}


def deadlines_for(status: Status, claim_type: ClaimType) -> tuple[DeadlineKind, ...]:
    """Deadline kinds opened on entering ``status``. A repair request is answered, not auto-approved."""
    if status is Status.PENDING_REVIEW and claim_type is ClaimType.REPAIR:
        return (K.REPAIR_ANSWER,)
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
    calendar_fallback: bool = False  # the calendar had no data for a year and Mon-Fri was used
    extension_reason: str | None = None
    paused_since: datetime | None = None
    paused_seconds: int = 0  # total time spent paused before ``paused_since``
    met_at: datetime | None = None
    buyer_caused_delay: bool = False

    @property
    def is_open(self) -> bool:
        return self.met_at is None
