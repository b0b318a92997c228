"""Ops findings on a claim's clock: a force-majeure pause and its end, and that a delay is the buyer's.

``POST /claims/{id}/pause`` stops every open deadline (no expiry, no penalty) until ``until`` or until
``POST /claims/{id}/unpause``; each due time then moves later by the paused time. ``POST
/claims/{id}/buyer-delay`` records that the buyer caused a merchant deadline's delay: no penalty accrues
on it (002 §5.3.2). Each is a timeline entry and changes what ``next_action`` says.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales.domain.model import Action

from .routes_common import perform
from .schemas import BuyerDelay, ClockPause, Note

router = Router()  # type: ignore[no-untyped-call]


@router.post("/claims/<claim_id>/pause")
def pause(claim_id: str, body: ClockPause) -> dict[str, Any]:
    return perform(router, "pause", claim_id, Action.PAUSE_CLOCK, body.to_input())


@router.post("/claims/<claim_id>/unpause")
def unpause(claim_id: str, body: Note) -> dict[str, Any]:
    return perform(router, "unpause", claim_id, Action.RESUME_CLOCK, body.to_input())


@router.post("/claims/<claim_id>/buyer-delay")
def buyer_delay(claim_id: str, body: BuyerDelay) -> dict[str, Any]:
    return perform(router, "buyer-delay", claim_id, Action.FIND_BUYER_DELAY, body.to_input())
