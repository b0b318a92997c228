"""Trusted order facts: imported by ops (``PUT /ops/orders/{id}``) or from the order system's
``order.delivered`` event. Never taken from a buyer's request."""

from __future__ import annotations

from datetime import datetime

from aftersales.api.schemas import OrderIn
from aftersales.domain.model import Order, OrderLine
from aftersales.domain.money import parse_yuan
from aftersales.domain.timestamps import require_plausible
from aftersales.service_errors import BadRequest
from aftersales.store import Repository, default_repository
from aftersales.store.models import OrderItem


def order_from_input(order_id: str, data: OrderIn) -> Order:
    line_ids = [line.line_id for line in data.lines]
    if len(set(line_ids)) != len(line_ids):
        raise BadRequest("order line ids must be unique", code="duplicate_line_id")
    if data.delivered_at is not None and data.delivered_at < data.paid_at:
        raise BadRequest("an order cannot be delivered before it is paid", code="delivered_before_paid")
    return Order(
        order_id=order_id,
        buyer_id=data.buyer_id,
        merchant_id=data.merchant_id,
        paid_at=data.paid_at,
        delivered_at=data.delivered_at,
        lines=tuple(
            OrderLine(
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                category=line.category,
                quantity=line.quantity,
                paid_fen=parse_yuan(line.paid_amount),
                part_kind=line.part_kind,
            )
            for line in data.lines
        ),
        buyer_phone=data.buyer_phone,
        shipping_address=data.shipping_address,
    )


def import_order(
    order_id: str, data: OrderIn, *, source: str, now: datetime, repo: Repository | None = None
) -> OrderItem:
    """Create or replace the order (claims already made on it keep their references)."""
    require_plausible("paid_at", data.paid_at, now)
    if data.delivered_at is not None:
        require_plausible("delivered_at", data.delivered_at, now)
    repo = repo or default_repository()
    return repo.put_order(order_from_input(order_id, data), source=source, now=now)
