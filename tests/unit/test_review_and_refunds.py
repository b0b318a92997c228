"""The automatic review and the refund amount: pure rules, plain asserts."""

from __future__ import annotations

import pytest
from aftersales.domain.model import ClaimType, Payer, Reason
from aftersales.domain.refunds import idempotency_key, refund_breakdown, rma_number
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


def test_refund_adds_capped_shipping_when_the_merchant_is_liable_and_penalties():
    paid = refund_breakdown(
        amount_fen=12990,
        ruling_refund_fen=None,
        shipping_payer=Payer.MERCHANT,
        declared_shipping_fen=5000,
        penalty_fen=130,
        policy=POLICY,
    )
    assert (paid.goods_fen, paid.shipping_fen, paid.penalty_fen) == (
        12990,
        POLICY.max_return_shipping_fen,
        130,
    )
    assert paid.total_fen == 12990 + 2000 + 130


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
