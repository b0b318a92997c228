"""Conversions between stored items and the domain's plain data."""

from __future__ import annotations

import zlib
from datetime import datetime

from aftersales.clock import iso, parse_instant
from aftersales.domain.calendar import CalendarLayer
from aftersales.domain.deadlines import Deadline
from aftersales.domain.model import ExistingClaim, Order, OrderLine, Outcome, PartKind, Role, Status
from aftersales.domain.policy import DeadlineKind, OnExpiry

from .models import ClaimRefItem, DeadlineItem, OrderItem, OrderLineMap, claim_pk, order_pk


def due_shard(claim_id: str, shards: int) -> str:
    """The due-index partition of a claim's deadlines: a stable hash, so writes spread over ``shards``."""
    return f"due#{zlib.crc32(claim_id.encode()) % shards}"


def _opt_time(value: str | None) -> datetime | None:
    return parse_instant(value) if value else None


def _opt_iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


def order_to_item(order: Order, *, source: str, now: datetime) -> OrderItem:
    return OrderItem(
        order_pk(order.order_id),
        "ORDER",
        order_id=order.order_id,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        paid_at=iso(order.paid_at),
        delivered_at=_opt_iso(order.delivered_at),
        lines=[
            OrderLineMap(  # type: ignore[no-untyped-call]
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                category=line.category,
                quantity=line.quantity,
                paid_fen=line.paid_fen,
                part_kind=line.part_kind.value,
            )
            for line in order.lines
        ],
        buyer_phone=order.buyer_phone or None,
        shipping_address=order.shipping_address or None,
        source=source,
        imported_at=iso(now),
    )


def item_to_order(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id,
        buyer_id=item.buyer_id,
        merchant_id=item.merchant_id,
        paid_at=parse_instant(item.paid_at),
        delivered_at=_opt_time(item.delivered_at),
        lines=tuple(
            OrderLine(
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                category=line.category,
                quantity=int(line.quantity),
                paid_fen=int(line.paid_fen),
                part_kind=PartKind(line.part_kind),
            )
            for line in item.lines
        ),
        buyer_phone=item.buyer_phone or "",
        shipping_address=item.shipping_address or "",
    )


def ref_to_existing(item: ClaimRefItem) -> ExistingClaim:
    return ExistingClaim(
        claim_id=item.claim_id,
        line_id=item.line_id,
        quantity=int(item.quantity),
        status=Status(item.status),
        outcome=Outcome(item.outcome) if item.outcome else None,
    )


def deadline_to_item(claim_id: str, deadline: Deadline, *, shards: int) -> DeadlineItem:
    """An open deadline carries the due-index keys; a met one does not, so it leaves the index."""
    item = DeadlineItem(
        claim_pk(claim_id),
        f"DL#{deadline.kind.value}",
        claim_id=claim_id,
        kind=deadline.kind.value,
        owner=deadline.owner.value,
        started_at=iso(deadline.started_at),
        deadline_at=iso(deadline.due_at),
        on_expiry=deadline.on_expiry.value,
        penalty=deadline.penalty,
        source=deadline.source,
        policy_version=deadline.policy_version,
        calendar_fallback=deadline.calendar_fallback,
        calendar_layer=deadline.calendar_layer.value if deadline.calendar_layer else None,
        extension_reason=deadline.extension_reason,
        paused_since=_opt_iso(deadline.paused_since),
        paused_seconds=deadline.paused_seconds,
        met_at=_opt_iso(deadline.met_at),
        buyer_caused_delay=deadline.buyer_caused_delay,
        instance=deadline.instance,
        escalated_at=_opt_iso(deadline.escalated_at),
    )
    # A paused deadline cannot expire, so it stays out of the due index until it resumes.
    if deadline.is_open and deadline.paused_since is None:
        item.due_pk = due_shard(claim_id, shards)
        item.due_at = iso(deadline.due_at)
    return item


def _calendar_layer(item: DeadlineItem) -> CalendarLayer | None:
    """Items written before layers were recorded only say whether Monday-Friday stood in."""
    if item.calendar_layer:
        return CalendarLayer(item.calendar_layer)
    return CalendarLayer.WEEKDAYS if item.calendar_fallback else None


def item_to_deadline(item: DeadlineItem) -> Deadline:
    return Deadline(
        kind=DeadlineKind(item.kind),
        owner=Role(item.owner),
        started_at=parse_instant(item.started_at),
        due_at=parse_instant(item.deadline_at),
        on_expiry=OnExpiry(item.on_expiry),
        penalty=bool(item.penalty),
        source=item.source,
        policy_version=item.policy_version,
        calendar_layer=_calendar_layer(item),
        extension_reason=item.extension_reason,
        paused_since=_opt_time(item.paused_since),
        paused_seconds=int(item.paused_seconds or 0),
        met_at=_opt_time(item.met_at),
        buyer_caused_delay=bool(item.buyer_caused_delay),
        instance=int(item.instance or 1),
        escalated_at=_opt_time(item.escalated_at),
    )
