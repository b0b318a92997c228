"""Eligibility (POLICY §2): every rule, and every refusal with its stable reason code."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from aftersales.domain import eligibility as el
from aftersales.domain.eligibility import REASON_CODES, add_months, check_eligibility
from aftersales.domain.errors import Ineligible
from aftersales.domain.model import (
    REASONS_BY_TYPE,
    ClaimRequest,
    ClaimType,
    ExistingClaim,
    Order,
    OrderLine,
    Outcome,
    PartKind,
    Payer,
    Reason,
    Status,
)
from aftersales.policies import default_policy

POLICY = default_policy()
T, R = ClaimType, Reason

# Signed for at 14:00 Beijing time on Monday 2 November 2026.
SIGNED = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
# The 7-day window runs 3-9 November and ends at 24:00 Beijing time on the 9th.
NO_REASON_ENDS = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)
# The 15-day quality window ends at 24:00 Beijing time on 17 November.
QUALITY_ENDS = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
# Warranty: 12 months for a whole unit, 3 months for parts, to 24:00 Beijing time.
UNIT_WARRANTY_ENDS = datetime(2027, 11, 2, 16, 0, tzinfo=UTC)
PART_WARRANTY_ENDS = datetime(2027, 2, 2, 16, 0, tzinfo=UTC)
SOON = SIGNED + timedelta(days=1)
SECOND = timedelta(seconds=1)

ORDER = Order(
    order_id="o-1",
    buyer_id="b-1",
    merchant_id="m-1",
    paid_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC),
    delivered_at=SIGNED,
    lines=(
        OrderLine("shirts", "sku-1", "Linen shirt", "apparel", quantity=3, paid_fen=10000),
        OrderLine("fish", "sku-2", "Salmon", "fresh_food", quantity=1, paid_fen=8800),
        OrderLine("phone", "sku-3", "Phone", "electronics", quantity=1, paid_fen=199900),
        OrderLine("battery", "sku-4", "Battery", "electronics", 2, 4000, PartKind.CONSUMABLE),
        OrderLine("charger", "sku-5", "Charger", "electronics", 1, 9900, PartKind.PART),
        OrderLine("fridge", "sku-6", "Fridge", "large_appliance", quantity=1, paid_fen=459900),
    ),
)
UNDELIVERED = replace(ORDER, delivered_at=None)


def ask(claim_type=T.RETURN_REFUND, reason=R.NO_REASON, line="shirts", quantity=1, order="o-1"):
    return ClaimRequest(order_id=order, line_id=line, quantity=quantity, type=claim_type, reason=reason)


def held(line, quantity, status=Status.PENDING_REVIEW, outcome=None, claim_id="c-0"):
    return ExistingClaim(claim_id, line, quantity, status, outcome)


def check(request, order=ORDER, existing=(), now=SOON, policy=POLICY):
    return check_eligibility(request, order, existing, policy, now)


def refusal(request, order=ORDER, existing=(), now=SOON, policy=POLICY):
    with pytest.raises(Ineligible) as caught:
        check(request, order, existing, now, policy)
    assert caught.value.code in REASON_CODES
    return caught.value


# --- every reason code, one scenario each ------------------------------------------------------------

REFUSALS = [
    (el.ORDER_MISMATCH, ask(order="o-2"), ORDER, (), SOON),
    (el.REASON_NOT_ALLOWED_FOR_TYPE, ask(T.REPAIR, R.NO_REASON, "phone"), ORDER, (), SOON),
    (el.LINE_NOT_FOUND, ask(line="socks"), ORDER, (), SOON),
    (el.INVALID_QUANTITY, ask(quantity=0), ORDER, (), SOON),
    (el.TOO_MANY_CLAIMS, ask(), ORDER, [held("shirts", 0, claim_id=f"c-{i}") for i in range(5)], SOON),
    (el.QUANTITY_EXCEEDS_AVAILABLE, ask(quantity=4), ORDER, (), SOON),
    (el.NOT_DELIVERED, ask(), UNDELIVERED, (), SOON),
    (el.CATEGORY_EXCLUDED_FROM_NO_REASON, ask(line="fish"), ORDER, (), SOON),
    (el.NO_REASON_WINDOW_EXPIRED, ask(), ORDER, (), NO_REASON_ENDS),
    (el.QUALITY_WINDOW_EXPIRED, ask(reason=R.QUALITY_DEFECT), ORDER, (), QUALITY_ENDS),
    (el.WARRANTY_EXPIRED, ask(T.REPAIR, R.QUALITY_DEFECT, "phone"), ORDER, (), UNIT_WARRANTY_ENDS),
]


@pytest.mark.parametrize(
    ("code", "request_", "order", "existing", "now"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_each_refusal_carries_its_reason_code(code, request_, order, existing, now):
    error = refusal(request_, order, existing, now)
    assert error.code == code
    assert error.message


def test_every_reason_code_is_listed_explained_and_exercised():
    constants = {value for name, value in vars(el).items() if name.isupper() and isinstance(value, str)}
    assert set(REASON_CODES) == constants
    assert all(REASON_CODES.values())
    assert {row[0] for row in REFUSALS} == set(REASON_CODES)


# --- the happy path and where the amounts come from ------------------------------------------------


def test_a_no_reason_return_within_7_days_is_eligible_and_the_buyer_pays_shipping():
    result = check(ask())
    assert result.amount_fen == 3333
    assert result.quantity == 1
    assert result.line_id == "shirts"
    assert result.shipping_payer is Payer.BUYER
    assert result.repair_payer is Payer.NONE
    assert result.in_warranty is None
    assert result.window_ends_at == NO_REASON_ENDS
    assert result.policy_version == POLICY.version


def test_the_amount_is_the_paid_amount_of_the_whole_line_when_all_of_it_is_claimed():
    assert check(ask(quantity=3)).amount_fen == 10000


def test_a_line_claimed_in_parts_adds_up_to_exactly_what_was_paid():
    first = check(ask(quantity=1)).amount_fen
    second = check(ask(quantity=1), existing=[held("shirts", 1)]).amount_fen
    third = check(ask(quantity=1), existing=[held("shirts", 1), held("shirts", 1, claim_id="c-1")]).amount_fen
    assert (first, second, third) == (3333, 3333, 3334)
    assert first + second + third == 10000


def test_the_proof_of_purchase_is_the_order_itself():
    # No receipt, invoice or evidence is needed to be eligible (002 §7.4).
    assert check(ask(reason=R.QUALITY_DEFECT)).amount_fen == 3333


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError):
        check(ask(), now=datetime(2026, 11, 3, 12, 0))


# --- reason / type ----------------------------------------------------------------------------------

WRONG_PAIRS = [(t, r) for t in ClaimType for r in Reason if r not in REASONS_BY_TYPE[t]]


@pytest.mark.parametrize(("claim_type", "reason"), WRONG_PAIRS)
def test_a_reason_outside_the_types_list_is_refused(claim_type, reason):
    error = refusal(ask(claim_type, reason, "phone"))
    assert error.code == el.REASON_NOT_ALLOWED_FOR_TYPE
    assert error.details["allowed"] == sorted(r.value for r in REASONS_BY_TYPE[claim_type])


# --- line, quantity, claim count ---------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_must_be_at_least_one(quantity):
    assert refusal(ask(quantity=quantity)).code == el.INVALID_QUANTITY


def test_quantity_is_limited_to_what_was_bought_minus_what_is_already_claimed():
    existing = [held("shirts", 2)]
    error = refusal(ask(quantity=2), existing=existing)
    assert error.code == el.QUANTITY_EXCEEDS_AVAILABLE
    assert error.details == {"requested": 2, "available": 1, "bought": 3}
    assert check(ask(quantity=1), existing=existing).quantity == 1


def test_a_fully_claimed_line_has_nothing_left():
    error = refusal(ask(quantity=1), existing=[held("shirts", 3, Status.CLOSED, Outcome.REFUNDED)])
    assert error.code == el.QUANTITY_EXCEEDS_AVAILABLE
    assert error.details["available"] == 0


@pytest.mark.parametrize("outcome", [Outcome.CANCELLED, Outcome.REJECTED, Outcome.FORFEITED])
def test_cancelled_rejected_and_forfeited_claims_give_their_quantity_back(outcome):
    result = check(ask(quantity=3), existing=[held("shirts", 3, Status.CLOSED, outcome)])
    assert result.amount_fen == 10000


def test_a_rejected_claim_still_under_appeal_keeps_its_quantity():
    error = refusal(ask(quantity=3), existing=[held("shirts", 1, Status.REJECTED)])
    assert error.code == el.QUANTITY_EXCEEDS_AVAILABLE


def test_claims_on_other_lines_do_not_count():
    existing = [held("phone", 1, claim_id=f"c-{i}") for i in range(5)]
    assert check(ask(quantity=3), existing=existing).amount_fen == 10000


def test_at_most_five_claims_per_line_counting_every_claim_whatever_became_of_it():
    closed = [held("shirts", 1, Status.CLOSED, Outcome.CANCELLED, claim_id=f"c-{i}") for i in range(4)]
    assert check(ask(), existing=closed).quantity == 1
    error = refusal(ask(), existing=[*closed, held("shirts", 1, Status.CLOSED, Outcome.REJECTED, "c-9")])
    assert error.code == el.TOO_MANY_CLAIMS
    assert error.details == {"claims": 5, "max": 5}


def test_the_claim_limit_comes_from_the_policy():
    policy = POLICY.model_copy(update={"max_claims_per_line": 1})
    error = refusal(ask(), existing=[held("shirts", 1, Status.CLOSED, Outcome.CANCELLED)], policy=policy)
    assert error.code == el.TOO_MANY_CLAIMS


# --- 7-day no-reason return ---------------------------------------------------------------------------


def test_the_no_reason_window_ends_at_midnight_beijing_time_of_the_7th_day_after_sign_for():
    assert check(ask(), now=NO_REASON_ENDS - SECOND).window_ends_at == NO_REASON_ENDS
    error = refusal(ask(), now=NO_REASON_ENDS)
    assert error.code == el.NO_REASON_WINDOW_EXPIRED
    assert error.details == {"window_ends_at": "2026-11-09T16:00:00Z"}


def test_days_are_beijing_days_so_a_late_evening_sign_for_counts_from_the_next_local_day():
    # 00:30 on 3 November in Beijing is still 2 November in UTC.
    late = replace(ORDER, delivered_at=datetime(2026, 11, 2, 16, 30, tzinfo=UTC))
    assert check(ask(), order=late).window_ends_at == NO_REASON_ENDS + timedelta(days=1)


def test_the_no_reason_window_needs_delivery():
    assert refusal(ask(), order=UNDELIVERED).code == el.NOT_DELIVERED


@pytest.mark.parametrize("category", sorted(POLICY.no_reason_excluded_categories))
def test_excluded_categories_cannot_be_returned_without_reason(category):
    order = replace(ORDER, lines=(replace(ORDER.lines[0], category=category),))
    error = refusal(ask(), order=order)
    assert error.code == el.CATEGORY_EXCLUDED_FROM_NO_REASON
    assert error.details == {"category": category}


def test_excluded_categories_can_still_be_returned_for_a_quality_problem():
    assert check(ask(reason=R.QUALITY_DEFECT, line="fish")).shipping_payer is Payer.MERCHANT


def test_a_merchant_policy_can_change_the_no_reason_days():
    policy = POLICY.model_copy(update={"no_reason_return_days": 14})
    assert check(ask(), now=NO_REASON_ENDS, policy=policy).window_ends_at == NO_REASON_ENDS + timedelta(
        days=7
    )


# --- quality, description, transit damage, wrong item, size/colour -----------------------------------

MERCHANT_FAULT = [
    (t, r) for t in (T.RETURN_REFUND, T.EXCHANGE) for r in sorted(REASONS_BY_TYPE[t]) if r is not R.NO_REASON
]


@pytest.mark.parametrize(("claim_type", "reason"), MERCHANT_FAULT)
def test_merchant_fault_claims_go_beyond_7_days_within_the_quality_window(claim_type, reason):
    result = check(ask(claim_type, reason), now=QUALITY_ENDS - SECOND)
    assert result.window_ends_at == QUALITY_ENDS
    assert result.shipping_payer is Payer.MERCHANT
    error = refusal(ask(claim_type, reason), now=QUALITY_ENDS)
    assert error.code == el.QUALITY_WINDOW_EXPIRED


@pytest.mark.parametrize(("claim_type", "reason"), MERCHANT_FAULT)
def test_merchant_fault_claims_need_delivery(claim_type, reason):
    assert refusal(ask(claim_type, reason), order=UNDELIVERED).code == el.NOT_DELIVERED


def test_special_goods_negotiate_return_shipping():
    assert check(ask(reason=R.QUALITY_DEFECT, line="fridge")).shipping_payer is Payer.NEGOTIATED


# --- refund only -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [R.NOT_RECEIVED, R.MISSING_ITEM])
def test_refund_only_for_goods_not_received_needs_no_sign_for(reason):
    result = check(ask(T.REFUND_ONLY, reason), order=UNDELIVERED, now=SIGNED + timedelta(days=60))
    assert result.window_ends_at is None
    assert result.amount_fen == 3333
    assert result.shipping_payer is Payer.NONE


@pytest.mark.parametrize("reason", [R.NOT_RECEIVED, R.MISSING_ITEM])
def test_refund_only_after_a_recorded_sign_for_uses_the_quality_window(reason):
    assert check(ask(T.REFUND_ONLY, reason)).window_ends_at == QUALITY_ENDS
    assert refusal(ask(T.REFUND_ONLY, reason), now=QUALITY_ENDS).code == el.QUALITY_WINDOW_EXPIRED


def test_refund_only_for_transit_damage_needs_delivery():
    assert refusal(ask(T.REFUND_ONLY, R.DAMAGED_IN_TRANSIT), order=UNDELIVERED).code == el.NOT_DELIVERED
    assert check(ask(T.REFUND_ONLY, R.DAMAGED_IN_TRANSIT)).window_ends_at == QUALITY_ENDS


# --- repair and warranty -----------------------------------------------------------------------------


def test_a_defective_unit_is_repaired_free_within_12_months():
    result = check(ask(T.REPAIR, R.QUALITY_DEFECT, "phone"), now=UNIT_WARRANTY_ENDS - SECOND)
    assert result.in_warranty is True
    assert result.repair_payer is Payer.MERCHANT
    assert result.shipping_payer is Payer.MERCHANT
    assert result.warranty_ends_at == UNIT_WARRANTY_ENDS
    assert result.window_ends_at == UNIT_WARRANTY_ENDS
    assert result.amount_fen == 199900


def test_a_defect_out_of_warranty_is_refused_with_paid_repair_suggested():
    error = refusal(ask(T.REPAIR, R.QUALITY_DEFECT, "phone"), now=UNIT_WARRANTY_ENDS)
    assert error.code == el.WARRANTY_EXPIRED
    assert "paid_repair" in error.message
    assert error.details["suggested_reason"] == "paid_repair"


def test_a_paid_repair_is_open_out_of_warranty_and_the_buyer_pays():
    result = check(ask(T.REPAIR, R.PAID_REPAIR, "phone"), now=UNIT_WARRANTY_ENDS + timedelta(days=400))
    assert result.in_warranty is False
    assert result.repair_payer is Payer.BUYER
    assert result.shipping_payer is Payer.BUYER
    assert result.window_ends_at is None


def test_buyer_caused_damage_is_a_paid_repair_even_in_warranty():
    result = check(ask(T.REPAIR, R.PAID_REPAIR, "phone"))
    assert result.in_warranty is True
    assert result.repair_payer is Payer.BUYER


@pytest.mark.parametrize("line", ["battery", "charger"])
def test_parts_and_consumables_have_3_months(line):
    assert check(ask(T.REPAIR, R.QUALITY_DEFECT, line), now=PART_WARRANTY_ENDS - SECOND).in_warranty
    assert refusal(ask(T.REPAIR, R.QUALITY_DEFECT, line), now=PART_WARRANTY_ENDS).code == el.WARRANTY_EXPIRED


def test_the_warranty_months_come_from_the_policy():
    policy = POLICY.model_copy(update={"warranty": POLICY.warranty.model_copy(update={"unit_months": 24})})
    result = check(ask(T.REPAIR, R.QUALITY_DEFECT, "phone"), now=UNIT_WARRANTY_ENDS, policy=policy)
    assert result.warranty_ends_at == datetime(2028, 11, 2, 16, 0, tzinfo=UTC)


def test_a_repair_needs_delivery():
    assert refusal(ask(T.REPAIR, R.QUALITY_DEFECT, "phone"), order=UNDELIVERED).code == el.NOT_DELIVERED


def test_a_special_goods_repair_is_negotiated():
    result = check(ask(T.REPAIR, R.QUALITY_DEFECT, "fridge"))
    assert result.repair_payer is Payer.NEGOTIATED
    assert result.shipping_payer is Payer.NEGOTIATED


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 11, 2), 12, date(2027, 11, 2)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_end_of_a_short_month(start, months, expected):
    assert add_months(start, months) == expected


# --- complaints --------------------------------------------------------------------------------------


def test_a_complaint_needs_no_delivery_no_window_and_claims_no_money():
    complaint = ask(T.COMPLAINT, R.LOGISTICS, quantity=0)
    result = check(complaint, order=UNDELIVERED, now=SIGNED + timedelta(days=3000))
    assert (result.amount_fen, result.quantity, result.window_ends_at) == (0, 0, None)
    assert (result.shipping_payer, result.repair_payer) == (Payer.NONE, Payer.NONE)


def test_a_complaint_may_name_no_line():
    assert check(ask(T.COMPLAINT, R.ACCOUNT, line="", quantity=0)).line_id == ""


def test_a_complaint_that_names_a_line_must_name_a_real_one_and_counts_towards_its_limit():
    assert refusal(ask(T.COMPLAINT, R.SERVICE, line="socks", quantity=0)).code == el.LINE_NOT_FOUND
    five = [held("shirts", 0, claim_id=f"c-{i}") for i in range(5)]
    assert refusal(ask(T.COMPLAINT, R.SERVICE, quantity=0), existing=five).code == el.TOO_MANY_CLAIMS


def test_a_complaint_claims_no_goods():
    assert refusal(ask(T.COMPLAINT, R.SERVICE, quantity=1)).code == el.INVALID_QUANTITY
