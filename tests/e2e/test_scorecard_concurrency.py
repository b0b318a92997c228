"""One merchant's claims opened and answered at once against the local stack (handlers in parallel, the
DynamoDB endpoint applying each request atomically, as DynamoDB does): every committed change is on
the scorecard once, and a duplicate answer refused as illegal adds nothing. (A transaction cancelled
by a conflict on a counter item, which the local endpoint never produces, is
tests/integration/test_scorecards.py's.)"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local import demo
from infra.local.demo import BUYER, OPS, ApiClient
from infra.local.stack import LocalStack

pytestmark = pytest.mark.e2e

CLAIMS = 12


def _at_once(calls: list[Any]) -> list[Any]:
    start = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_claims_of_one_merchant_are_all_counted_once(stack: LocalStack, api: ApiClient) -> None:
    merchant = f"m-{uuid.uuid4().hex[:8]}"
    staff = ("merchant", "staff-c", merchant)
    orders = [f"ord-{merchant}-{n}" for n in range(CLAIMS)]
    for order_id in orders:
        body = demo.demo_order(BUYER[1], merchant, stack.now())
        assert api.call("PUT", f"/ops/orders/{order_id}", body, who=OPS).status == 200

    def submit(order_id: str) -> Any:
        claim = {
            "order_id": order_id,
            "line_id": "L1",
            "quantity": 1,
            "type": "return_refund",
            "reason": "no_reason",
        }
        return api.call("POST", "/claims", claim, who=BUYER, headers={"idempotency-key": f"k-{order_id}"})

    submitted = _at_once([lambda o=o: submit(o) for o in orders])
    assert [r.status for r in submitted] == [201] * CLAIMS, [r.body for r in submitted if r.status != 201]
    ids = [r.body["claim_id"] for r in submitted]
    # every approval twice at once: one wins per claim, the other is refused and adds nothing
    decide = [
        lambda c=c: api.call("POST", f"/claims/{c}/decision", {"decision": "approve"}, who=staff)
        for c in ids + ids
    ]
    answers = _at_once(decide)
    assert sorted(r.status for r in answers) == [200] * CLAIMS + [409] * CLAIMS, [r.body for r in answers]

    card = api.call("GET", f"/ops/merchants/{merchant}/scorecard", who=OPS)
    assert card.status == 200, card.body
    figures = card.body["figures"]
    assert figures["claims"] == CLAIMS
    assert figures["first_response"]["count"] == CLAIMS
    assert figures["on_time"]["first_response"]["count"] == CLAIMS
    assert figures["lines_sold"] == 2 * CLAIMS
    coat = next(p for p in card.body["products"] if p["product"] == "COAT-M")
    assert coat["figures"]["claims"] == coat["figures"]["returns"] == CLAIMS
