"""How much a refund pays, and its idempotency key (POLICY §3, §5).

amount = the goods (the claimed line amount from the order, or the amount a dispute ruling fixed)
       + return shipping when the merchant is liable (the fee the buyer declared when shipping,
         capped by ``policy.max_return_shipping_fen``; a ruling already settles shipping)
       + the overdue penalties accrued on the claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Payer
from .policy import Policy


@dataclass(frozen=True)
class RefundBreakdown:
    goods_fen: int
    shipping_fen: int
    penalty_fen: int

    @property
    def total_fen(self) -> int:
        return self.goods_fen + self.shipping_fen + self.penalty_fen


def refund_breakdown(
    *,
    amount_fen: int,
    ruling_refund_fen: int | None,
    shipping_payer: Payer,
    declared_shipping_fen: int | None,
    penalty_fen: int,
    policy: Policy,
) -> RefundBreakdown:
    if ruling_refund_fen is not None:
        return RefundBreakdown(ruling_refund_fen, 0, penalty_fen)
    shipping = 0
    if shipping_payer is Payer.MERCHANT and declared_shipping_fen:
        shipping = min(declared_shipping_fen, policy.max_return_shipping_fen)
    return RefundBreakdown(amount_fen, shipping, penalty_fen)


def idempotency_key(claim_id: str, refund_seq: int) -> str:
    """One key per refund attempt of a claim: a retried attempt can never pay twice."""
    return f"{claim_id}#{refund_seq}"


def rma_number(claim_id: str, reopen_count: int = 0) -> str:
    """The return authorisation number: derived from the claim, so re-issuing it gives the same one."""
    suffix = f"-{reopen_count}" if reopen_count else ""
    return f"RMA-{claim_id.removeprefix('clm_')[:12].upper()}{suffix}"
