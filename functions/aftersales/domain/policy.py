"""The shape of a policy: every number of POLICY.md as validated data, and its layers.

The platform layer is seeded from ``aftersales/policies/default.yaml``; a category or merchant layer is
a partial policy merged on top (``merge``). Every save of a layer is a new immutable version
(``LayerVersion``); a claim records the ``LayerRef`` of each layer it opened under, and
``Policy.version`` names them all (``version_string``) so a decision can be explained later by the
exact rules that made it. What a category or merchant layer may set: ``policy_floors``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .model import ClaimType, Payer, Reason, Role


class DeadlineKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    CLASSIFY_DISPUTE = "classify_dispute"
    REVIEW_DECISION = "review_decision"
    RETURN_SHIPMENT = "return_shipment"
    INSPECTION = "inspection"
    REFUND = "refund"
    REPLACEMENT_SHIPMENT = "replacement_shipment"
    REPAIR_ANSWER = "repair_answer"
    REPAIR_COMPLETION = "repair_completion"
    COMPLAINT_OPINION = "complaint_opinion"
    MEDIATION_PLAN = "mediation_plan"
    FOLLOW_UP_VISIT = "follow_up_visit"
    BUYER_CONFIRMATION = "buyer_confirmation"
    APPEAL = "appeal"
    QUOTE_ANSWER = "quote_answer"
    RETURN_TO_BUYER = "return_to_buyer"


class DurationUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"  # calendar days
    WORKING_DAYS = "working_days"  # statutory working days, Asia/Shanghai, make-up days count


class OnExpiry(StrEnum):
    """What happens when a deadline passes (POLICY §4, 'when missed')."""

    AUTO_APPROVE = "auto_approve"
    FORFEIT = "forfeit"
    AUTO_ACCEPT_INSPECTION = "auto_accept_inspection"
    AUTO_CONFIRM = "auto_confirm"
    DECLINE_QUOTE = "decline_quote"
    CLOSE = "close"
    ESCALATE = "escalate"
    REMIND = "remind"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use


class DeadlineRule(_Strict):
    amount: Annotated[int, Field(gt=0)]
    unit: DurationUnit
    owner: Role
    on_expiry: OnExpiry
    penalty: bool = False
    source: str  # the section of the original documents this rule comes from
    urgent_amount: Annotated[int, Field(gt=0)] | None = None  # e.g. an urgent complaint's 1 h first response
    urgent_types: frozenset[ClaimType] = frozenset()  # the claim types urgent_amount is for (empty: all)
    owner_by_type: dict[ClaimType, Role] = {}  # who owes it for these claim types, instead of ``owner``
    # Overdue days (each charged, for a penalty deadline) before the automatic outcome is applied.
    # 0: at the breach. Without a grace, "penalty: yes" on a deadline that lapses into an automatic
    # outcome could never charge more than one day.
    act_after_overdue_days: Annotated[int, Field(ge=0)] = 0

    def owner_for(self, claim_type: ClaimType | None) -> Role:
        return self.owner_by_type.get(claim_type, self.owner) if claim_type else self.owner

    def amount_for(self, *, urgent: bool, claim_type: ClaimType | None) -> int:
        """The urgent amount for an urgent claim of a type it applies to, else the amount."""
        applies = not self.urgent_types or claim_type in self.urgent_types
        if urgent and applies and self.urgent_amount is not None:
            return self.urgent_amount
        return self.amount


class WarrantyRule(_Strict):
    unit_months: Annotated[int, Field(ge=0)] = 12
    part_months: Annotated[int, Field(ge=0)] = 3
    consumable_months: Annotated[int, Field(ge=0)] = 3


class PenaltyRule(_Strict):
    rate_basis_points_per_day: Annotated[int, Field(ge=0, le=10_000)] = 50  # 0.5 % a day
    cap_basis_points: Annotated[int, Field(ge=0)] = 10_000  # of the claimed amount: 100 % by default


class BadgeRule(_Strict):
    """金牌售后 (001 §四(二)2): held while the rolling window's figures meet every threshold."""

    window_days: Annotated[int, Field(ge=1, le=366)] = 30
    min_claims: Annotated[int, Field(ge=1)] = 10  # fewer claims in the window: too few to judge
    max_median_first_response_minutes: Annotated[int, Field(gt=0)] = 120
    min_on_time_basis_points: Annotated[int, Field(ge=0, le=10_000)] = 9_500  # of the merchant's deadlines
    max_dispute_basis_points: Annotated[int, Field(ge=0, le=10_000)] = 500  # claims taken to a dispute


class RiskRule(_Strict):
    """A product's risk warning (001 §四(三)2): its return rate over the last ``window_days`` against
    its rate over the ``baseline_days`` before them."""

    window_days: Annotated[int, Field(ge=1, le=92)] = 7
    baseline_days: Annotated[int, Field(ge=1, le=366)] = 28
    factor_percent: Annotated[int, Field(gt=100)] = 200  # the window's rate above this % of the baseline's
    min_returns: Annotated[int, Field(ge=1)] = 5  # returns in the window, below which nothing fires
    min_lines_sold: Annotated[int, Field(ge=1)] = 20  # lines sold in the window and in the baseline


class MerchantStanding(_Strict):
    """Platform-only: how the platform judges merchants. A merchant's own policy never sets it."""

    scorecard_max_days: Annotated[int, Field(ge=1, le=366)] = 92  # the longest range one scorecard reads
    badge: BadgeRule = BadgeRule()
    risk: RiskRule = RiskRule()


class Policy(_Strict):
    version: Annotated[str, Field(min_length=1)]
    no_reason_return_days: Annotated[int, Field(ge=0)] = 7
    no_reason_excluded_categories: frozenset[str] = frozenset()
    quality_window_days: Annotated[int, Field(ge=0)] = 15
    special_categories: frozenset[str] = frozenset()  # shipping and repair costs are negotiated
    max_claims_per_line: Annotated[int, Field(ge=1)] = 5
    warranty: WarrantyRule = WarrantyRule()
    penalty: PenaltyRule = PenaltyRule()
    auto_approve_below_fen: Annotated[int, Field(ge=0)] = 0  # review Lambda approves smaller claims itself
    auto_approve_reasons: frozenset[Reason] = frozenset()
    auto_review_not_received: bool = True  # refund_only/not_received: decided from the carrier's sign-for
    # Return shipping the merchant owes is refunded at the actual charge (002 §6.1.2): no cap unless a
    # merchant's policy sets one; a declared fee above ``return_shipping_receipt_above_fen`` needs the
    # carrier's receipt uploaded with the shipment (None: never).
    max_return_shipping_fen: Annotated[int, Field(ge=0)] | None = None
    return_shipping_receipt_above_fen: Annotated[int, Field(ge=0)] | None = None
    # Who pays to ship the unrepaired goods back after a declined paid-repair quote (no source sets it).
    declined_quote_ship_back_payer: Payer = Payer.BUYER
    return_address: str = ""  # where approved returns are sent (a merchant override names its own)
    deadlines: dict[DeadlineKind, DeadlineRule]
    merchant_standing: MerchantStanding = MerchantStanding()  # platform-only

    @model_validator(mode="after")
    def _every_deadline_defined(self) -> Policy:
        missing = sorted(set(DeadlineKind) - set(self.deadlines))
        if missing:
            raise ValueError(f"deadlines missing: {', '.join(missing)}")
        return self

    def deadline(self, kind: DeadlineKind) -> DeadlineRule:
        return self.deadlines[kind]

    def window_days(self, claim_type: ClaimType, reason: Reason) -> int:
        """Days after sign-for during which this claim may be opened (warranty repairs aside)."""
        if reason is Reason.NO_REASON:
            return self.no_reason_return_days
        return self.quality_window_days


# --------------------------------------------------------------------------- layers and versions


class LayerKind(StrEnum):
    """Who a policy layer belongs to. Layers merge in this order, the most specific last."""

    PLATFORM = "platform"
    CATEGORY = "category"
    MERCHANT = "merchant"


LAYER_ORDER = (LayerKind.PLATFORM, LayerKind.CATEGORY, LayerKind.MERCHANT)


@dataclass(frozen=True, order=True)
class Layer:
    """One layer: the platform's, a category's or a merchant's (``owner`` names the category or the
    merchant; empty for the platform)."""

    kind: LayerKind
    owner: str = ""

    @property
    def key(self) -> str:
        """``platform``, ``category-phones``, ``merchant-m1``: the name in a policy version string."""
        return self.kind.value if self.kind is LayerKind.PLATFORM else f"{self.kind.value}-{self.owner}"


PLATFORM = Layer(LayerKind.PLATFORM)


@dataclass(frozen=True, order=True)
class LayerRef:
    """One immutable version of one layer, as a claim records it."""

    layer: Layer
    version: int

    @property
    def label(self) -> str:
        return f"{self.layer.key}@{self.version}"


@dataclass(frozen=True)
class LayerVersion:
    """A saved layer version: the partial policy it sets (the platform's: the whole policy), who saved
    it, when and why. Never changes once saved."""

    ref: LayerRef
    content: Mapping[str, Any]
    saved_by: str
    saved_at: datetime
    note: str = ""


def version_string(refs: Sequence[LayerRef]) -> str:
    """``platform@3+category-phones@1+merchant-m1@2``: every layer a decision was made under."""
    return "+".join(ref.label for ref in sorted(refs, key=lambda r: LAYER_ORDER.index(r.layer.kind)))


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else in the override replaces the base."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_patch(content: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A layer's content after a save (RFC 7396 merge patch): mappings merge key by key, ``null``
    removes the key (the value of the layer below applies again), anything else replaces."""
    merged = dict(content)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            below = merged.get(key)
            inner = merge_patch(below if isinstance(below, Mapping) else {}, value)
            if inner:
                merged[key] = inner
            else:
                merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def leaf_paths(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the values a layer sets (``deadlines.review_decision.amount``); lists are leaves."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, f"{path}.")
        else:
            yield path
