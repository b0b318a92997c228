"""The claim state machine (statemachine/claim.asl.json) executing in moto, every Lambda task running
the real handler in-process. Each test drives one story the way production does: the buyer submits
through the API (which starts the run named after the claim), people and carriers act through
``claims.act`` (which resumes the waiting run), sla_tick's lapses arrive as ``Deadline.<kind>``
failures. Each asserts the final claim, its timeline and the execution's status.

Transition counts asserted here are the ones docs/workflow.md reports.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aftersales import claims, workflow
from aftersales.domain.actions import input_for
from aftersales.domain.claim import Actor
from aftersales.domain.errors import IllegalTransition
from aftersales.domain.model import Action, Role
from aftersales.domain.policy import DeadlineKind
from aftersales.payments.sandbox import SandboxGateway
from aftersales.store import default_repository

from infra.local.lambda_dispatch import LocalLambdaContext
from infra.local.sample_data import put_coat_and_kettle_order
from tests.events.builder import http_event
from tests.support.workflow import START, ClaimWorkflow, claim_workflow, output_of, timeline

__all__ = ["claim_workflow"]  # the fixture

BUYER = Actor(Role.BUYER, "buyer-1")
MERCHANT = Actor(Role.MERCHANT, "staff-1", merchant_id="m-1")
OPS = Actor(Role.OPS, "ops-1")
CARRIER = Actor.system("logistics_events")
SLA_TICK = Actor.system("sla_tick")

COAT_FEN = 12990  # one of the two coats of line L1 (259.80 for two)
KETTLE_FEN = 12990


def put_order(order_id: str = "ord-1", *, delivered: bool = True) -> None:
    put_coat_and_kettle_order(order_id, delivered=delivered, source="test", now=START)


def submit(claim_type: str, reason: str, *, line_id: str = "L1", quantity: int = 1) -> str:
    """POST /claims through the real handler: opens the claim and starts its run."""
    from submit_claim.app import lambda_handler

    body = {
        "order_id": "ord-1",
        "line_id": line_id,
        "quantity": quantity,
        "type": claim_type,
        "reason": reason,
    }
    event = http_event(
        "POST",
        "/claims",
        route="/claims",
        claims={"sub": "buyer-1", "cognito:groups": "[buyer]"},
        body=body,
        headers={"Idempotency-Key": f"key-{claim_type}-{reason}"},
    )
    answer = lambda_handler(event, LocalLambdaContext("submit", "arn:aws:lambda:::function:submit", "r-1"))
    assert answer["statusCode"] == 201, answer["body"]
    return str(json.loads(answer["body"])["claim_id"])


def act(claim_id: str, actor: Actor, action: Action, **payload: Any) -> str:
    return claims.act(claim_id, actor, action, input_for(action, **payload), START).claim.status


def claim_of(claim_id: str) -> Any:
    claim = default_repository().get_claim(claim_id)
    assert claim is not None
    return claim


def ship_back(wf: ClaimWorkflow, claim_id: str, waybill: str = "SF1000001") -> None:
    """Approved return leg: buyer ships, carrier delivers to the merchant."""
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    act(claim_id, BUYER, Action.SHIP_RETURN, carrier="sf", waybill=waybill, fee_fen=1200)
    wf.waiting_at(claim_id, "return_in_transit")
    act(claim_id, CARRIER, Action.RETURN_DELIVERED)
    wf.waiting_at(claim_id, "awaiting_inspection")


# --------------------------------------------------------------------------- happy paths


def test_return_refund_approved_shipped_inspected_and_refunded(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    ship_back(wf, claim_id)
    act(claim_id, MERCHANT, Action.INSPECT_PASS, findings="seam torn")

    execution = wf.finished(claim_id)
    assert execution["status"] == "SUCCEEDED"
    assert output_of(execution) == {"claim_id": claim_id, "status": "closed"}
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome) == ("closed", "refunded")
    assert claim.rma_number and claim.return_address
    assert claim.task_token is None
    # The merchant is liable (quality defect): the buyer's declared 12.00 shipping is refunded too.
    [refund] = SandboxGateway.refunds_of(claim_id)
    assert (refund.idempotency_key, refund.amount_fen) == (f"{claim_id}#1", COAT_FEN + 1200)
    assert timeline(claim_id) == [
        ("buyer-1", "submit", "pending_review"),
        ("staff-1", "approve", "awaiting_return_shipment"),
        ("buyer-1", "ship_return", "return_in_transit"),
        ("logistics_events", "return_delivered", "awaiting_inspection"),
        ("staff-1", "inspect_pass", "awaiting_refund"),
        ("refund", "refund_succeeded", "closed"),
    ]
    assert wf.states_entered(claim_id) == [
        "Review", "NextStage",  # the review left it to the merchant and waited for them
        "AwaitReturnShipment", "NextStage",
        "AwaitReturnDelivery", "NextStage",
        "AwaitInspection", "NextStage",
        "Refund", "NextStage",
        "Closed",
    ]  # fmt: skip


def test_refund_only_not_received_without_sign_for_is_approved_and_refunded_at_once(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    put_order(delivered=False)
    claim_id = submit("refund_only", "not_received", line_id="L2")

    execution = wf.finished(claim_id)
    assert execution["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome) == ("closed", "refunded")
    assert [r.amount_fen for r in SandboxGateway.refunds_of(claim_id)] == [KETTLE_FEN]
    assert timeline(claim_id) == [
        ("buyer-1", "submit", "pending_review"),
        ("review", "auto_approve", "awaiting_refund"),
        ("refund", "refund_succeeded", "closed"),
    ]
    assert wf.states_entered(claim_id) == ["Review", "NextStage", "Refund", "NextStage", "Closed"]


def test_exchange_ships_a_replacement_and_the_buyer_confirms(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("exchange", "size_color_mismatch")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    ship_back(wf, claim_id)
    act(claim_id, MERCHANT, Action.INSPECT_PASS)
    wf.waiting_at(claim_id, "awaiting_replacement_shipment")
    act(claim_id, MERCHANT, Action.SHIP_REPLACEMENT, carrier="sf", waybill="SF2000001")
    wf.waiting_at(claim_id, "outbound_in_transit")
    act(claim_id, CARRIER, Action.OUTBOUND_DELIVERED)
    wf.waiting_at(claim_id, "awaiting_buyer_confirmation")
    act(claim_id, BUYER, Action.CONFIRM)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome) == ("closed", "exchanged")
    assert SandboxGateway.refunds_of(claim_id) == []
    assert [action for _, action, _ in timeline(claim_id)] == [
        "submit", "approve", "ship_return", "return_delivered", "inspect_pass",
        "ship_replacement", "outbound_delivered", "confirm",
    ]  # fmt: skip
    assert wf.transitions(claim_id) == 15


def test_repair_in_warranty_is_repaired_shipped_back_and_confirmed(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("repair", "quality_defect", line_id="L2")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    ship_back(wf, claim_id)
    act(claim_id, MERCHANT, Action.INSPECT_PASS)
    wf.waiting_at(claim_id, "repairing")
    act(claim_id, MERCHANT, Action.COMPLETE_REPAIR, carrier="sf", waybill="SF3000001")
    wf.waiting_at(claim_id, "outbound_in_transit")
    act(claim_id, CARRIER, Action.OUTBOUND_DELIVERED)
    wf.waiting_at(claim_id, "awaiting_buyer_confirmation")
    act(claim_id, BUYER, Action.CONFIRM)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome) == ("closed", "repaired")
    assert [action for _, action, _ in timeline(claim_id)][-4:] == [
        "inspect_pass", "complete_repair", "outbound_delivered", "confirm",
    ]  # fmt: skip
    assert wf.transitions(claim_id) == 15
    assert wf.states_entered(claim_id)[6:] == [
        "AwaitInspection", "NextStage",
        "AwaitRepair", "NextStage",
        "AwaitOutboundDelivery", "NextStage",
        "AwaitBuyerConfirmation", "NextStage",
        "Closed",
    ]  # fmt: skip


def test_paid_repair_quote_accepted_and_reopened_once(claim_workflow: ClaimWorkflow) -> None:
    """A buyer not satisfied with the repair reopens it once; the second time only confirming is left."""
    wf = claim_workflow
    put_order()
    claim_id = submit("repair", "paid_repair", line_id="L2")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    first_rma = claim_of(claim_id).rma_number
    for round_no in (1, 2):
        ship_back(wf, claim_id, waybill=f"SF40000{round_no}")
        if round_no == 1:
            act(claim_id, MERCHANT, Action.QUOTE_REPAIR, quote_fen=8000)
            wf.waiting_at(claim_id, "awaiting_quote_acceptance")
            act(claim_id, BUYER, Action.ACCEPT_QUOTE)
        else:
            act(claim_id, MERCHANT, Action.INSPECT_PASS)
        wf.waiting_at(claim_id, "repairing")
        act(claim_id, MERCHANT, Action.COMPLETE_REPAIR, carrier="sf", waybill=f"SF50000{round_no}")
        wf.waiting_at(claim_id, "outbound_in_transit")
        act(claim_id, CARRIER, Action.OUTBOUND_DELIVERED)
        wf.waiting_at(claim_id, "awaiting_buyer_confirmation")
        if round_no == 1:
            act(claim_id, BUYER, Action.REOPEN, note="still leaks")
    with pytest.raises(IllegalTransition):
        act(claim_id, BUYER, Action.REOPEN)
    act(claim_id, BUYER, Action.CONFIRM)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome, claim.reopen_count) == ("closed", "repaired", 1)
    assert claim.rma_number != first_rma  # the second trip back has its own return authorisation
    actions = [action for _, action, _ in timeline(claim_id)]
    assert actions.count("reopen") == 1 and actions[-1] == "confirm"
    assert "AwaitQuoteAnswer" in wf.states_entered(claim_id)
    assert wf.transitions(claim_id) == 29


def test_paid_repair_quote_left_unanswered_is_declined_and_the_goods_come_back_unrepaired(
    claim_workflow: ClaimWorkflow,
) -> None:
    """The quote_answer lapse declines the quote; the merchant ships the goods back (the carrier's
    delivery moves the claim on) and the buyer's confirmation lapses too: closed, quote_declined."""
    wf = claim_workflow
    put_order()
    claim_id = submit("repair", "paid_repair", line_id="L2")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    ship_back(wf, claim_id, waybill="SF600001")
    act(claim_id, MERCHANT, Action.QUOTE_REPAIR, quote_fen=8000)
    wf.waiting_at(claim_id, "awaiting_quote_acceptance")
    # What sla_tick does when the quote_answer deadline lapses.
    claims.act(
        claim_id, SLA_TICK, Action.DECLINE_QUOTE, None, START, lapsed_deadline=DeadlineKind.QUOTE_ANSWER
    )
    wf.waiting_at(claim_id, "awaiting_return_to_buyer")
    assert claim_of(claim_id).ship_back_payer == "buyer"
    with pytest.raises(IllegalTransition):
        act(claim_id, MERCHANT, Action.SHIP_REPLACEMENT, carrier="sf", waybill="SF700001")
    act(claim_id, MERCHANT, Action.SHIP_BACK, carrier="sf", waybill="SF700001")
    wf.waiting_at(claim_id, "outbound_in_transit")
    act(claim_id, CARRIER, Action.OUTBOUND_DELIVERED)
    wf.waiting_at(claim_id, "awaiting_buyer_confirmation")
    with pytest.raises(IllegalTransition):
        act(claim_id, BUYER, Action.REOPEN)  # nothing was repaired
    claims.act(
        claim_id, SLA_TICK, Action.AUTO_CONFIRM, None, START, lapsed_deadline=DeadlineKind.BUYER_CONFIRMATION
    )

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome) == ("closed", "quote_declined")
    assert claim.outbound_shipment.waybill == "SF700001"
    assert timeline(claim_id)[-5:] == [
        ("staff-1", "quote_repair", "awaiting_quote_acceptance"),
        ("sla_tick", "decline_quote", "awaiting_return_to_buyer"),
        ("staff-1", "ship_back", "outbound_in_transit"),
        ("logistics_events", "outbound_delivered", "awaiting_buyer_confirmation"),
        ("sla_tick", "auto_confirm", "closed"),
    ]
    assert wf.states_entered(claim_id)[6:] == [
        "AwaitInspection", "NextStage",
        "AwaitQuoteAnswer", "BuyerDidNotAnswerQuote", "NextStage",
        "AwaitReturnToBuyer", "NextStage",
        "AwaitOutboundDelivery", "NextStage",
        "AwaitBuyerConfirmation", "BuyerDidNotConfirm", "NextStage",
        "Closed",
    ]  # fmt: skip
    failed = [e["taskFailedEventDetails"]["error"] for e in wf.history(claim_id) if e["type"] == "TaskFailed"]
    assert failed == ["Deadline.quote_answer", "Deadline.buyer_confirmation"]
    assert wf.transitions(claim_id) == 19


def test_complaint_gets_the_platforms_opinion(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("complaint", "service", line_id="", quantity=0)
    wf.waiting_at(claim_id, "awaiting_opinion")
    act(claim_id, OPS, Action.GIVE_OPINION, opinion="agent retrained")

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "resolved")
    assert timeline(claim_id) == [
        ("buyer-1", "submit", "awaiting_opinion"),
        ("ops-1", "give_opinion", "closed"),
    ]
    assert wf.states_entered(claim_id) == [
        "Review", "NextStage", "AwaitComplaintOpinion", "NextStage", "Closed",
    ]  # fmt: skip


# --------------------------------------------------------------------------- disputes and lapses


def test_rejection_disputed_through_mediation_to_an_arbitration_ruling_that_refunds(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "not_as_described")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.REJECT, reason="worn")
    wf.waiting_at(claim_id, "rejected")
    act(claim_id, BUYER, Action.DISPUTE, note="never worn")
    wf.waiting_at(claim_id, "in_mediation")
    act(claim_id, OPS, Action.ESCALATE)
    wf.waiting_at(claim_id, "in_arbitration")
    act(claim_id, OPS, Action.RULING_REFUND, refund_fen=6000, payer="merchant")

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    claim = claim_of(claim_id)
    assert (claim.status, claim.outcome, claim.escalation_level) == ("closed", "refunded", "arbitration")
    # The ruling is final: it fixes the amount (no shipping on top).
    assert [r.amount_fen for r in SandboxGateway.refunds_of(claim_id)] == [6000]
    assert [action for _, action, _ in timeline(claim_id)] == [
        "submit", "reject", "dispute", "escalate", "ruling_refund", "refund_succeeded",
    ]  # fmt: skip
    assert wf.states_entered(claim_id) == [
        "Review", "NextStage",  # the review left it to the merchant and waited for them
        "AwaitBuyerAppeal", "NextStage",
        "AwaitMediation", "NextStage",
        "AwaitArbitration", "NextStage",
        "Refund", "NextStage",
        "Closed",
    ]  # fmt: skip


def test_not_received_but_signed_for_is_auto_rejected_and_closes_when_the_buyer_accepts(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    put_order(delivered=True)
    claim_id = submit("refund_only", "not_received", line_id="L2")
    wf.waiting_at(claim_id, "rejected")
    act(claim_id, BUYER, Action.CONFIRM)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "rejected")
    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    assert record.timeline[1].actor_id == "review"
    assert record.timeline[1].details["reason"] == "carrier_confirmed_delivery"


def test_buyer_never_ships_and_forfeits_when_the_deadline_lapses(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    # What sla_tick does when the return_shipment deadline lapses.
    claims.act(claim_id, SLA_TICK, Action.FORFEIT, None, START, lapsed_deadline=DeadlineKind.RETURN_SHIPMENT)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "forfeited")
    assert timeline(claim_id)[-1] == ("sla_tick", "forfeit", "closed")
    assert wf.states_entered(claim_id)[-4:] == [
        "AwaitReturnShipment",
        "BuyerDidNotShip",
        "NextStage",
        "Closed",
    ]
    failed = [e for e in wf.history(claim_id) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["Deadline.return_shipment"]


# --------------------------------------------------------------------------- refunds that fail


def approved_refund_only(wf: ClaimWorkflow) -> str:
    put_order(delivered=False)
    return submit("refund_only", "not_received", line_id="L2")


def test_refund_gateway_failing_then_succeeding_pays_once(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    SandboxGateway.fail_next_refunds(2)
    claim_id = approved_refund_only(wf)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "refunded")
    assert len(wf.lambdas.calls_to("aftersales-refund")) == 3
    assert [(r.idempotency_key, r.amount_fen) for r in SandboxGateway.refunds_of(claim_id)] == [
        (f"{claim_id}#1", KETTLE_FEN)
    ]
    assert timeline(claim_id)[-1] == ("refund", "refund_succeeded", "closed")


def test_refund_gateway_failing_for_good_leaves_refund_failed_for_ops_who_retry(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    SandboxGateway.fail_next_refunds(99)
    claim_id = approved_refund_only(wf)

    wf.waiting_at(claim_id, "refund_failed")
    assert claim_of(claim_id).status == "refund_failed"
    assert SandboxGateway.refunds_of(claim_id) == []
    assert timeline(claim_id)[-1] == ("refund", "refund_failed", "refund_failed")
    assert wf.status(claim_id) == "RUNNING"  # parked at AwaitOps, not lost

    SandboxGateway.fail_next_refunds(0)
    act(claim_id, OPS, Action.RETRY_REFUND)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "refunded")
    # The failed attempts were never confirmed either way: the retry pays under the same key, so a
    # refund that did go through would be answered from the gateway's record, not paid again.
    assert [(r.idempotency_key, r.amount_fen) for r in SandboxGateway.refunds_of(claim_id)] == [
        (f"{claim_id}#1", KETTLE_FEN)
    ]
    assert [action for _, action, _ in timeline(claim_id)][-3:] == [
        "refund_failed", "retry_refund", "refund_succeeded",
    ]  # fmt: skip
    entered = wf.states_entered(claim_id)
    assert entered[2:] == [
        "Refund", "RecordRefundFailure", "NextStage", "AwaitOps",
        "NextStage", "Refund", "NextStage", "Closed",
    ]  # fmt: skip


def test_a_declined_refund_is_not_retried_and_the_ops_retry_takes_a_new_key(
    claim_workflow: ClaimWorkflow,
) -> None:
    wf = claim_workflow
    SandboxGateway.decline_next_refunds(1)
    claim_id = approved_refund_only(wf)

    wf.waiting_at(claim_id, "refund_failed")
    assert len(wf.lambdas.calls_to("aftersales-refund")) == 2  # the refusal, then recording it: no retry
    assert claim_of(claim_id).refund_declined is True
    act(claim_id, OPS, Action.RETRY_REFUND)

    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    assert [(r.idempotency_key, r.amount_fen) for r in SandboxGateway.refunds_of(claim_id)] == [
        (f"{claim_id}#2", KETTLE_FEN)
    ]


# --------------------------------------------------------------------------- exactly once


def test_duplicate_and_late_completions_are_no_ops(claim_workflow: ClaimWorkflow) -> None:
    wf = claim_workflow
    put_order()
    claim_id = submit("return_refund", "quality_defect")
    token = wf.waiting_at(claim_id, "pending_review")
    act(claim_id, MERCHANT, Action.APPROVE)
    wf.waiting_at(claim_id, "awaiting_return_shipment")
    entered = wf.states_entered(claim_id)

    # The same decision again, and sla_tick's auto-approval arriving late: refused by the claim, so
    # neither clears a token and neither touches the run.
    with pytest.raises(IllegalTransition):
        act(claim_id, MERCHANT, Action.APPROVE)
    with pytest.raises(IllegalTransition):
        claims.act(
            claim_id, SLA_TICK, Action.AUTO_APPROVE, None, START, lapsed_deadline=DeadlineKind.REVIEW_DECISION
        )
    # The stale token replayed while the run waits elsewhere: the run does not move.
    workflow.complete_task(token, {"claim_id": claim_id, "status": "closed"})
    # A retried submit starts no second run.
    assert workflow.start_claim_run(claim_id, {"type": "return_refund", "status": "pending_review"})
    assert wf.states_entered(claim_id) == entered
    assert claim_of(claim_id).status == "awaiting_return_shipment"

    claims.act(claim_id, SLA_TICK, Action.FORFEIT, None, START, lapsed_deadline=DeadlineKind.RETURN_SHIPMENT)
    assert wf.finished(claim_id)["status"] == "SUCCEEDED"
    # After the run closed, a replay is refused by Step Functions (moto: InvalidToken) and logged.
    assert workflow.complete_task(token, {"claim_id": claim_id, "status": "closed"}) is False

    assert [action for _, action, _ in timeline(claim_id)] == ["submit", "approve", "forfeit"]
    assert (claim_of(claim_id).status, claim_of(claim_id).outcome) == ("closed", "forfeited")
    assert len(wf.sfn.list_executions(stateMachineArn=wf.state_machine_arn)["executions"]) == 1


def test_an_unexpected_failure_parks_the_claim_and_ops_resume_it(claim_workflow: ClaimWorkflow) -> None:
    from claims_api.app import lambda_handler as claims_api

    from infra.local.lambda_dispatch import inprocess_lambdas
    from infra.local.workflow import FUNCTIONS, handlers

    def review_outage(event: Any, context: Any) -> Any:
        raise RuntimeError("policy store unreachable")  # not a Lambda service error: no retry

    def resume(as_ops: bool = True) -> dict[str, Any]:
        who = (
            {"sub": "ops-1", "cognito:groups": "[ops]"}
            if as_ops
            else {"sub": "buyer-1", "cognito:groups": "[buyer]"}
        )
        event = http_event(
            "POST",
            f"/claims/{claim_id}/resume",
            route="/claims/{claim_id}/{action}",
            claims=who,
            body={},
            path_params={"claim_id": claim_id, "action": "resume"},
        )
        answer = claims_api(event, LocalLambdaContext("api", "arn:aws:lambda:::function:api", "r-2"))
        return {"status": answer["statusCode"], "body": json.loads(answer["body"])}

    wf = claim_workflow
    put_order()
    with inprocess_lambdas({**handlers(), FUNCTIONS["ReviewFunctionArn"]: review_outage}):
        claim_id = submit("return_refund", "quality_defect")
        wf.waiting_at(claim_id, "parked")
    assert claim_of(claim_id).parked_reason == "RuntimeError"
    assert "ParkForOps" in wf.states_entered(claim_id)

    assert resume(as_ops=False)["status"] == 404  # buyers do not see ops routes
    resumed = resume()
    assert resumed["status"] == 200 and resumed["body"]["status"] == "pending_review"
    assert resume()["body"]["code"] == "not_parked"  # a second click resumes nothing

    wf.waiting_at(claim_id, "pending_review")  # the run went on: the merchant decides now
    assert claim_of(claim_id).parked_reason is None
    assert [action for _, action, _ in timeline(claim_id)] == ["submit", "park_for_ops", "resume_run"]
    assert wf.status(claim_id) == "RUNNING"
