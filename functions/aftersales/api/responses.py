"""What the routes answer with, as models for the OpenAPI document (``aftersales.api.openapi``); the
views (``aftersales.api.views``) build the bodies. The fuzz pass in ``make test`` checks every 2xx
body against these. Additional properties are allowed: a client must ignore fields it does not know.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)  # built on first use, not at import


class ShipmentOut(Open):
    carrier: str | None
    waybill: str | None
    at: str | None


class ReturnAuthorisation(Open):
    rma_number: str
    address: str | None
    shipping_payer: str | None


class PolicyLayerRef(Open):
    layer: str  # platform, category, merchant
    owner: str | None  # the category or merchant id
    version: int
    href: str | None  # where the caller reads this version, if its role may


class PolicyLayerVersion(PolicyLayerRef):
    label: str  # e.g. merchant-m1@2
    sets: dict[str, Any]  # the partial policy this version sets (the platform's: all of it)
    saved_by: str
    saved_at: str
    note: str


class PolicyVersionPage(Open):
    versions: list[PolicyLayerVersion]
    next_cursor: str | None


class EffectivePolicy(Open):
    version: str  # every layer version, e.g. platform@3+category-phones@1+merchant-m1@2
    policy: dict[str, Any]
    layers: list[PolicyLayerRef]
    set_by: dict[str, PolicyLayerRef]  # dotted path of each value → the layer version that set it


class Claim(Open):
    claim_id: str
    order_id: str
    line_id: str | None
    buyer_id: str
    merchant_id: str
    type: str
    reason: str | None
    quantity: int
    description: str | None
    evidence_keys: list[str]
    urgent: bool
    status: str
    outcome: str | None
    amount: str | None  # yuan, "129.90"
    refund_amount: str | None
    refund_payer: str | None
    shipping_payer: str | None
    repair_payer: str | None
    quote: str | None
    ship_back_payer: str | None
    liability: str | None
    escalation_level: str | None
    reopen_count: int
    penalty_total: str | None
    return_authorisation: ReturnAuthorisation | None
    return_shipment: ShipmentOut | None
    outbound_shipment: ShipmentOut | None
    rating: dict[str, Any] | None
    policy_version: str | None
    policy_layers: list[PolicyLayerRef]
    version: int
    created_at: str
    updated_at: str


class ClaimPage(Open):
    claims: list[Claim]
    next_cursor: str | None


class Contact(Open):
    phone: str
    address: str


class TimelineEntry(Open):
    at: str
    actor: dict[str, Any]
    action: str
    note: str | None
    details: dict[str, Any]


class DeadlineOut(Open):
    kind: str
    owner: str | None
    due_at: str | None
    open: bool


class Penalties(Open):
    total: str | None
    days: list[dict[str, Any]]


class NextAction(Open):
    summary: str
    your_actions: list[str]


class ClaimDetail(Open):
    claim: Claim
    contact: Contact
    timeline: list[TimelineEntry]
    deadlines: list[DeadlineOut]
    penalties: Penalties
    next_action: NextAction


class EvidenceUploadUrl(Open):
    key: str
    upload_url: str
    method: str
    expires_in: int


class OrderImported(Open):
    order_id: str
    version: int


class Times(Open):
    count: int
    median_seconds: int | None  # the upper bound of the histogram bucket holding the median
    p90_seconds: int | None


class OnTime(Open):
    count: int
    late: int
    rate: float | None


class RatingOut(Open):
    count: int
    average: float | None


class Figures(Open):
    claims: int
    lines_sold: int | None
    after_sales_rate: float | None
    claims_closed: int
    refund_rate: float | None
    first_response: Times
    handling: Times
    on_time: dict[str, OnTime]
    merchant_on_time: OnTime
    disputes: int
    dispute_rate: float | None
    complaints: int
    complaint_rate: float | None
    returns: int
    satisfaction: dict[str, RatingOut]
    penalties_paid: str  # yuan


class PeriodOut(Open):
    from_: str = Field(alias="from")
    to: str
    days: int


class BadgeOut(Open):
    name: str
    held: bool
    window: PeriodOut
    unmet: list[str]


class ProductScore(Open):
    product: str
    title: str | None
    figures: Figures


class Scorecard(Open):
    merchant_id: str
    period: PeriodOut
    figures: Figures
    badge: BadgeOut
    products: list[ProductScore]
    products_total: int


class RiskWarning(Open):
    merchant_id: str
    product: str
    episode: int
    raised_at: str
    ended_at: str | None
    active: bool
    window: dict[str, str]
    window_returns: int
    window_lines_sold: int
    baseline_returns: int
    baseline_lines_sold: int


class RiskPage(Open):
    items: list[RiskWarning]
    next_cursor: str | None


_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("get", "/merchant/scorecard"): Scorecard,
    ("get", "/ops/merchants/{merchant_id}/scorecard"): Scorecard,
    ("get", "/ops/risk"): RiskPage,
}


def response_model(method: str, path: str) -> type[BaseModel]:
    """The model of the success body of one route."""
    if "/policy" in path:
        if method == "put" or "/versions/" in path:
            return PolicyLayerVersion
        if path.endswith("/versions") or path.endswith("/layers"):
            return PolicyVersionPage
        return EffectivePolicy
    if (method, path) in (("get", "/claims"), ("get", "/merchant/claims"), ("get", "/ops/claims")):
        return ClaimPage
    if path == "/claims/{claim_id}":
        return ClaimDetail
    if path == "/claims/{claim_id}/evidence":
        return EvidenceUploadUrl
    if path == "/ops/orders/{order_id}":
        return OrderImported
    return _MODELS.get((method, path), Claim)
