"""Ops routes: find claims, escalate, rule on disputes, answer complaints, retry failed refunds, resume
parked runs, import orders."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from aftersales import claims, clock, orders, scorecards
from aftersales.domain.model import Action, Role, Status

from .routes_common import perform, require_role
from .schemas import Escalation, Note, Opinion, OrderIn, Ruling
from .scorecard_views import risk_page_view, scorecard_view
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
        page = claims.overdue(clock.now(), status=status, merchant_id=merchant_id, limit=limit)
    else:
        page = claims.list_for(actor, status=status, cursor=cursor, limit=limit, merchant_id=merchant_id)
    return page_view(page, actor)


@router.post("/claims/<claim_id>/escalate")
def escalate(claim_id: str, body: Escalation) -> dict[str, Any]:
    return perform(router, "escalate", claim_id, Action.ESCALATE, body.to_input())


@router.post("/claims/<claim_id>/ruling")
def rule(claim_id: str, body: Ruling) -> dict[str, Any]:
    return perform(router, "ruling", claim_id, body.action, body.to_input())


@router.post("/claims/<claim_id>/opinion")
def give_opinion(claim_id: str, body: Opinion) -> dict[str, Any]:
    """The platform's written opinion on a complaint, which closes it as resolved."""
    return perform(router, "opinion", claim_id, Action.GIVE_OPINION, body.to_input())


@router.post("/claims/<claim_id>/refund-retry")
def retry_refund(claim_id: str, body: Note) -> dict[str, Any]:
    """Pay a refund that failed again: with the failed attempt's idempotency key, unless the gateway
    declined it with nothing paid, so money is never sent twice."""
    return perform(router, "refund-retry", claim_id, Action.RETRY_REFUND, body.to_input())


@router.post("/claims/<claim_id>/resume")
def resume(claim_id: str) -> dict[str, Any]:
    """Let a run parked after an unexpected failure go on from the claim's current status."""
    actor = require_role(router, Role.OPS)
    return claim_view(claims.resume_parked(claim_id, actor, clock.now()), actor)


@router.put("/ops/orders/<order_id>")
def import_order(order_id: str, body: OrderIn) -> Response[dict[str, Any]]:
    require_role(router, Role.OPS)
    stored = orders.import_order(body.to_order(order_id), source="ops_import", now=clock.now())
    return Response(200, "application/json", body={"order_id": stored.order_id, "version": stored.version})


@router.get("/ops/merchants/<merchant_id>/scorecard")
def merchant_scorecard(
    merchant_id: str,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    products: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    """Any merchant's scorecard and badge, as the merchant sees it."""
    require_role(router, Role.OPS)
    card = scorecards.merchant_scorecard(merchant_id, from_, to, clock.now(), product_limit=products)
    return scorecard_view(card)


@router.get("/ops/risk")
def list_risk_warnings(
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Product risk warnings (a product's return rate jumped), newest first; ``active`` while the
    episode is open."""
    require_role(router, Role.OPS)
    return risk_page_view(scorecards.risk_warnings(cursor=cursor, limit=limit))
