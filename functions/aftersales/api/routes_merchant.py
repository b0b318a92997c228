"""Merchant routes. Approving, rejecting, inspecting and shipping replacements are open to ops too."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from aftersales import carrier_events, claims, clock, scorecards
from aftersales.domain.model import Action, Role, Status
from aftersales.domain.transitions import merchant_ships

from .routes_common import perform, require_role
from .schemas import Decision, Extension, Inspection, Note, Repair, Shipment
from .scorecard_views import scorecard_view
from .views import page_view

router = Router()  # type: ignore[no-untyped-call]


@router.get("/merchant/claims")
def list_merchant_claims(
    status: Annotated[Status | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    actor = require_role(router, Role.MERCHANT)
    return page_view(claims.list_for(actor, status=status, cursor=cursor, limit=limit), actor)


@router.get("/merchant/scorecard")
def merchant_scorecard(
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    products: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    """The token's merchant's scorecard over ``from``..``to`` (Shanghai days, at most 92; default the
    last 30 days), per product too, and its 金牌售后 badge."""
    actor = require_role(router, Role.MERCHANT)
    assert actor.merchant_id is not None  # a merchant token always names its merchant
    card = scorecards.merchant_scorecard(actor.merchant_id, from_, to, clock.now(), product_limit=products)
    return scorecard_view(card)


@router.post("/claims/<claim_id>/decision")
def decide(claim_id: str, body: Decision) -> dict[str, Any]:
    return perform(router, "decision", claim_id, body.action, body.to_input())


@router.post("/claims/<claim_id>/return-received")
def return_received(claim_id: str, body: Note) -> dict[str, Any]:
    """The returned parcel reached the merchant (when the carrier has not said so yet)."""
    return perform(router, "return-received", claim_id, Action.RETURN_DELIVERED, body.to_input())


@router.post("/claims/<claim_id>/inspection")
def inspect(claim_id: str, body: Inspection) -> dict[str, Any]:
    return perform(router, "inspection", claim_id, body.action, body.to_input())


@router.post("/claims/<claim_id>/repair")
def repair(claim_id: str, body: Repair) -> dict[str, Any]:
    return perform(router, "repair", claim_id, body.action, body.to_input(), via=carrier_events.ship)


@router.post("/claims/<claim_id>/replacement")
def ship_replacement(claim_id: str, body: Shipment) -> dict[str, Any]:
    # A replacement, or the unrepaired goods of a declined quote: the claim's status says which.
    return perform(router, "replacement", claim_id, merchant_ships, body.to_input(), via=carrier_events.ship)


@router.post("/claims/<claim_id>/extension")
def extend(claim_id: str, body: Extension) -> dict[str, Any]:
    return perform(router, "extension", claim_id, Action.EXTEND, body.to_input())
