"""Trusted order facts: imported by ops (``PUT /ops/orders/{id}``) or from the order system's
``order.delivered`` event. Never taken from a buyer's request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.model import Order
from aftersales.domain.orders import check_order
from aftersales.store import Repository, default_repository


@dataclass(frozen=True)
class ImportedOrder:
    order_id: str
    version: int


def import_order(
    order: Order, *, source: str, now: datetime, repo: Repository | None = None
) -> ImportedOrder:
    """Create or replace the order (claims already made on it keep their references)."""
    repo = repo or default_repository()
    item = repo.put_order(check_order(order, now), source=source, now=now)
    return ImportedOrder(item.order_id, int(item.version or 0))
