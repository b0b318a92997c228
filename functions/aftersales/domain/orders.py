"""What makes an order's facts acceptable before any claim is judged against them."""

from __future__ import annotations

from datetime import datetime

from .errors import InvalidOrder
from .model import Order
from .timestamps import require_plausible


def check_order(order: Order, now: datetime) -> Order:
    """``order`` if its facts hold together: unique line ids, plausible times (docs/policy.md §9),
    never delivered before it was paid."""
    line_ids = [line.line_id for line in order.lines]
    if len(set(line_ids)) != len(line_ids):
        raise InvalidOrder("order line ids must be unique", code="duplicate_line_id")
    require_plausible("paid_at", order.paid_at, now)
    if order.delivered_at is not None:
        require_plausible("delivered_at", order.delivered_at, now)
        if order.delivered_at < order.paid_at:
            raise InvalidOrder("an order cannot be delivered before it is paid", code="delivered_before_paid")
    return order
