"""How much a refund pays, and its idempotency key (POLICY §3, §5).

amount = the goods (the claimed line amount from the order, or the amount a dispute ruling fixed)
       + return shipping when the merchant is liable: the fee the buyer declared when shipping, at the
         actual charge (002 §6.1.2), capped only by a ``max_return_shipping_fen`` a merchant's policy
         sets; a ruling already settles shipping
       + the overdue penalties accrued on the claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DomainError
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
        shipping = declared_shipping_fen
        if policy.max_return_shipping_fen is not None:
            shipping = min(shipping, policy.max_return_shipping_fen)
    return RefundBreakdown(amount_fen, shipping, penalty_fen)


def check_shipping_receipt(declared_fee_fen: int, receipt_key: str | None, policy: Policy) -> None:
    """A declared return shipping fee above the policy's threshold must come with the carrier's receipt.

    Checked when the buyer ships, so the refund later never waits on a missing document.
    """
    threshold = policy.return_shipping_receipt_above_fen
    if declared_fee_fen < 0:
        raise DomainError("a shipping fee cannot be negative", code="invalid_amount")
    if threshold is not None and declared_fee_fen > threshold and not receipt_key:
        raise DomainError(
            "a return shipping fee above the policy's threshold needs the carrier's receipt",
            code="shipping_receipt_required",
            details={"threshold_fen": threshold, "declared_fen": declared_fee_fen},
        )


def idempotency_key(claim_id: str, refund_seq: int) -> str:
    """One key per refund attempt of a claim: a retried attempt can never pay twice."""
    return f"{claim_id}#{refund_seq}"


def rma_number(claim_id: str, reopen_count: int = 0) -> str:
    """The return authorisation number: derived from the claim, so re-issuing it gives the same one."""
    suffix = f"-{reopen_count}" if reopen_count else ""
    return f"RMA-{claim_id.removeprefix('clm_')[:12].upper()}{suffix}"
