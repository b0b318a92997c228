"""Each route, driven through the real handlers with API Gateway v2 events."""

from __future__ import annotations

from typing import Any

from aftersales import carrier_events
from aftersales.logistics import ParcelEvent

from .conftest import BUYER, CLAIM_ID, MERCHANT, OPS, Api, Clock, claim_body, order_body


def _status(api: Api, claim_id: str, as_: dict[str, Any] = BUYER) -> str:
    return api.call("GET", f"/claims/{claim_id}", as_=as_).body["claim"]["status"]


def test_submit_returns_the_claim_with_amounts_from_the_order(api: Api, order: dict[str, Any]) -> None:
    answer = api.submit(claim_body(quantity=1))
    assert answer.status == 201
    assert CLAIM_ID.match(answer.body["claim_id"])
    assert answer.headers["Location"] == f"/claims/{answer.body['claim_id']}"
    assert answer.body["amount"] == "129.90"  # half of the 259.80 line
    assert answer.body["status"] == "pending_review"
    assert answer.body["shipping_payer"] == "merchant"


def test_detail_has_timeline_deadlines_penalties_and_next_action(api: Api, claim: dict[str, Any]) -> None:
    answer = api.call("GET", f"/claims/{claim['claim_id']}", as_=BUYER)
    assert answer.status == 200
    body = answer.body
    assert [e["action"] for e in body["timeline"]] == ["submit"]
    assert [d["kind"] for d in body["deadlines"]] == ["first_response", "review_decision"]
    assert all(d["due_at"].endswith("Z") for d in body["deadlines"])
    assert body["penalties"] == {"total": "0.00", "days": []}
    assert body["next_action"]["owner"] == "merchant"
    assert body["next_action"]["your_actions"] == ["cancel", "message"]


def test_return_refund_walks_through_every_merchant_and_buyer_step(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    approved = api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    assert approved.status == 200 and approved.body["status"] == "awaiting_return_shipment"
    authorisation = approved.body["return_authorisation"]
    assert authorisation["rma_number"] and authorisation["address"]
    assert authorisation["shipping_payer"] == "merchant"  # a quality defect: the merchant pays the return
    shipped = api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF1234567890"}, as_=BUYER)
    assert shipped.body["status"] == "return_in_transit"
    assert shipped.body["return_shipment"]["waybill"] == "SF1234567890"
    arrived = api.act(claim_id, "return-received", as_=MERCHANT)
    assert arrived.body["status"] == "awaiting_inspection"
    inspected = api.act(claim_id, "inspection", {"passed": True, "findings": "seam torn"}, as_=MERCHANT)
    assert inspected.status == 200 and inspected.body["status"] == "awaiting_refund"
    detail = api.call("GET", f"/claims/{claim_id}", as_=BUYER).body
    assert [e["action"] for e in detail["timeline"]] == [
        "submit",
        "approve",
        "ship_return",
        "return_delivered",
        "inspect_pass",
    ]
    open_kinds = [d["kind"] for d in detail["deadlines"] if d["open"]]
    assert open_kinds == ["refund"]


def test_exchange_ships_a_replacement_and_the_buyer_confirms_and_rates(
    api: Api, order: dict[str, Any]
) -> None:
    claim_id = api.submit(claim_body(type="exchange", reason="size_color_mismatch")).body["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF0000000001"}, as_=BUYER)
    api.act(claim_id, "return-received", as_=MERCHANT)
    api.act(claim_id, "inspection", {"passed": True}, as_=MERCHANT)
    sent = api.act(claim_id, "replacement", {"carrier": "yto", "waybill": "YT0000000002"}, as_=MERCHANT)
    assert sent.body["status"] == "outbound_in_transit"
    api.act(claim_id, "received", as_=BUYER)
    closed = api.act(claim_id, "accept", as_=BUYER)
    assert closed.body["status"] == "closed" and closed.body["outcome"] == "exchanged"
    scores = {"response_speed": 5, "resolution": 4, "attitude": 5, "convenience": 3, "timeliness": 4}
    rated = api.act(claim_id, "rating", {**scores, "comment": "ok"}, as_=BUYER)
    assert rated.status == 200 and rated.body["rating"]["resolution"] == 4
    again = api.act(claim_id, "rating", scores, as_=BUYER)
    assert (again.status, again.body["code"]) == (409, "already_rated")


def test_paid_repair_quote_accept_complete(api: Api, order: dict[str, Any]) -> None:
    claim_id = api.submit(claim_body(line_id="L2", type="repair", reason="paid_repair")).body["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF0000000003"}, as_=BUYER)
    api.act(claim_id, "return-received", as_=MERCHANT)
    quoted = api.act(claim_id, "repair", {"quote": "80.00"}, as_=MERCHANT)
    assert quoted.body["status"] == "awaiting_quote_acceptance" and quoted.body["quote"] == "80.00"
    assert api.act(claim_id, "accept", as_=BUYER).body["status"] == "repairing"
    done = api.act(
        claim_id, "repair", {"completed": True, "carrier": "sf", "waybill": "SF0000000004"}, as_=MERCHANT
    )
    assert done.body["status"] == "outbound_in_transit"


def test_a_declined_quote_ships_the_goods_back_and_closes_once_the_buyer_has_them(
    api: Api, order: dict[str, Any], clock: Clock
) -> None:
    claim_id = api.submit(claim_body(line_id="L2", type="repair", reason="paid_repair")).body["claim_id"]
    api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    api.act(claim_id, "shipment", {"carrier": "sf", "waybill": "SF0000000005"}, as_=BUYER)
    api.act(claim_id, "return-received", as_=MERCHANT)
    api.act(claim_id, "repair", {"quote": "80.00"}, as_=MERCHANT)
    declined = api.act(claim_id, "dispute", {"reason": "too expensive"}, as_=BUYER)
    assert declined.status == 200, declined.body
    assert (declined.body["status"], declined.body["outcome"]) == ("awaiting_return_to_buyer", None)
    assert declined.body["ship_back_payer"] == "buyer"
    detail = api.call("GET", f"/claims/{claim_id}", as_=MERCHANT).body
    assert [d["kind"] for d in detail["deadlines"] if d["open"]] == ["return_to_buyer"]
    assert detail["next_action"]["owner"] == "merchant"
    assert "ship the unrepaired goods back" in detail["next_action"]["summary"]
    assert "ship_back" in detail["next_action"]["your_actions"]

    sent = api.act(claim_id, "replacement", {"carrier": "yto", "waybill": "YT0000000006"}, as_=MERCHANT)
    assert sent.status == 200, sent.body
    assert sent.body["status"] == "outbound_in_transit"
    assert sent.body["outbound_shipment"]["waybill"] == "YT0000000006"
    # The outbound waybill is registered: the carrier's delivery moves the claim on.
    delivered = ParcelEvent(
        carrier="yto",
        waybill="YT0000000006",
        status="delivered",
        occurred_at=clock.at,
        provider_event_id="d-1",
    )
    assert carrier_events.handle(delivered, clock.at).actions == ["outbound_delivered"]
    assert _status(api, claim_id) == "awaiting_buyer_confirmation"
    reopen = api.act(claim_id, "dispute", {"reason": "still broken"}, as_=BUYER)
    assert (reopen.status, reopen.body["code"]) == (409, "illegal_transition")  # nothing was repaired
    closed = api.act(claim_id, "accept", as_=BUYER)
    assert (closed.body["status"], closed.body["outcome"]) == ("closed", "quote_declined")
    actions = [e["action"] for e in api.call("GET", f"/claims/{claim_id}", as_=BUYER).body["timeline"]]
    assert actions[-4:] == ["decline_quote", "ship_back", "outbound_delivered", "confirm"]


def test_rejection_dispute_escalation_and_ruling(api: Api, claim: dict[str, Any]) -> None:
    claim_id = claim["claim_id"]
    rejected = api.act(claim_id, "decision", {"decision": "reject", "reason": "worn"}, as_=MERCHANT)
    assert rejected.body["status"] == "rejected"
    disputed = api.act(claim_id, "dispute", {"reason": "it was new"}, as_=BUYER)
    assert disputed.body["status"] == "in_mediation" and disputed.body["escalation_level"] == "mediation"
    escalated = api.act(claim_id, "escalate", {"reason": "no agreement"}, as_=OPS)
    assert (
        escalated.body["status"] == "in_arbitration" and escalated.body["escalation_level"] == "arbitration"
    )
    ruled = api.act(
        claim_id,
        "ruling",
        {"outcome": "refund", "refund_amount": "100.00", "payer": "platform", "reason": "r"},
        as_=OPS,
    )
    assert ruled.body["status"] == "awaiting_refund"
    assert (ruled.body["refund_amount"], ruled.body["refund_payer"]) == ("100.00", "platform")


def test_same_status_actions_write_a_timeline_entry_and_bump_the_version(
    api: Api, claim: dict[str, Any], clock: Clock
) -> None:
    claim_id = claim["claim_id"]
    escalated = api.act(claim_id, "escalate", {"reason": "vip"}, as_=OPS)
    assert escalated.body["status"] == "pending_review" and escalated.body["version"] == 2
    extended = api.act(
        claim_id, "extension", {"due_at": "2026-11-30T02:00:00Z", "reason": "holiday"}, as_=MERCHANT
    )
    assert extended.body["version"] == 3
    detail = api.call("GET", f"/claims/{claim_id}", as_=MERCHANT).body
    assert [e["action"] for e in detail["timeline"]] == ["submit", "escalate", "extend"]
    review = next(d for d in detail["deadlines"] if d["kind"] == "review_decision")
    assert (review["due_at"], review["extension_reason"]) == ("2026-11-30T02:00:00Z", "holiday")


def test_listings_are_paginated_and_filtered(api: Api, order: dict[str, Any], clock: Clock) -> None:
    api.call(
        "PUT",
        "/ops/orders/ord-2",
        as_=OPS,
        body=order_body(
            lines=[
                {
                    "line_id": "A",
                    "sku": "S",
                    "title": "T",
                    "category": "apparel",
                    "quantity": 5,
                    "paid_amount": "50.00",
                }
            ]
        ),
    )
    ids = []
    for n in range(3):
        clock.advance(minutes=1)
        ids.append(
            api.submit(claim_body(order_id="ord-2", line_id="A"), key=f"key-list-{n:04d}").body["claim_id"]
        )
    api.act(ids[0], "cancel", as_=BUYER)

    first = api.call("GET", "/claims", as_=BUYER, query={"limit": "2"})
    assert first.status == 200
    assert [c["claim_id"] for c in first.body["claims"]] == [ids[2], ids[1]]  # newest first
    second = api.call("GET", "/claims", as_=BUYER, query={"limit": "2", "cursor": first.body["next_cursor"]})
    assert [c["claim_id"] for c in second.body["claims"]] == [ids[0]]
    closed = api.call("GET", "/claims", as_=BUYER, query={"status": "closed"})
    assert [c["claim_id"] for c in closed.body["claims"]] == [ids[0]]

    pending = api.call("GET", "/merchant/claims", as_=MERCHANT, query={"status": "pending_review"})
    assert sorted(c["claim_id"] for c in pending.body["claims"]) == sorted(ids[1:])
    ops = api.call("GET", "/ops/claims", as_=OPS, query={"merchant_id": "m-1", "status": "closed"})
    assert [c["claim_id"] for c in ops.body["claims"]] == [ids[0]]


def test_ops_sees_overdue_claims(api: Api, claim: dict[str, Any], clock: Clock) -> None:
    assert api.call("GET", "/ops/claims", as_=OPS, query={"overdue": "true"}).body["claims"] == []
    clock.advance(days=10)
    overdue = api.call("GET", "/ops/claims", as_=OPS, query={"overdue": "true"})
    assert [c["claim_id"] for c in overdue.body["claims"]] == [claim["claim_id"]]


def test_evidence_upload_url_is_under_the_buyers_prefix(api: Api, claim: dict[str, Any]) -> None:
    answer = api.act(
        claim["claim_id"], "evidence", {"filename": "seam.jpg", "content_type": "image/jpeg"}, as_=BUYER
    )
    assert answer.status == 200
    assert answer.body["key"].startswith(f"evidence/buyer-1/{claim['claim_id']}/")
    assert answer.body["upload_url"].startswith("https://") and answer.body["method"] == "PUT"


def test_openapi_is_served_without_a_token(api: Api) -> None:
    answer = api.call("GET", "/openapi.json", as_=None)
    assert answer.status == 200
    assert "/claims/{claim_id}/decision" in answer.body["paths"]


def test_order_delivered_event_stores_the_order(api: Api) -> None:
    from order_events.app import lambda_handler

    from tests.events.builder import load

    from .conftest import Context

    assert lambda_handler(load("order_delivered.json"), Context())["order_id"] == "ord-ev-1"
    submitted = api.submit(claim_body(order_id="ord-ev-1", quantity=1))
    assert submitted.status == 201 and submitted.body["amount"] == "599.00"


def test_merchant_stats_count_opened_claims(api: Api, claim: dict[str, Any], clock: Clock) -> None:
    from aftersales.domain.scorecard import stat_day, total
    from aftersales.store import default_repository

    day = stat_day(clock.at)
    days = default_repository().stat_days("m-1", day, day)
    assert total(d.counters for d in days if d.product is None)["claims_opened"] == 1


def test_ops_give_a_complaints_written_opinion_which_resolves_it(api: Api, order: dict[str, Any]) -> None:
    complaint = api.submit(
        claim_body(type="complaint", reason="service", quantity=0, line_id=""), key="key-cmp-1"
    )
    assert complaint.status == 201, complaint.body
    cid = complaint.body["claim_id"]
    detail = api.call("GET", f"/claims/{cid}", as_=OPS).body
    assert "give_opinion" in detail["next_action"]["your_actions"]

    assert api.act(cid, "opinion", {"opinion": "agent retrained"}, as_=MERCHANT).status == 404
    answer = api.act(cid, "opinion", {"opinion": "agent retrained; apology sent"}, as_=OPS)
    assert answer.status == 200, answer.body
    assert (answer.body["status"], answer.body["outcome"]) == ("closed", "resolved")
    entry = api.call("GET", f"/claims/{cid}", as_=OPS).body["timeline"][-1]
    assert (entry["action"], entry["details"]["opinion"]) == ("give_opinion", "agent retrained; apology sent")
    assert api.act(cid, "opinion", {"opinion": "again"}, as_=OPS).status == 409
    assert api.act(cid, "opinion", {}, as_=OPS).status == 422


def test_ops_retry_a_failed_refund_with_the_failed_attempts_key(api: Api, claim: dict[str, Any]) -> None:
    from aftersales import claims, clock
    from aftersales.domain.actions import RefundFailure
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Action

    cid = claim["claim_id"]
    system = Actor.system("refund")
    assert api.act(cid, "decision", {"decision": "approve"}, as_=MERCHANT).status == 200
    assert api.act(cid, "shipment", {"carrier": "sf", "waybill": "SF7000001"}, as_=BUYER).status == 200
    assert api.act(cid, "return-received", {}, as_=MERCHANT).status == 200
    assert api.act(cid, "inspection", {"passed": True}, as_=MERCHANT).status == 200
    claims.act(cid, system, Action.REFUND_FAILED, RefundFailure(failure="RefundGatewayError"), clock.now())
    detail = api.call("GET", f"/claims/{cid}", as_=OPS).body
    assert detail["claim"]["status"] == "refund_failed"
    assert "retry_refund" in detail["next_action"]["your_actions"]

    assert api.act(cid, "refund-retry", {}, as_=BUYER).status == 404
    retried = api.act(cid, "refund-retry", {"note": "gateway back"}, as_=OPS)
    assert retried.status == 200, retried.body
    assert retried.body["status"] == "awaiting_refund"
    keys = [
        e["details"].get("idempotency_key")
        for e in api.call("GET", f"/claims/{cid}", as_=OPS).body["timeline"]
    ]
    assert [k for k in keys if k] == [f"{cid}#1", f"{cid}#1"]  # the unconfirmed attempt's key, again
    assert api.act(cid, "refund-retry", {}, as_=OPS).status == 409
