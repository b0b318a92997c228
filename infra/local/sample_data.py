"""Sample claims data shared by the tests and the benchmarks: one order, and bare claim items for
filling a table fast (batch writes, no transaction per claim)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SAMPLE_AMOUNT_FEN = 12_990  # one of two wool coats paid 259.80 together


def put_coat_and_kettle_order(order_id: str, *, delivered: bool, source: str, now: datetime) -> None:
    """A buyer's order of two coats and a kettle, signed for on 2026-11-18 unless not ``delivered``."""
    from aftersales.domain.model import Order, OrderLine
    from aftersales.store import default_repository

    default_repository().put_order(
        Order(
            order_id=order_id,
            buyer_id="buyer-1",
            merchant_id="m-1",
            paid_at=datetime(2026, 11, 15, 2, 0, tzinfo=UTC),
            delivered_at=datetime(2026, 11, 18, 2, 0, tzinfo=UTC) if delivered else None,
            lines=(
                OrderLine("L1", "SKU-1", "Wool coat", "apparel", 2, 25980),
                OrderLine("L2", "SKU-2", "Kettle", "appliance", 1, 12990),
            ),
            buyer_phone="13812345678",
            shipping_address="浙江省杭州市西湖区文三路 100 号",
        ),
        source=source,
        now=now,
    )


def bulk_claim_item(claim_id: str, at: datetime, status: str) -> Any:
    """A return claim item as a batch write would store it: no timeline, no order reference."""
    from aftersales.clock import iso
    from aftersales.policies import default_policy
    from aftersales.store.models import ClaimItem, claim_pk

    return ClaimItem(
        claim_pk(claim_id),
        "CLAIM",
        claim_id=claim_id,
        order_id=f"ord-{claim_id}",
        line_id="L1",
        buyer_id="buyer-1",
        merchant_id="m-1",
        claim_type="return_refund",
        reason="quality_defect",
        quantity=1,
        status=status,
        amount_fen=SAMPLE_AMOUNT_FEN,
        shipping_payer="merchant",
        policy_version=default_policy().version,
        created_at=iso(at),
        updated_at=iso(at),
        version=1,
    )
