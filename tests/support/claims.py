"""A domain claim to start rule tests from: a return of one wool coat (L1) of order ord-1, 129.90 yuan,
awaiting the merchant's review; a test replaces the fields it is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aftersales.domain.claim import Claim
from aftersales.domain.model import ClaimType, Payer, Reason, Status
from aftersales.policies import default_policy


def a_claim(at: datetime, **fields: Any) -> Claim:
    """The claim, opened and last changed ``at``, with ``fields`` replaced."""
    base = Claim(
        claim_id="clm_1",
        order_id="ord-1",
        line_id="L1",
        buyer_id="buyer-1",
        merchant_id="m-1",
        category="apparel",
        claim_type=ClaimType.RETURN_REFUND,
        reason=Reason.QUALITY_DEFECT,
        quantity=1,
        status=Status.PENDING_REVIEW,
        amount_fen=12_990,
        shipping_payer=Payer.MERCHANT,
        repair_payer=Payer.NONE,
        policy_version=default_policy().version,
        created_at=at,
        updated_at=at,
        version=1,
    )
    return replace(base, **fields)
