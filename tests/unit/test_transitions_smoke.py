from aftersales.domain.model import Action, ClaimType, Role, Status
from aftersales.domain.transitions import transition


def test_merchant_approval_of_a_refund_only_claim_goes_straight_to_refund():
    moved = transition(Status.PENDING_REVIEW, Action.APPROVE, Role.MERCHANT, ClaimType.REFUND_ONLY)
    assert moved.target is Status.AWAITING_REFUND
