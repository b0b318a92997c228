"""Policy data: the defaults are POLICY.md's numbers, overrides layer on top, bad data is refused."""

from pathlib import Path

import pytest
import yaml
from aftersales.domain.errors import PolicyError
from aftersales.domain.model import ClaimType, Reason, Role
from aftersales.domain.policy import DeadlineKind, DurationUnit, OnExpiry, Policy
from aftersales.policies import DEFAULT_POLICY_FILE, default_policy, load_policy
from pydantic import ValidationError

K, U, E = DeadlineKind, DurationUnit, OnExpiry
BUYER, MERCHANT, OPS = Role.BUYER, Role.MERCHANT, Role.OPS

# POLICY §4, row by row: amount, unit, who owes it, when missed, penalty.
DEADLINES = {
    K.FIRST_RESPONSE: (24, U.HOURS, MERCHANT, E.ESCALATE, False),
    K.CLASSIFY_DISPUTE: (10, U.MINUTES, OPS, E.REMIND, False),
    K.REVIEW_DECISION: (2, U.WORKING_DAYS, MERCHANT, E.AUTO_APPROVE, False),
    K.RETURN_SHIPMENT: (3, U.WORKING_DAYS, BUYER, E.FORFEIT, False),
    K.INSPECTION: (3, U.WORKING_DAYS, MERCHANT, E.AUTO_ACCEPT_INSPECTION, True),
    K.REFUND: (7, U.WORKING_DAYS, MERCHANT, E.ESCALATE, True),
    K.REPLACEMENT_SHIPMENT: (7, U.WORKING_DAYS, MERCHANT, E.ESCALATE, True),
    K.REPAIR_ANSWER: (2, U.WORKING_DAYS, MERCHANT, E.ESCALATE, False),
    K.REPAIR_COMPLETION: (7, U.WORKING_DAYS, MERCHANT, E.ESCALATE, True),
    K.COMPLAINT_OPINION: (72, U.HOURS, OPS, E.ESCALATE, False),
    K.MEDIATION_PLAN: (2, U.HOURS, OPS, E.ESCALATE, False),
    K.FOLLOW_UP_VISIT: (24, U.HOURS, OPS, E.REMIND, False),
    K.BUYER_CONFIRMATION: (7, U.DAYS, BUYER, E.AUTO_CONFIRM, False),
    K.APPEAL: (7, U.DAYS, BUYER, E.CLOSE, False),
    K.QUOTE_ANSWER: (7, U.DAYS, BUYER, E.DECLINE_QUOTE, False),
    K.RETURN_TO_BUYER: (7, U.WORKING_DAYS, MERCHANT, E.ESCALATE, False),
}


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_defaults_load_and_carry_their_version():
    policy = default_policy()
    assert isinstance(policy, Policy)
    assert policy.version == "platform-2026.11"
    assert default_policy() is policy  # parsed once per process


@pytest.mark.parametrize("kind", list(DeadlineKind))
def test_every_default_deadline_is_the_policy_digest_number(kind):
    rule = default_policy().deadline(kind)
    assert (rule.amount, rule.unit, rule.owner, rule.on_expiry, rule.penalty) == DEADLINES[kind]
    assert rule.source


def test_an_urgent_complaint_is_answered_within_the_hour():
    rule = default_policy().deadline(K.FIRST_RESPONSE)
    assert rule.amount_for(urgent=True, claim_type=ClaimType.COMPLAINT) == 1
    # 003 §4.3.1 sets the hour for urgent complaints; an urgent return is answered within 24 h.
    assert rule.amount_for(urgent=True, claim_type=ClaimType.RETURN_REFUND) == 24
    assert rule.amount_for(urgent=False, claim_type=ClaimType.COMPLAINT) == 24


def test_the_platform_answers_complaints_and_the_merchant_everything_else():
    rule = default_policy().deadline(K.FIRST_RESPONSE)
    assert rule.owner_for(ClaimType.COMPLAINT) is OPS
    assert {rule.owner_for(t) for t in ClaimType if t is not ClaimType.COMPLAINT} == {MERCHANT}


def test_the_other_defaults_are_the_policy_digest_numbers():
    policy = default_policy()
    assert policy.no_reason_return_days == 7
    assert policy.quality_window_days == 15
    assert policy.max_claims_per_line == 5
    assert (policy.warranty.unit_months, policy.warranty.part_months, policy.warranty.consumable_months) == (
        12,
        3,
        3,
    )
    assert policy.penalty.rate_basis_points_per_day == 50  # 0.5 % a day
    assert policy.penalty.cap_basis_points == 10_000  # at most the claimed amount
    assert {"fresh_food", "customised", "digital", "opened_consumables", "cosmetics_samples"} <= (
        policy.no_reason_excluded_categories
    )
    assert "customised" in policy.special_categories


def test_the_window_depends_on_the_reason():
    policy = default_policy()
    assert policy.window_days(ClaimType.RETURN_REFUND, Reason.NO_REASON) == 7
    assert policy.window_days(ClaimType.EXCHANGE, Reason.QUALITY_DEFECT) == 15


def test_an_override_file_changes_only_what_it_names_and_its_version_is_recorded(tmp_path):
    override = _write(
        tmp_path / "merchant-m1.yaml",
        {
            "version": "merchant-m1@3",
            "no_reason_return_days": 15,
            "deadlines": {"inspection": {"amount": 2}},
            "warranty": {"unit_months": 24},
        },
    )
    base = default_policy()
    layered = load_policy(override)
    assert layered.version == "platform-2026.11+merchant-m1@3"
    assert layered.no_reason_return_days == 15
    assert layered.deadline(K.INSPECTION).amount == 2
    assert layered.warranty.unit_months == 24

    expected = base.model_dump()
    expected["version"] = layered.version
    expected["no_reason_return_days"] = 15
    expected["deadlines"][K.INSPECTION]["amount"] = 2
    expected["warranty"]["unit_months"] = 24
    assert layered.model_dump() == expected


def test_layers_stack_in_order_and_each_names_itself_in_the_version(tmp_path):
    category = _write(tmp_path / "category.yaml", {"version": "category-fresh@1", "quality_window_days": 3})
    merchant = {"version": "merchant-m1@2", "quality_window_days": 5, "max_claims_per_line": 2}
    policy = load_policy(category, merchant)
    assert policy.version == "platform-2026.11+category-fresh@1+merchant-m1@2"
    assert (policy.quality_window_days, policy.max_claims_per_line) == (5, 2)


def test_a_list_in_an_override_replaces_the_default_list():
    policy = load_policy({"version": "m@1", "special_categories": ["fragile"]})
    assert policy.special_categories == frozenset({"fragile"})


@pytest.mark.parametrize(
    "bad",
    [
        {"penalty": {"rate_basis_points_per_day": -1}},
        {"deadlines": {"inspection": {"unit": "fortnights"}}},
        {"deadlines": {"inspection": {"amount": 0}}},
        {"deadlines": {"refund": {"owner": "courier"}}},
        {"max_claims_per_line": 0},
        {"no_such_rule": 1},
        {"auto_approve_reasons": ["because"]},
    ],
)
def test_an_invalid_override_raises_policy_error(bad):
    with pytest.raises(PolicyError) as caught:
        load_policy({"version": "m@1", **bad})
    assert caught.value.code == "invalid_policy"
    assert caught.value.details["errors"]


def test_an_override_must_carry_its_own_version():
    with pytest.raises(PolicyError):
        load_policy({"quality_window_days": 30})


def test_a_policy_file_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(PolicyError):
        load_policy(_write(tmp_path / "list.yaml", ["not", "a", "mapping"]))


def test_a_missing_deadline_fails_validation(tmp_path):
    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    del data["deadlines"]["inspection"]
    with pytest.raises(PolicyError) as caught:
        load_policy(base=_write(tmp_path / "base.yaml", data))
    assert "inspection" in str(caught.value.details["errors"])

    with pytest.raises(ValidationError, match="deadlines missing: inspection"):
        Policy.model_validate(data)


def test_a_policy_is_immutable():
    with pytest.raises(ValidationError):
        default_policy().quality_window_days = 99


def test_a_merchant_file_shipped_beside_the_defaults_seeds_that_merchants_layer() -> None:
    from datetime import UTC, datetime

    from aftersales.domain.policy import PLATFORM, Layer, LayerKind, LayerRef, LayerVersion
    from aftersales.policies import effective, seed_content

    at = datetime(2026, 11, 1, tzinfo=UTC)
    merchant = Layer(LayerKind.MERCHANT, "example")
    platform_seed, merchant_seed = seed_content(PLATFORM), seed_content(merchant)
    assert platform_seed is not None and merchant_seed is not None
    assert merchant_seed[1] == "seeded from merchant-example.yaml (merchant-example@1)"
    versions = [
        LayerVersion(LayerRef(PLATFORM, 1), platform_seed[0], "seed", at),
        LayerVersion(LayerRef(merchant, 1), merchant_seed[0], "seed", at),
    ]
    example = effective(versions)
    assert example.version == "platform@1+merchant-example@1"
    assert example.no_reason_return_days == 15
    assert example.deadline(K.REVIEW_DECISION).amount == 1
    assert example.deadline(K.REVIEW_DECISION).on_expiry is E.AUTO_APPROVE  # the rest of the row stays
    assert seed_content(Layer(LayerKind.MERCHANT, "someone-else")) is None
    platform_only = effective(versions[:1])
    assert platform_only.model_dump(exclude={"version"}) == default_policy().model_dump(exclude={"version"})
