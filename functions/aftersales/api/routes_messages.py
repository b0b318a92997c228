"""``POST /claims/{id}/messages``: a message on the claim, from the buyer, the merchant or an agent.

A message keeps the claim where it is and goes on the timeline (personal data in it masked for the
other parties, like every note). The merchant's or an agent's first message answers the claim: it
meets the first-response deadline (001 三(续)2).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from aftersales.domain.model import Action

from .routes_common import perform
from .schemas import Message

router = Router()  # type: ignore[no-untyped-call]


@router.post("/claims/<claim_id>/messages")
def post_message(claim_id: str, body: Message) -> dict[str, Any]:
    return perform(router, "messages", claim_id, Action.MESSAGE, body.to_input())
