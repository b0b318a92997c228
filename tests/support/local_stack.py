"""Helpers for tests against the local stack over HTTP (tests/e2e)."""

from __future__ import annotations

import uuid
from typing import Any

from infra.local import demo
from infra.local.demo import BUYER, MERCHANT, OPS, ApiClient
from infra.local.stack import LocalStack


def opened_return(
    stack: LocalStack, api: ApiClient, *, prefix: str = "ord", merchant: str = str(MERCHANT[2])
) -> dict[str, Any]:
    """A no-reason return the buyer opened on a freshly imported order of ``merchant``: the claim
    as ``POST /claims`` answered it."""
    order_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    order = demo.demo_order(BUYER[1], merchant, stack.now())
    assert api.call("PUT", f"/ops/orders/{order_id}", order, who=OPS).status == 200
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
    return dict(reply.body)


def submitted_return(stack: LocalStack, api: ApiClient, *, prefix: str = "ord") -> str:
    """A no-reason return the buyer opened on a freshly seeded order; its claim id."""
    return str(opened_return(stack, api, prefix=prefix)["claim_id"])
