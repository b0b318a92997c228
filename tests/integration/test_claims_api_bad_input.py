"""Bad input gets a 4xx with the exact code, never a 5xx, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BUYER, MERCHANT, OPS, Api, claim_body, order_body


def _assert_error(answer: Any, status: int, code: str) -> None:
    assert (answer.status, answer.body["code"]) == (status, code), answer.body
    assert set(answer.body) == {"code", "message", "details"}


def test_malformed_json_is_400(api: Api, order: dict[str, Any]) -> None:
    answer = api.call(
        "POST", "/claims", as_=BUYER, raw_body='{"order_id": ', headers={"Idempotency-Key": "k-000001"}
    )
    _assert_error(answer, 400, "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        claim_body(quantity="two"),  # wrong type
        claim_body(quantity=True),  # a boolean is not a quantity
        claim_body(amount="999.00"),  # unknown field: amounts never come from the buyer
        claim_body(type="refund_please"),  # not a claim type
        {k: v for k, v in claim_body().items() if k != "reason"},  # missing field
        [claim_body()],  # not an object
    ],
    ids=["wrong-type", "bool-quantity", "unknown-field", "bad-enum", "missing-field", "array-body"],
)
def test_schema_violations_are_422(api: Api, order: dict[str, Any], body: Any) -> None:
    _assert_error(api.submit(body, key="k-schema-01"), 422, "validation_error")
    assert api.call("GET", "/claims", as_=BUYER).body["claims"] == []


def test_oversize_body_is_413(api: Api, order: dict[str, Any]) -> None:
    answer = api.submit(claim_body(description="x" * (65 * 1024)))
    _assert_error(answer, 413, "payload_too_large")


@pytest.mark.parametrize(
    "headers", [{}, {"Idempotency-Key": "short"}, {"Idempotency-Key": "has spaces in it"}]
)
def test_missing_or_malformed_idempotency_key_is_400(
    api: Api, order: dict[str, Any], headers: dict[str, str]
) -> None:
    answer = api.call("POST", "/claims", as_=BUYER, body=claim_body(), headers=headers)
    _assert_error(answer, 400, "idempotency_key_required")
    assert answer.body["details"]["errors"][0]["loc"] == ["header", "idempotency-key"]
    assert api.call("GET", "/claims", as_=BUYER).body["claims"] == []


def test_unknown_order_is_404(api: Api, order: dict[str, Any]) -> None:
    _assert_error(api.submit(claim_body(order_id="nope")), 404, "order_not_found")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"line_id": "L9"}, "line_not_found"),
        ({"quantity": 3}, "quantity_exceeds_available"),
        ({"type": "repair", "reason": "no_reason"}, "reason_not_allowed_for_type"),
        ({"line_id": "L1", "reason": "no_reason", "order_id": "ord-old"}, "no_reason_window_expired"),
    ],
)
def test_ineligible_claims_are_422_with_the_domain_reason(
    api: Api, order: dict[str, Any], overrides: dict[str, Any], code: str
) -> None:
    api.call(
        "PUT",
        "/ops/orders/ord-old",
        as_=OPS,
        body=order_body(paid_at="2026-10-01T02:00:00Z", delivered_at="2026-10-03T02:00:00Z"),
    )
    _assert_error(api.submit(claim_body(**overrides)), 422, code)


def test_illegal_transition_is_409(api: Api, claim: dict[str, Any]) -> None:
    answer = api.act(claim["claim_id"], "shipment", {"carrier": "sf", "waybill": "SF123456"}, as_=BUYER)
    _assert_error(answer, 409, "illegal_transition")
    assert answer.body["details"]["allowed"] == [
        "approve",
        "auto_approve",
        "reject",
        "cancel",
        "escalate",
        "extend",
        "message",
        "pause_clock",
        "resume_clock",
        "find_buyer_delay",
    ]


def test_unknown_claim_is_404(api: Api, order: dict[str, Any]) -> None:
    _assert_error(api.call("GET", "/claims/clm_missing", as_=BUYER), 404, "not_found")


def test_reject_without_reason_is_422(api: Api, claim: dict[str, Any]) -> None:
    _assert_error(
        api.act(claim["claim_id"], "decision", {"decision": "reject"}, as_=MERCHANT), 422, "validation_error"
    )


def test_bad_money_is_422(api: Api, claim: dict[str, Any]) -> None:
    api.act(claim["claim_id"], "decision", {"decision": "reject", "reason": "worn"}, as_=MERCHANT)
    api.act(claim["claim_id"], "dispute", as_=BUYER)
    answer = api.act(
        claim["claim_id"], "ruling", {"outcome": "refund", "refund_amount": "12.345", "reason": "r"}, as_=OPS
    )
    _assert_error(answer, 422, "invalid_amount")
    too_much = api.act(
        claim["claim_id"], "ruling", {"outcome": "refund", "refund_amount": "500.00", "reason": "r"}, as_=OPS
    )
    _assert_error(too_much, 422, "refund_exceeds_claim")


def test_extension_that_does_not_move_the_deadline_later_is_422(api: Api, claim: dict[str, Any]) -> None:
    answer = api.act(
        claim["claim_id"], "extension", {"due_at": "2026-11-21T00:00:00Z", "reason": "x"}, as_=MERCHANT
    )
    _assert_error(answer, 422, "extension_not_later")
    naive = api.act(
        claim["claim_id"], "extension", {"due_at": "2026-12-21T00:00:00", "reason": "x"}, as_=MERCHANT
    )
    _assert_error(naive, 422, "validation_error")


def test_tampered_cursor_is_400(api: Api, claim: dict[str, Any]) -> None:
    _assert_error(
        api.call("GET", "/claims", as_=BUYER, query={"cursor": "!!not-base64"}), 400, "invalid_cursor"
    )
    from aftersales.store.cursor import encode_cursor

    foreign = encode_cursor(
        {"gsi_buyer_pk": {"S": "BUYER#buyer-2"}, "created_at": {"S": "x"}, "pk": {"S": "p"}, "sk": {"S": "s"}}
    )
    _assert_error(
        api.call("GET", "/claims", as_=BUYER, query={"cursor": foreign or ""}), 400, "invalid_cursor"
    )


def test_bad_query_values_are_422(api: Api, claim: dict[str, Any]) -> None:
    _assert_error(api.call("GET", "/claims", as_=BUYER, query={"status": "lost"}), 422, "validation_error")
    _assert_error(api.call("GET", "/claims", as_=BUYER, query={"limit": "1000"}), 422, "validation_error")


def test_waybill_of_another_claim_is_409(api: Api, order: dict[str, Any]) -> None:
    first = api.submit(claim_body(), key="k-waybill-1").body["claim_id"]
    second = api.submit(claim_body(line_id="L2", reason="quality_defect"), key="k-waybill-2").body["claim_id"]
    for claim_id in (first, second):
        api.act(claim_id, "decision", {"decision": "approve"}, as_=MERCHANT)
    assert api.act(first, "shipment", {"carrier": "sf", "waybill": "SF7777777"}, as_=BUYER).status == 200
    taken = api.act(second, "shipment", {"carrier": "sf", "waybill": "SF7777777"}, as_=BUYER)
    _assert_error(taken, 409, "waybill_in_use")
    assert (
        api.call("GET", f"/claims/{second}", as_=BUYER).body["claim"]["status"] == "awaiting_return_shipment"
    )


def test_foreign_evidence_key_is_400(api: Api, order: dict[str, Any]) -> None:
    answer = api.submit(claim_body(evidence_keys=["evidence/buyer-2/x.jpg"]))
    _assert_error(answer, 400, "invalid_evidence_key")


def test_ops_listing_needs_a_filter(api: Api) -> None:
    _assert_error(api.call("GET", "/ops/claims", as_=OPS), 400, "filter_required")


def test_unknown_route_is_404(api: Api) -> None:
    _assert_error(api.call("GET", "/claims/x/y/z", as_=BUYER), 404, "not_found")
