"""The automatic review and the refund amount: pure rules, plain asserts."""

from __future__ import annotations

import pytest
from aftersales.domain.errors import DomainError
from aftersales.domain.model import ClaimType, Payer, Reason
from aftersales.domain.refunds import check_shipping_receipt, idempotency_key, refund_breakdown, rma_number
from aftersales.domain.review import Decision, review
from aftersales.policies import default_policy, load_policy

POLICY = default_policy()


@pytest.mark.parametrize(
    ("signed_for", "decision", "rule"),
    [
        (True, Decision.AUTO_REJECT, "carrier_confirmed_delivery"),
        (False, Decision.AUTO_APPROVE, "no_proof_of_delivery"),
    ],
)
def test_not_received_is_decided_by_the_carriers_sign_for(signed_for, decision, rule):
    decided = review(ClaimType.REFUND_ONLY, Reason.NOT_RECEIVED, 5000, signed_for=signed_for, policy=POLICY)
    assert (decided.decision, decided.rule) == (decision, rule)


def test_by_default_everything_else_waits_for_the_merchant():
    decided = review(ClaimType.RETURN_REFUND, Reason.QUALITY_DEFECT, 100, signed_for=True, policy=POLICY)
    assert decided.decision is Decision.MANUAL


def test_a_policy_may_approve_small_claims_and_named_reasons():
    policy = load_policy(
        {"version": "m1", "auto_approve_below_fen": 1000, "auto_approve_reasons": ["wrong_item"]}
    )
    small = review(ClaimType.RETURN_REFUND, Reason.NO_REASON, 999, signed_for=True, policy=policy)
    named = review(ClaimType.EXCHANGE, Reason.WRONG_ITEM, 99_999, signed_for=True, policy=policy)
    large = review(ClaimType.RETURN_REFUND, Reason.NO_REASON, 1000, signed_for=True, policy=policy)
    assert (small.rule, named.rule, large.decision) == (
        "below_auto_approve_amount",
        "auto_approve_reason",
        Decision.MANUAL,
    )


def _merchant_liable(declared_fen: int, policy=POLICY):
    return refund_breakdown(
        amount_fen=12990,
        ruling_refund_fen=None,
        shipping_payer=Payer.MERCHANT,
        declared_shipping_fen=declared_fen,
        penalty_fen=130,
        policy=policy,
    )


def test_refund_adds_the_actual_shipping_charge_in_full_when_the_merchant_is_liable_and_penalties():
    # 002 §6.1.2: the carrier's actual charge, whatever it is; no cap in the platform defaults.
    paid = _merchant_liable(5000)
    assert (paid.goods_fen, paid.shipping_fen, paid.penalty_fen) == (12990, 5000, 130)
    assert paid.total_fen == 12990 + 5000 + 130
    assert POLICY.max_return_shipping_fen is None


def test_a_merchant_policy_may_cap_the_refunded_shipping():
    capped = load_policy({"version": "merchant-m@1", "max_return_shipping_fen": 2000})
    assert _merchant_liable(5000, capped).shipping_fen == 2000
    assert _merchant_liable(1500, capped).shipping_fen == 1500


def test_no_receipt_is_needed_by_default():
    check_shipping_receipt(1_000_000, None, POLICY)


def test_a_policy_threshold_asks_for_the_carriers_receipt_above_it():
    strict = load_policy({"version": "merchant-m@1", "return_shipping_receipt_above_fen": 3000})
    check_shipping_receipt(3000, None, strict)  # at the threshold: fine
    check_shipping_receipt(3001, "evidence/b1/receipt.jpg", strict)
    with pytest.raises(DomainError) as caught:
        check_shipping_receipt(3001, None, strict)
    assert caught.value.code == "shipping_receipt_required"
    assert caught.value.details == {"threshold_fen": 3000, "declared_fen": 3001}


def test_the_buyer_pays_their_own_shipping_on_a_no_reason_return():
    paid = refund_breakdown(
        amount_fen=12990,
        ruling_refund_fen=None,
        shipping_payer=Payer.BUYER,
        declared_shipping_fen=1200,
        penalty_fen=0,
        policy=POLICY,
    )
    assert paid.total_fen == 12990


def test_a_ruling_fixes_the_goods_amount_and_settles_shipping():
    paid = refund_breakdown(
        amount_fen=12990,
        ruling_refund_fen=6000,
        shipping_payer=Payer.MERCHANT,
        declared_shipping_fen=1200,
        penalty_fen=65,
        policy=POLICY,
    )
    assert (paid.goods_fen, paid.shipping_fen, paid.total_fen) == (6000, 0, 6065)


def test_keys_and_rma_numbers_are_derived_from_the_claim():
    assert idempotency_key("clm_ab", 2) == "clm_ab#2"
    assert rma_number("clm_0123456789abcdef") == "RMA-0123456789AB"
    assert rma_number("clm_0123456789abcdef", 1) == "RMA-0123456789AB-1"
