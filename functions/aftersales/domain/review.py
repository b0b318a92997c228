"""The automatic first review of a claim (the workflow's ``Review`` step), as a pure decision.

Rules, first match wins (each decision names the rule, so the timeline can say why):
1. ``refund_only`` for ``not_received`` on an order the carrier reports signed for: auto-reject,
   reason code ``carrier_confirmed_delivery``; the buyer may dispute it (mediation looks at the proof).
2. ``refund_only`` for ``not_received`` with no sign-for on record: auto-approve
   (``no_proof_of_delivery``): the merchant has nothing to check.
3. A reason in ``policy.auto_approve_reasons``: auto-approve (``auto_approve_reason``).
4. A claimed amount below ``policy.auto_approve_below_fen``: auto-approve (``below_auto_approve_amount``).
5. Anything else waits for the merchant (``manual``).
Rules 1 and 2 apply only while ``policy.auto_review_not_received`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .model import ClaimType, Reason
from .policy import Policy


class Decision(StrEnum):
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    MANUAL = "manual"


@dataclass(frozen=True)
class ReviewDecision:
    decision: Decision
    rule: str  # a stable reason code


def review(
    claim_type: ClaimType, reason: Reason, amount_fen: int, *, signed_for: bool, policy: Policy
) -> ReviewDecision:
    if (
        policy.auto_review_not_received
        and claim_type is ClaimType.REFUND_ONLY
        and reason is Reason.NOT_RECEIVED
    ):
        if signed_for:
            return ReviewDecision(Decision.AUTO_REJECT, "carrier_confirmed_delivery")
        return ReviewDecision(Decision.AUTO_APPROVE, "no_proof_of_delivery")
    if reason in policy.auto_approve_reasons:
        return ReviewDecision(Decision.AUTO_APPROVE, "auto_approve_reason")
    if amount_fen < policy.auto_approve_below_fen:
        return ReviewDecision(Decision.AUTO_APPROVE, "below_auto_approve_amount")
    return ReviewDecision(Decision.MANUAL, "manual")
