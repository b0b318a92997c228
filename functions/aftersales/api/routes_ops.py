"""Ops routes: find claims, escalate, rule on disputes, resume parked runs, import orders."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from aftersales import claims, clock, orders, workflow_steps
from aftersales.domain.model import Action, Role, Status
from aftersales.domain.money import parse_yuan

from .routes_common import perform, require_role
from .schemas import Escalation, OrderIn, Ruling
from .views import claim_view, page_view

router = Router()  # type: ignore[no-untyped-call]


@router.get("/ops/claims")
def list_ops_claims(
    status: Annotated[Status | None, Query()] = None,
    merchant_id: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool, Query()] = False,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """``overdue=true``: claims with a deadline past due, earliest first (one page, no cursor).
    Otherwise one merchant's claims, optionally of one status."""
    actor = require_role(router, Role.OPS)
    if overdue:
        found = claims.overdue(clock.now(), limit=limit)
        found = [
            c
            for c in found
            if (not status or c.status == status) and (not merchant_id or c.merchant_id == merchant_id)
        ]
        return {"claims": [claim_view(c, actor) for c in found], "next_cursor": None}
    page = claims.list_for(actor, status=status, cursor=cursor, limit=limit, merchant_id=merchant_id)
    return page_view(page, actor)


@router.post("/claims/<claim_id>/escalate")
def escalate(claim_id: str, body: Escalation) -> dict[str, Any]:
    require_role(router, Role.OPS)
    return perform(router, claim_id, Action.ESCALATE, {"note": body.reason})


@router.post("/claims/<claim_id>/ruling")
def rule(claim_id: str, body: Ruling) -> dict[str, Any]:
    require_role(router, Role.OPS)
    if body.outcome == "dismiss":
        return perform(router, claim_id, Action.RULING_DISMISS, {"note": body.reason})
    payload: dict[str, Any] = {"payer": body.payer, "note": body.reason}
    if body.refund_amount is not None:
        payload["refund_fen"] = parse_yuan(body.refund_amount)
    return perform(router, claim_id, Action.RULING_REFUND, payload)


@router.post("/claims/<claim_id>/resume")
def resume(claim_id: str) -> dict[str, Any]:
    """Let a run parked after an unexpected failure go on from the claim's current status."""
    actor = require_role(router, Role.OPS)
    return claim_view(workflow_steps.resume_parked(claim_id, actor, clock.now()), actor)


@router.put("/ops/orders/<order_id>")
def import_order(order_id: str, body: OrderIn) -> Response[dict[str, Any]]:
    require_role(router, Role.OPS)
    order = orders.import_order(order_id, body, source="ops_import", now=clock.now())
    return Response(
        200, "application/json", body={"order_id": order.order_id, "version": int(order.version or 0)}
    )
