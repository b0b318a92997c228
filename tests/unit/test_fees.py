"""Who pays (POLICY §3): one test per row of the table, plus the types that ship nothing."""

import pytest
from aftersales.domain.fees import repair_payer, shipping_payer
from aftersales.domain.model import MERCHANT_FAULT_REASONS, REASONS_BY_TYPE, ClaimType, Payer, Reason
from aftersales.policies import default_policy

POLICY = default_policy()
ORDINARY = "apparel"
SPECIAL = "large_appliance"

MERCHANT_FAULT_SHIPPING = [
    (claim_type, reason)
    for claim_type in (ClaimType.RETURN_REFUND, ClaimType.EXCHANGE)
    for reason in sorted(REASONS_BY_TYPE[claim_type] & MERCHANT_FAULT_REASONS)
]


def test_the_categories_used_here_are_what_the_default_policy_says():
    assert SPECIAL in POLICY.special_categories
    assert ORDINARY not in POLICY.special_categories


@pytest.mark.parametrize(("claim_type", "reason"), MERCHANT_FAULT_SHIPPING)
def test_merchant_pays_shipping_for_quality_description_transit_and_wrong_item(claim_type, reason):
    assert shipping_payer(claim_type, reason, ORDINARY, POLICY) is Payer.MERCHANT


def test_buyer_pays_shipping_for_a_no_reason_return():
    assert shipping_payer(ClaimType.RETURN_REFUND, Reason.NO_REASON, ORDINARY, POLICY) is Payer.BUYER


def test_merchant_pays_shipping_of_a_warranty_repair_and_buyer_of_a_paid_one():
    assert shipping_payer(ClaimType.REPAIR, Reason.QUALITY_DEFECT, ORDINARY, POLICY) is Payer.MERCHANT
    assert shipping_payer(ClaimType.REPAIR, Reason.PAID_REPAIR, ORDINARY, POLICY) is Payer.BUYER


@pytest.mark.parametrize("reason", [Reason.QUALITY_DEFECT, Reason.NO_REASON, Reason.WRONG_ITEM])
def test_special_categories_negotiate_shipping_whatever_the_reason(reason):
    assert shipping_payer(ClaimType.RETURN_REFUND, reason, SPECIAL, POLICY) is Payer.NEGOTIATED


@pytest.mark.parametrize("claim_type", [ClaimType.REFUND_ONLY, ClaimType.COMPLAINT])
def test_nothing_ships_for_refund_only_and_complaints(claim_type):
    for reason in REASONS_BY_TYPE[claim_type]:
        assert shipping_payer(claim_type, reason, ORDINARY, POLICY) is Payer.NONE
        assert shipping_payer(claim_type, reason, SPECIAL, POLICY) is Payer.NONE


def test_a_policy_override_decides_which_categories_are_special():
    policy = POLICY.model_copy(update={"special_categories": frozenset({ORDINARY})})
    assert shipping_payer(ClaimType.RETURN_REFUND, Reason.NO_REASON, ORDINARY, policy) is Payer.NEGOTIATED


def test_repair_is_free_for_a_defect_in_warranty():
    assert repair_payer(Reason.QUALITY_DEFECT, in_warranty=True) is Payer.MERCHANT


def test_buyer_pays_a_repair_out_of_warranty():
    assert repair_payer(Reason.QUALITY_DEFECT, in_warranty=False) is Payer.BUYER
    assert repair_payer(Reason.PAID_REPAIR, in_warranty=False) is Payer.BUYER


def test_buyer_caused_damage_is_paid_even_in_warranty():
    assert repair_payer(Reason.PAID_REPAIR, in_warranty=True) is Payer.BUYER


@pytest.mark.parametrize("in_warranty", [True, False])
def test_repair_of_special_goods_is_negotiated(in_warranty):
    assert repair_payer(Reason.QUALITY_DEFECT, in_warranty, special_category=True) is Payer.NEGOTIATED
