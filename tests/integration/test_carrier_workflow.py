"""A carrier event resumes the claim's waiting workflow run (the real ASL in moto)."""

from __future__ import annotations

from datetime import timedelta

from aftersales import carrier_events
from aftersales.domain.model import Action
from aftersales.logistics import ParcelEvent

from tests.integration.test_claim_workflow import BUYER, MERCHANT, act, claim_of, put_order, submit
from tests.support.workflow import START, ClaimWorkflow, claim_workflow, timeline

__all__ = ["claim_workflow"]


def test_a_carrier_delivery_resumes_the_run_waiting_for_the_return(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    act(claim_id, BUYER, Action.SHIP_RETURN, carrier="sf", waybill="SF3000000001")
    wf.waiting_at(claim_id, "return_in_transit")

    delivered = ParcelEvent(
        carrier="sf",
        waybill="SF3000000001",
        status="delivered",
        occurred_at=START - timedelta(minutes=5),
        provider_event_id="d-1",
    )
    assert carrier_events.handle(delivered, START).actions == ["return_delivered"]
    wf.waiting_at(claim_id, "awaiting_inspection")  # the run moved on and waits at the next stage
    assert claim_of(claim_id).status == "awaiting_inspection"
    assert timeline(claim_id)[-1] == ("carrier", "return_delivered", "awaiting_inspection")
    assert wf.states_entered(claim_id)[-1] == "AwaitInspection"
    assert wf.status(claim_id) == "RUNNING"
