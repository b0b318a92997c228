"""The claim state machine (the real ASL in moto) decides by the policy versions a claim opened under:
the review step's auto-approve threshold raised by the merchant between two claims applies only to
the claim opened after it, while both runs are under way."""

from __future__ import annotations

from aftersales import policy_layers
from aftersales.domain.policy import Layer, LayerKind

from tests.integration.test_claim_workflow import claim_of, put_order, submit
from tests.support.workflow import START, ClaimWorkflow, claim_workflow, timeline

__all__ = ["claim_workflow"]  # the fixture


def test_the_review_step_applies_the_threshold_of_the_claims_own_policy_version(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    put_order()
    before = submit("return_refund", "quality_defect")
    wf.waiting_at(before, "pending_review")  # no automatic approval on amount: the platform's 0
    saved = policy_layers.save(
        Layer(LayerKind.MERCHANT, "m-1"), {"auto_approve_below_fen": 50_000}, saved_by="staff-1", now=START
    )
    after = submit("exchange", "size_color_mismatch")
    wf.waiting_at(after, "awaiting_return_shipment")
    assert timeline(after)[1] == ("review", "auto_approve", "awaiting_return_shipment")
    assert claim_of(after).policy_version == f"platform@1+merchant-m-1@{saved.ref.version}"
    assert claim_of(before).status == "pending_review"
    assert [action for _, action, _ in timeline(before)] == ["submit"]
    assert wf.states_entered(before) == ["Review"]  # the review step itself waits for the merchant
