"""Buyer routes (and ``GET /claims/{id}``, which every role may read within its scope)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from aftersales import carrier_events, claims, clock, evidence
from aftersales.domain.model import Action, Role, Status
from aftersales.domain.transitions import buyer_accepts, buyer_refuses

from .http import current_actor
from .routes_common import perform, require_role
from .schemas import EvidenceUpload, Note, Rating, Shipment
from .views import detail_view, page_view

router = Router()  # type: ignore[no-untyped-call]


@router.get("/claims")
def list_own_claims(
    status: Annotated[Status | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    actor = require_role(router, Role.BUYER)
    return page_view(claims.list_for(actor, status=status, cursor=cursor, limit=limit), actor)


@router.get("/claims/<claim_id>")
def get_claim(claim_id: str) -> dict[str, Any]:
    actor = current_actor(router)
    return detail_view(claims.detail(claim_id, actor), actor, clock.now())


@router.post("/claims/<claim_id>/shipment")
def ship_return(claim_id: str, body: Shipment) -> dict[str, Any]:
    return perform(router, "shipment", claim_id, Action.SHIP_RETURN, body.to_input(), via=carrier_events.ship)


@router.post("/claims/<claim_id>/cancel")
def cancel(claim_id: str, body: Note) -> dict[str, Any]:
    return perform(router, "cancel", claim_id, Action.CANCEL, body.to_input())


@router.post("/claims/<claim_id>/accept")
def accept(claim_id: str, body: Note) -> dict[str, Any]:
    """Accept what is offered now: a repair quote, the delivered goods, or a rejection (closing it)."""
    return perform(router, "accept", claim_id, buyer_accepts, body.to_input())


@router.post("/claims/<claim_id>/dispute")
def dispute(claim_id: str, body: Note) -> dict[str, Any]:
    """Refuse what is offered now: dispute a rejection, decline a repair quote, or reopen a repair."""
    return perform(router, "dispute", claim_id, buyer_refuses, body.to_input())


@router.post("/claims/<claim_id>/received")
def received(claim_id: str, body: Note) -> dict[str, Any]:
    """The buyer has the replacement or repaired goods (when the carrier has not said so yet)."""
    return perform(router, "received", claim_id, Action.OUTBOUND_DELIVERED, body.to_input())


@router.post("/claims/<claim_id>/rating")
def rate(claim_id: str, body: Rating) -> dict[str, Any]:
    return perform(router, "rating", claim_id, Action.RATE, body.to_input())


@router.post("/claims/<claim_id>/evidence")
def evidence_upload(claim_id: str, body: EvidenceUpload) -> dict[str, Any]:
    actor = require_role(router, Role.BUYER)
    return evidence.upload_url(claim_id, actor, filename=body.filename, content_type=body.content_type)
