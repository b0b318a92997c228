"""Helpers for tests against the local stack over HTTP (tests/e2e)."""

from __future__ import annotations

import uuid

from infra.local import demo
from infra.local.demo import BUYER, ApiClient
from infra.local.stack import LocalStack


def submitted_return(stack: LocalStack, api: ApiClient, *, prefix: str = "ord") -> str:
    """A no-reason return the buyer opened on a freshly seeded order; its claim id."""
    order_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    assert demo.seed_order(api, order_id, stack.now()).status == 200
    reply = api.call(
        "POST",
        "/claims",
        {
            "order_id": order_id,
            "line_id": "L1",
            "quantity": 1,
            "type": "return_refund",
            "reason": "no_reason",
        },
        who=BUYER,
        headers={"idempotency-key": f"key-{order_id}"},
    )
    assert reply.status == 201, reply.body
    return str(reply.body["claim_id"])
