"""The platform's floors, field by field: a category or merchant layer may be more generous to the
buyer than the platform, never less, and may not touch what is the platform's alone."""

from __future__ import annotations

from typing import Any

import pytest
from aftersales.domain.errors import DomainError
from aftersales.domain.policy import PLATFORM, DeadlineKind, Policy, merge, merge_patch
from aftersales.domain.policy_floors import (
    DEADLINE_FIELDS,
    FIELD_RULES,
    BelowPlatformFloor,
    Direction,
    check_layer,
    rule_for,
    violations,
    without,
)
from aftersales.policies import default_policy, seed_content, validated
from hypothesis import given
from hypothesis import strategies as st

PLATFORM_DATA = seed_content(PLATFORM)[0]  # type: ignore[index]
BASE = default_policy()


def _check(layer: dict[str, Any], platform_data: dict[str, Any] = PLATFORM_DATA) -> list[dict[str, Any]]:
    platform = validated({**platform_data, "version": "p"})
    layered = validated({**merge(platform_data, layer), "version": "l"})
    return [v.as_dict() for v in violations(platform, layered, layer)]


# (layer, allowed?) per field: one more generous (or equal) value, one less generous.
CASES: dict[str, list[tuple[dict[str, Any], bool]]] = {
    "no_reason_return_days": [({"no_reason_return_days": 15}, True), ({"no_reason_return_days": 6}, False)],
    "no_reason_excluded_categories": [
        ({"no_reason_excluded_categories": ["fresh_food"]}, True),  # excludes fewer
        ({"no_reason_excluded_categories": []}, True),
        ({"no_reason_excluded_categories": ["fresh_food", "apparel"]}, False),  # the platform does not
    ],
    "quality_window_days": [({"quality_window_days": 30}, True), ({"quality_window_days": 14}, False)],
    "special_categories": [
        ({"special_categories": ["customised"]}, True),
        ({"special_categories": ["large_appliance", "customised", "phones"]}, False),
    ],
    "max_claims_per_line": [({"max_claims_per_line": 6}, True), ({"max_claims_per_line": 4}, False)],
    "warranty.unit_months": [
        ({"warranty": {"unit_months": 24}}, True),
        ({"warranty": {"unit_months": 11}}, False),
    ],
    "warranty.part_months": [
        ({"warranty": {"part_months": 6}}, True),
        ({"warranty": {"part_months": 2}}, False),
    ],
    "warranty.consumable_months": [
        ({"warranty": {"consumable_months": 3}}, True),
        ({"warranty": {"consumable_months": 1}}, False),
    ],
    "penalty.rate_basis_points_per_day": [
        ({"penalty": {"rate_basis_points_per_day": 100}}, True),
        ({"penalty": {"rate_basis_points_per_day": 49}}, False),
    ],
    "penalty.cap_basis_points": [
        ({"penalty": {"cap_basis_points": 20_000}}, True),
        ({"penalty": {"cap_basis_points": 5_000}}, False),
    ],
    "auto_approve_below_fen": [
        ({"auto_approve_below_fen": 10_000}, True),
        ({"auto_approve_below_fen": 0}, True),
    ],
    "auto_approve_reasons": [
        ({"auto_approve_reasons": ["wrong_item"]}, True),
        ({"auto_approve_reasons": []}, True),
    ],
    # no cap on the platform: a merchant's policy may set one (POLICY §3)
    "max_return_shipping_fen": [
        ({"max_return_shipping_fen": 2000}, True),
        ({"max_return_shipping_fen": None}, True),
    ],
    "return_shipping_receipt_above_fen": [({"return_shipping_receipt_above_fen": 2000}, True)],
    "declined_quote_ship_back_payer": [
        ({"declined_quote_ship_back_payer": "merchant"}, True),
        ({"declined_quote_ship_back_payer": "buyer"}, True),
        ({"declined_quote_ship_back_payer": "none"}, False),
    ],
    "return_address": [({"return_address": "杭州市 仓库 1 号"}, True)],
}


def test_every_field_a_layer_may_set_has_a_case() -> None:
    assert set(CASES) == set(FIELD_RULES)


@pytest.mark.parametrize(
    ("field", "layer", "allowed"),
    [(field, layer, allowed) for field, cases in CASES.items() for layer, allowed in cases],
)
def test_each_field_is_judged_in_its_direction(field: str, layer: dict[str, Any], allowed: bool) -> None:
    found = _check(layer)
    if allowed:
        assert found == []
    else:
        [violation] = found
        assert (violation["field"], violation["code"]) == (field, "below_platform_floor")
        assert violation["rule"] == FIELD_RULES[field].direction


def test_a_cap_the_platform_sets_is_a_floor_for_the_layers_above() -> None:
    capped = {**PLATFORM_DATA, "max_return_shipping_fen": 3000, "return_shipping_receipt_above_fen": 5000}
    assert _check({"max_return_shipping_fen": 5000}, capped) == []
    assert _check({"max_return_shipping_fen": None}, capped) == []  # no cap at all: more generous
    [lower] = _check({"max_return_shipping_fen": 2000}, capped)
    assert (lower["floor"], lower["asked"]) == (3000, 2000)
    [asks_sooner] = _check({"return_shipping_receipt_above_fen": 1000}, capped)
    assert asks_sooner["field"] == "return_shipping_receipt_above_fen"


def test_the_auto_approval_floor_follows_the_platforms_own() -> None:
    generous = {**PLATFORM_DATA, "auto_approve_below_fen": 5000, "auto_approve_reasons": ["wrong_item"]}
    [amount] = _check({"auto_approve_below_fen": 1000}, generous)
    assert (amount["field"], amount["floor"]) == ("auto_approve_below_fen", 5000)
    [reasons] = _check({"auto_approve_reasons": ["missing_item"]}, generous)
    assert reasons["floor"] == ["wrong_item"] and reasons["asked"] == ["missing_item"]


def test_the_merchant_may_take_on_the_ship_back_never_hand_it_back() -> None:
    merchant_pays = {**PLATFORM_DATA, "declined_quote_ship_back_payer": "merchant"}
    [violation] = _check({"declined_quote_ship_back_payer": "buyer"}, merchant_pays)
    assert (violation["floor"], violation["asked"]) == ("merchant", "buyer")


BUYER_OWES = ["return_shipment", "buyer_confirmation", "appeal", "quote_answer"]
MERCHANT_OWES = [
    "review_decision",
    "inspection",
    "refund",
    "replacement_shipment",
    "repair_answer",
    "repair_completion",
    "return_to_buyer",
]
PLATFORM_OWES = [
    "first_response",
    "classify_dispute",
    "complaint_opinion",
    "mediation_plan",
    "follow_up_visit",
]


def test_every_deadline_has_a_direction() -> None:
    assert sorted(BUYER_OWES + MERCHANT_OWES + PLATFORM_OWES) == sorted(k.value for k in DeadlineKind)


@pytest.mark.parametrize("kind", BUYER_OWES)
def test_the_buyer_may_get_more_time_never_less(kind: str) -> None:
    amount = BASE.deadlines[DeadlineKind(kind)].amount
    assert _check({"deadlines": {kind: {"amount": amount + 3}}}) == []
    [shorter] = _check({"deadlines": {kind: {"amount": amount - 1}}})
    assert shorter == {
        **shorter,
        "field": f"deadlines.{kind}.amount",
        "rule": Direction.AT_LEAST,
        "floor": amount,
        "asked": amount - 1,
    }


@pytest.mark.parametrize("kind", MERCHANT_OWES)
def test_the_merchant_may_promise_to_be_faster_never_slower(kind: str) -> None:
    amount = BASE.deadlines[DeadlineKind(kind)].amount
    assert _check({"deadlines": {kind: {"amount": 1, "source": "we answer within a day"}}}) == []
    [longer] = _check({"deadlines": {kind: {"amount": amount + 1}}})
    assert (longer["field"], longer["rule"], longer["floor"]) == (
        f"deadlines.{kind}.amount",
        "at_most",
        amount,
    )


@pytest.mark.parametrize("kind", PLATFORM_OWES)
def test_a_deadline_the_platforms_agents_owe_is_the_platforms(kind: str) -> None:
    [refused] = _check({"deadlines": {kind: {"amount": 1}}})
    assert (refused["field"], refused["code"]) == (f"deadlines.{kind}.amount", "platform_only")


@pytest.mark.parametrize(
    "field", sorted({"unit", "owner", "on_expiry", "penalty", "act_after_overdue_days", "urgent_types"})
)
def test_of_a_deadline_only_its_length_may_change(field: str) -> None:
    assert field not in DEADLINE_FIELDS
    value = {
        "unit": "days",
        "owner": "buyer",
        "on_expiry": "escalate",
        "penalty": False,
        "act_after_overdue_days": 0,
        "urgent_types": [],
    }[field]
    [refused] = _check({"deadlines": {"inspection": {field: value}}})
    assert (refused["field"], refused["code"]) == (f"deadlines.inspection.{field}", "platform_only")


@pytest.mark.parametrize("field", ["auto_review_not_received", "version", "badge", "risk.factor"])
def test_whatever_is_not_listed_is_the_platforms_alone(field: str) -> None:
    assert rule_for(field, BASE).direction is Direction.PLATFORM_ONLY


def test_every_field_of_the_policy_is_either_listed_or_refused() -> None:
    listed = {path.split(".")[0] for path in FIELD_RULES} | {"deadlines"}
    refused = set(Policy.model_fields) - listed
    assert {"version", "auto_review_not_received"} <= refused  # documented in docs/policy.md
    # a section added later (e.g. the platform's badge thresholds) is refused until it is listed
    assert all(rule_for(field, BASE).direction is Direction.PLATFORM_ONLY for field in refused)


def test_check_layer_names_every_violation_and_the_first_one_codes_the_error() -> None:
    layer = {"no_reason_return_days": 3, "deadlines": {"refund": {"amount": 10}}}
    platform = validated({**PLATFORM_DATA, "version": "p"})
    with pytest.raises(BelowPlatformFloor) as refused:
        check_layer(platform, validated({**merge(PLATFORM_DATA, layer), "version": "l"}), layer)
    assert isinstance(refused.value, DomainError) and refused.value.code == "below_platform_floor"
    assert [v["field"] for v in refused.value.details["violations"]] == [
        "no_reason_return_days",
        "deadlines.refund.amount",
    ]
    assert "platform: 7" in refused.value.message and "asked: 3" in refused.value.message


def test_a_stored_layer_gives_way_where_a_later_platform_floor_refuses_it() -> None:
    layer = {"no_reason_return_days": 8, "deadlines": {"refund": {"amount": 3, "source": "fast"}}}
    assert without(layer, ["no_reason_return_days"]) == {
        "deadlines": {"refund": {"amount": 3, "source": "fast"}}
    }
    assert without(layer, ["deadlines.refund.amount", "deadlines.refund.source"]) == {
        "no_reason_return_days": 8
    }
    assert layer["deadlines"]["refund"]["amount"] == 3  # the stored layer is left as it was


def test_a_save_is_a_merge_patch_of_the_layer() -> None:
    content = {"no_reason_return_days": 10, "deadlines": {"refund": {"amount": 3, "source": "s"}}}
    assert merge_patch(content, {"quality_window_days": 20}) == {**content, "quality_window_days": 20}
    assert merge_patch(content, {"no_reason_return_days": None}) == {"deadlines": content["deadlines"]}
    assert merge_patch(content, {"deadlines": {"refund": None}}) == {"no_reason_return_days": 10}
    assert merge_patch(content, {"deadlines": {"refund": {"amount": 2}}})["deadlines"]["refund"] == {
        "amount": 2,
        "source": "s",
    }
    assert content["deadlines"]["refund"]["amount"] == 3


_NUMBERS = {
    "no_reason_return_days": BASE.no_reason_return_days,
    "quality_window_days": BASE.quality_window_days,
    "max_claims_per_line": BASE.max_claims_per_line,
    "warranty.unit_months": BASE.warranty.unit_months,
    "penalty.rate_basis_points_per_day": BASE.penalty.rate_basis_points_per_day,
    **{
        f"deadlines.{kind}.amount": BASE.deadlines[DeadlineKind(kind)].amount
        for kind in BUYER_OWES + MERCHANT_OWES
    },
}


def _nested(path: str, value: int) -> dict[str, Any]:
    *parents, last = path.split(".")
    node: dict[str, Any] = {last: value}
    for part in reversed(parents):
        node = {part: node}
    return node


@given(st.dictionaries(st.sampled_from(sorted(_NUMBERS)), st.integers(min_value=1, max_value=60), min_size=1))
def test_numbers_are_refused_exactly_when_less_generous_than_the_platform(asked: dict[str, int]) -> None:
    layer: dict[str, Any] = {}
    for path, value in asked.items():
        layer = merge(layer, _nested(path, value))
    # the reference: a merchant-owed deadline may only shrink, everything else only grow
    merchant_owes = {f"deadlines.{kind}.amount" for kind in MERCHANT_OWES}
    expected = {
        path
        for path, value in asked.items()
        if (value > _NUMBERS[path] if path in merchant_owes else value < _NUMBERS[path])
    }
    assert {v["field"] for v in _check(layer)} == expected
