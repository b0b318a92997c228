"""A merchant's shipped override file seeds its policy layer, governs its claims, and the claim records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aftersales import claims
from aftersales.domain.calendar import add_working_days
from aftersales.domain.claim import Actor
from aftersales.domain.errors import Ineligible
from aftersales.domain.model import ClaimRequest, ClaimType, Order, OrderLine, Reason, Role
from aftersales.store import default_repository

BUYER = Actor(Role.BUYER, "buyer-1")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing
SIGNED_FOR = NOW - timedelta(days=10)  # past the platform's 7 days, within the example's 15


def _claim_on(merchant_id: str) -> claims.Claim:
    order = Order(
        f"ord-{merchant_id}",
        "buyer-1",
        merchant_id,
        SIGNED_FOR - timedelta(days=2),
        SIGNED_FOR,
        (OrderLine("L1", "SKU-1", "Wool coat", "apparel", 1, 12_990),),
    )
    default_repository().put_order(order, source="test", now=NOW)
    request = ClaimRequest(order.order_id, "L1", 1, ClaimType.RETURN_REFUND, Reason.NO_REASON)
    return claims.submit(request, BUYER, NOW)


def test_the_merchants_override_decides_its_claims_and_is_recorded(aws: None) -> None:
    claim = _claim_on("example")  # a no-reason return 10 days after sign-for: allowed by this merchant
    assert claim.policy_version == "platform@1+merchant-example@1"  # merchant-example.yaml is its seed
    assert [ref.label for ref in claim.policy_layers] == ["platform@1", "merchant-example@1"]
    assert claim.category == "apparel"
    record = default_repository().get_claim_record(claim.claim_id)
    assert record is not None
    first, review = record.deadlines
    assert (first.kind, review.kind) == ("first_response", "review_decision")
    assert review.deadline_at == add_working_days(NOW, 1).at.isoformat().replace("+00:00", "Z")
    assert review.source == "merchant-example: reviews within 1 working day"


def test_other_merchants_keep_the_platform_defaults(aws: None) -> None:
    with pytest.raises(Ineligible) as refused:
        _claim_on("m-1")
    assert refused.value.code == "no_reason_window_expired"
