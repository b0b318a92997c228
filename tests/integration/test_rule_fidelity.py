"""Rules as the API shows them: the first response every claim is owed, which calendar counted a
deadline, and return shipping refunded at the actual charge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aftersales.clock import iso, parse_instant
from aftersales.events import RecordingPublisher
from aftersales.payments.sandbox import SandboxGateway
from aftersales.sla import run_tick
from aftersales.store import default_repository
from aftersales.workflow_steps import refund_claim

from .conftest import BUYER, MERCHANT, OPS, START, Api, Clock, claim_body

COAT_FEN = 12_990  # one of the two coats of ord-1


def _detail(api: Api, claim_id: str, as_: dict[str, Any] = BUYER) -> dict[str, Any]:
    answer = api.call("GET", f"/claims/{claim_id}", as_=as_)
    assert answer.status == 200, answer.body
    return answer.body


def _deadline(detail: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in detail["deadlines"] if d["kind"] == kind)


# --- first response --------------------------------------------------------------------------------


def test_a_new_return_waits_first_for_the_merchants_response(api: Api, claim: dict[str, Any]) -> None:
    detail = _detail(api, claim["claim_id"])
    first = _deadline(detail, "first_response")
    assert (first["owner"], first["due_at"], first["open"]) == ("merchant", "2026-11-21T02:00:00Z", True)
    assert first["rule"] == "001 §三(续)2; 003 §4.3.1"
    assert detail["next_action"]["deadline"] == "first_response"
    assert detail["next_action"]["summary"].startswith("The merchant must respond to the claim by 2026-11-21")


def test_the_merchants_extension_is_a_response(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    extended = api.act(
        claim_id, "extension", {"due_at": "2026-11-30T02:00:00Z", "reason": "checking stock"}, as_=MERCHANT
    )
    assert extended.status == 200, extended.body
    detail = _detail(api, claim_id, MERCHANT)
    first, review = _deadline(detail, "first_response"), _deadline(detail, "review_decision")
    assert first["met_at"] == "2026-11-20T02:00:00Z" and not first["open"]
    assert (review["due_at"], review["extension_reason"]) == ("2026-11-30T02:00:00Z", "checking stock")
    assert detail["timeline"][-1]["details"]["met"] == ["first_response"]
    assert detail["next_action"]["deadline"] == "review_decision"


def test_the_merchants_message_is_a_response_the_buyers_is_not(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    asked = api.act(claim_id, "messages", {"text": "any news? call 13812345678"}, as_=BUYER)
    assert asked.status == 200 and asked.body["status"] == "pending_review"
    assert _deadline(_detail(api, claim_id), "first_response")["open"]
    answered = api.act(claim_id, "messages", {"text": "we are checking the seam"}, as_=MERCHANT)
    assert answered.status == 200 and answered.body["version"] == 3
    detail = _detail(api, claim_id, MERCHANT)
    assert not _deadline(detail, "first_response")["open"]
    assert _deadline(detail, "review_decision")["open"]  # a message decides nothing
    notes = [(e["actor"]["role"], e["action"], e["note"]) for e in detail["timeline"][1:]]
    assert notes == [
        ("buyer", "message", "any news? call 138****5678"),  # the buyer's phone, masked for the merchant
        ("merchant", "message", "we are checking the seam"),
    ]


def test_an_agents_message_answers_a_complaint(api: Api, order: dict[str, Any]) -> None:
    body = claim_body(type="complaint", reason="service", quantity=0, line_id="")
    claim_id = api.submit(body).body["claim_id"]
    api.act(claim_id, "messages", {"text": "we are looking into it"}, as_=OPS)
    detail = _detail(api, claim_id)
    assert not _deadline(detail, "first_response")["open"]
    assert detail["next_action"]["deadline"] == "complaint_opinion"


def test_a_message_needs_text_and_an_open_claim(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    empty = api.act(claim_id, "messages", {"text": "   "}, as_=BUYER)
    assert empty.status == 422 and empty.body["code"] == "validation_error"
    api.act(claim_id, "cancel", {}, as_=BUYER)
    late = api.act(claim_id, "messages", {"text": "hello?"}, as_=MERCHANT)
    assert late.status == 409 and late.body["code"] == "illegal_transition"


def test_a_decision_is_a_response(api: Api, claim: dict[str, Any]) -> None:
    api.act(claim["claim_id"], "decision", {"decision": "approve"}, as_=MERCHANT)
    first = _deadline(_detail(api, claim["claim_id"]), "first_response")
    assert first["met_at"] is not None


def test_an_escalation_is_not_a_response_and_a_late_one_is_still_owed(
    api: Api, claim: dict[str, Any], clock: Clock
) -> None:
    claim_id = claim["claim_id"]
    api.act(claim_id, "escalate", {"reason": "vip"}, as_=OPS)
    assert _deadline(_detail(api, claim_id), "first_response")["open"]
    clock.advance(hours=25)
    overdue = api.call("GET", "/ops/claims", as_=OPS, query={"overdue": "true"})
    assert [c["claim_id"] for c in overdue.body["claims"]] == [claim_id]
    detail = _detail(api, claim_id)
    assert detail["next_action"]["summary"].startswith("The merchant was due to respond to the claim")


def test_an_urgent_complaint_is_the_platforms_to_answer_within_the_hour(
    api: Api, order: dict[str, Any]
) -> None:
    body = claim_body(type="complaint", reason="service", quantity=0, line_id="", urgent=True)
    submitted = api.submit(body)
    assert submitted.status == 201, submitted.body
    first = _deadline(_detail(api, submitted.body["claim_id"]), "first_response")
    assert (first["owner"], first["due_at"]) == ("ops", "2026-11-20T03:00:00Z")
    assert first["calendar"] is None  # clock hours: no calendar involved


def test_an_urgent_return_still_gets_24_hours(api: Api, order: dict[str, Any]) -> None:
    submitted = api.submit(claim_body(urgent=True))
    first = _deadline(_detail(api, submitted.body["claim_id"]), "first_response")
    assert first["due_at"] == "2026-11-21T02:00:00Z"


# --- which calendar ----------------------------------------------------------------------------------


def test_the_view_says_which_calendar_counted_each_deadline(api: Api, claim: dict[str, Any]) -> None:
    review = _deadline(_detail(api, claim["claim_id"]), "review_decision")
    assert review["calendar"] == {
        "layer": "library",
        "official": True,
        "description": "official calendar (chinesecalendar)",
    }


def test_a_deadline_counted_into_2027_is_marked_provisional(
    api: Api, claim: dict[str, Any], clock: Clock
) -> None:
    clock.set(START.replace(month=12, day=30))  # the 7 working days of the refund run into 2027
    claim_id = claim["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF5550001"}, as_=BUYER)
    api.act(claim_id, "return-received", as_=MERCHANT)
    api.act(claim_id, "inspection", {"passed": True, "findings": "seam torn"}, as_=MERCHANT)
    refund = _deadline(_detail(api, claim_id), "refund")
    assert refund["calendar"]["layer"] == "provisional" and refund["calendar"]["official"] is False
    # 31 Dec, then 4-8 and 11 Jan: 1 Jan 2027 is a statutory day off even without the notice.
    assert refund["due_at"] == "2027-01-11T02:00:00Z"


# --- return shipping at the actual charge ---------------------------------------------------------------


def _to_refund(api: Api, claim_id: str, shipment: dict[str, Any]) -> None:
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    shipped = api.act(claim_id, "shipment", shipment, as_=BUYER)
    assert shipped.status == 200, shipped.body
    api.act(claim_id, "return-received", as_=MERCHANT)
    api.act(claim_id, "inspection", {"passed": True, "findings": "seam torn"}, as_=MERCHANT)


def test_a_merchant_liable_return_refunds_the_declared_shipping_in_full(
    api: Api, claim: dict[str, Any]
) -> None:
    claim_id = claim["claim_id"]
    _to_refund(api, claim_id, {"carrier": "sf", "waybill": "SF5550002", "shipping_fee": "48.00"})
    refund_claim(claim_id, START + timedelta(hours=1))
    [paid] = SandboxGateway.refunds_of(claim_id)
    assert paid.amount_fen == COAT_FEN + 4800  # no 20.00 cap: 002 §6.1.2, the actual charge
    refunded = next(e for e in _detail(api, claim_id)["timeline"] if e["action"] == "refund_succeeded")
    assert refunded["details"]["refund"]["shipping_fen"] == 4800


@pytest.fixture
def strict_merchant(api: Api) -> None:
    """Merchant m-1 caps refunded shipping at 30.00 and wants the receipt above 20.00 (its policy
    layer, saved through the API; POLICY §3 lets a merchant's policy set both)."""
    saved = api.call(
        "PUT",
        "/merchant/policy",
        as_=MERCHANT,
        body={"policy": {"max_return_shipping_fen": 3000, "return_shipping_receipt_above_fen": 2000}},
        headers={"Idempotency-Key": "strict-merchant-1"},
    )
    assert saved.status == 200, saved.body


def test_a_merchant_policy_may_cap_shipping_and_ask_for_the_receipt(
    api: Api, order: dict[str, Any], strict_merchant: None
) -> None:
    claim_id = api.submit(claim_body()).body["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    refused = api.act(
        claim_id, "shipment", {"carrier": "sf", "waybill": "SF5550003", "shipping_fee": "48.00"}, as_=BUYER
    )
    assert refused.status == 422 and refused.body["code"] == "shipping_receipt_required"
    assert refused.body["details"] == {"threshold_fen": 2000, "declared_fen": 4800}
    assert _detail(api, claim_id)["claim"]["status"] == "awaiting_return_shipment"  # nothing half-written

    foreign = api.act(
        claim_id,
        "shipment",
        {"carrier": "sf", "waybill": "SF5550003", "shipping_fee": "48.00", "receipt_key": "evidence/x/r.jpg"},
        as_=BUYER,
    )
    assert foreign.status == 400 and foreign.body["code"] == "invalid_evidence_key"

    receipt = "evidence/buyer-1/receipt-sf.jpg"
    shipment = {"carrier": "sf", "waybill": "SF5550003", "shipping_fee": "48.00", "receipt_key": receipt}
    shipped = api.act(claim_id, "shipment", shipment, as_=BUYER)
    assert shipped.status == 200, shipped.body
    entry = next(e for e in _detail(api, claim_id)["timeline"] if e["action"] == "ship_return")
    assert entry["details"]["receipt_key"] == receipt
    api.act(claim_id, "return-received", as_=MERCHANT)
    api.act(claim_id, "inspection", {"passed": True, "findings": "seam torn"}, as_=MERCHANT)
    refund_claim(claim_id, START + timedelta(hours=1))
    [paid] = SandboxGateway.refunds_of(claim_id)
    assert paid.amount_fen == COAT_FEN + 3000  # the merchant's own cap


# --- ops findings on the clock: force majeure, a buyer-caused delay ----------------------------------


def _at_inspection(api: Api, claim_id: str) -> None:
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF5550010"}, as_=BUYER)
    api.act(claim_id, "return-received", as_=MERCHANT)


def _tick(at: datetime) -> None:
    run_tick(at, repo=default_repository(), publisher=RecordingPublisher())


def test_a_force_majeure_pause_stops_the_clock_and_the_penalties_until_ops_end_it(
    api: Api, claim: dict[str, Any], clock: Clock
) -> None:
    claim_id = claim["claim_id"]
    _at_inspection(api, claim_id)
    due = _deadline(_detail(api, claim_id), "inspection")["due_at"]
    paused = api.act(claim_id, "pause", {"reason": "typhoon closed the warehouse"}, as_=OPS)
    assert paused.status == 200 and paused.body["status"] == "awaiting_inspection"
    detail = _detail(api, claim_id)
    entry = detail["timeline"][-1]
    assert (entry["action"], entry["details"]["reason"]) == ("pause_clock", "typhoon closed the warehouse")
    assert "the deadline is paused since" in detail["next_action"]["summary"]

    clock.advance(days=10)
    _tick(clock.at)  # nothing lapses, nothing is charged while paused
    detail = _detail(api, claim_id)
    assert detail["claim"]["status"] == "awaiting_inspection" and detail["penalties"]["days"] == []

    api.act(claim_id, "unpause", {}, as_=OPS)
    resumed = _deadline(_detail(api, claim_id), "inspection")
    assert resumed["due_at"] == iso(parse_instant(due) + timedelta(days=10))  # the paused time given back
    assert api.act(claim_id, "unpause", {}, as_=OPS).body["code"] == "deadline_not_paused"


def test_a_pause_with_an_end_runs_on_by_itself(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    until = START + timedelta(days=3)
    answer = api.act(claim_id, "pause", {"reason": "carrier strike", "until": iso(until)}, as_=OPS)
    assert answer.status == 200, answer.body
    review = _deadline(_detail(api, claim_id), "review_decision")
    assert review["due_at"] == "2026-11-27T02:00:00Z"  # Tue 24 Nov + the 3 paused days
    assert _detail(api, claim_id)["timeline"][-1]["details"]["until"] == iso(until)
    refused = api.act(claim_id, "pause", {"reason": "x", "until": iso(START - timedelta(days=1))}, as_=OPS)
    assert refused.status == 422 and refused.body["code"] == "pause_until_not_later"


def test_only_ops_pause_a_claim(api: Api, claim: dict[str, Any]) -> None:
    assert api.act(claim["claim_id"], "pause", {"reason": "rain"}, as_=MERCHANT).status == 404


def test_a_delay_found_to_be_the_buyers_charges_no_penalty_but_the_outcome_comes(
    api: Api, claim: dict[str, Any], clock: Clock
) -> None:
    claim_id = claim["claim_id"]
    _at_inspection(api, claim_id)
    before = _detail(api, claim_id)["next_action"]
    assert before["penalty"] is True
    found = api.act(claim_id, "buyer-delay", {"reason": "the buyer sent the parcel without the RMA"}, as_=OPS)
    assert found.status == 200, found.body
    detail = _detail(api, claim_id)
    assert detail["next_action"]["penalty"] is False and "penalty" not in detail["next_action"]["summary"]
    assert detail["timeline"][-1]["details"]["deadlines"][0]["deadline"] == "inspection"
    again = api.act(claim_id, "buyer-delay", {"reason": "again"}, as_=OPS)
    assert again.status == 422 and again.body["code"] == "no_penalty_deadline"

    clock.advance(days=10)
    for day in range(4):
        _tick(clock.at + timedelta(days=day))
    detail = _detail(api, claim_id)
    assert detail["penalties"] == {"total": "0.00", "days": []}
    assert detail["claim"]["status"] == "awaiting_refund"  # auto-accepted all the same
    refund = _deadline(detail, "refund")
    assert refund["open"] and detail["next_action"]["penalty"] is True  # a new stage, its own finding
