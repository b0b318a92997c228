"""What each role sees of a claim. Money as yuan strings, times as ISO 8601 with ``Z``.

Personal data: the buyer's phone and address are shown in full to the buyer; to the merchant only
while it must ship goods to the buyer (replacement, repaired goods); masked for everyone else, ops
included. Free text written by the buyer is shown to others with phone numbers masked. The workflow
task token is never shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales.claims import Actor
from aftersales.clock import iso
from aftersales.domain.calendar import CalendarLayer
from aftersales.domain.model import ClaimType, Outcome, Role, Status
from aftersales.domain.money import format_fen
from aftersales.domain.next_action import next_action
from aftersales.pii import mask_address, mask_phone, mask_text
from aftersales.store import ClaimRecord, Page
from aftersales.store.mapping import item_to_deadline
from aftersales.store.models import ClaimItem, DeadlineItem, OrderItem, TimelineItem

# Stages in which the merchant ships goods to the buyer and so needs the buyer's contact details.
MERCHANT_SHIPS_TO_BUYER = frozenset(
    {Status.AWAITING_REPLACEMENT_SHIPMENT, Status.REPAIRING, Status.OUTBOUND_IN_TRANSIT}
)


def _money(fen: int | float | None) -> str | None:
    return None if fen is None else format_fen(int(fen))


def _text(text: str | None, viewer: Actor, claim: ClaimItem) -> str | None:
    if text is None:
        return None
    return text if viewer.role is Role.BUYER and viewer.id == claim.buyer_id else mask_text(text)


def claim_view(claim: ClaimItem, viewer: Actor) -> dict[str, Any]:
    def shipment(value: Any) -> dict[str, Any] | None:
        return None if value is None else {"carrier": value.carrier, "waybill": value.waybill, "at": value.at}

    return {
        "claim_id": claim.claim_id,
        "order_id": claim.order_id,
        "line_id": claim.line_id,
        "buyer_id": claim.buyer_id,
        "merchant_id": claim.merchant_id,
        "type": claim.claim_type,
        "reason": claim.reason,
        "quantity": int(claim.quantity),
        "description": _text(claim.description, viewer, claim),
        "evidence_keys": list(claim.evidence_keys or []),
        "urgent": bool(claim.urgent),
        "status": claim.status,
        "outcome": claim.outcome,
        "amount": _money(claim.amount_fen),
        "refund_amount": _money(claim.refund_fen),
        "refund_payer": claim.refund_payer,
        "shipping_payer": claim.shipping_payer,
        "repair_payer": claim.repair_payer,
        "quote": _money(claim.quote_fen),
        "liability": claim.liability,
        "escalation_level": claim.escalation_level,
        "reopen_count": int(claim.reopen_count or 0),
        "penalty_total": _money(claim.penalty_total_fen or 0),
        "return_authorisation": _return_authorisation(claim),
        "return_shipment": shipment(claim.return_shipment),
        "outbound_shipment": shipment(claim.outbound_shipment),
        "rating": dict(claim.rating.as_dict()) if claim.rating is not None else None,  # type: ignore[no-untyped-call]
        "policy_version": claim.policy_version,
        "version": int(claim.version or 0),
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
    }


def _return_authorisation(claim: ClaimItem) -> dict[str, Any] | None:
    """What the buyer needs to send the goods back: the RMA number, where to, and who pays shipping.
    The merchant's warehouse address is business data the buyer and merchant both need, shown as is."""
    if not claim.rma_number:
        return None
    return {
        "rma_number": claim.rma_number,
        "address": claim.return_address,
        "shipping_payer": claim.shipping_payer,
    }


def _timeline_view(entry: TimelineItem, viewer: Actor, claim: ClaimItem) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor": {"role": entry.actor_role, "id": entry.actor_id},
        "action": entry.action,
        "from": entry.from_status,
        "to": entry.to_status,
        "policy_version": entry.policy_version,
        "note": _text(entry.note, viewer, claim),
        "details": entry.details.as_dict() if entry.details is not None else {},  # type: ignore[no-untyped-call]
    }


def _deadline_view(item: DeadlineItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "owner": item.owner,
        "started_at": item.started_at,
        "due_at": item.deadline_at,
        "on_expiry": item.on_expiry,
        "penalty": bool(item.penalty),
        "rule": item.source,
        "policy_version": item.policy_version,
        "extension_reason": item.extension_reason,
        "met_at": item.met_at,
        "open": item.met_at is None,
        "calendar": calendar_view(item_to_deadline(item).calendar_layer),
    }


def calendar_view(layer: CalendarLayer | None) -> dict[str, Any] | None:
    """Which calendar a working-day deadline was counted on; None for clock time (or not recorded)."""
    if layer is None:
        return None
    return {"layer": layer.value, "official": layer.official, "description": layer.description}


def contact_view(order: OrderItem | None, claim: ClaimItem, viewer: Actor) -> dict[str, str]:
    phone, address = (order.buyer_phone or "", order.shipping_address or "") if order else ("", "")
    full = (viewer.role is Role.BUYER and viewer.id == claim.buyer_id) or (
        viewer.role is Role.MERCHANT and Status(claim.status) in MERCHANT_SHIPS_TO_BUYER
    )
    if full:
        return {"phone": phone, "address": address}
    return {"phone": mask_phone(phone), "address": mask_address(address)}


def detail_view(record: ClaimRecord, order: OrderItem | None, viewer: Actor, now: datetime) -> dict[str, Any]:
    claim = record.claim
    deadlines = [item_to_deadline(item) for item in record.deadlines]
    upcoming = next_action(
        Status(claim.status),
        ClaimType(claim.claim_type),
        [d for d in deadlines if d.is_open],
        outcome=Outcome(claim.outcome) if claim.outcome else None,
        now=now,
    )
    return {
        "claim": claim_view(claim, viewer),
        "contact": contact_view(order, claim, viewer),
        "timeline": [_timeline_view(entry, viewer, claim) for entry in record.timeline],
        "deadlines": [_deadline_view(item) for item in record.deadlines],
        "penalties": {
            "total": _money(sum(int(day.amount_fen) for day in record.penalties)),
            "days": [
                {
                    "deadline": day.kind,
                    "day": int(day.day),
                    "amount": _money(day.amount_fen),
                    "at": day.accrued_at,
                }
                for day in record.penalties
            ],
        },
        "next_action": {
            "summary": upcoming.summary,
            "owner": upcoming.owner.value if upcoming.owner else None,
            "due_at": iso(upcoming.due_at) if upcoming.due_at else None,
            "rule": upcoming.rule,
            "on_expiry": upcoming.on_expiry.value if upcoming.on_expiry else None,
            "deadline": upcoming.deadline.value if upcoming.deadline else None,
            "penalty": upcoming.penalty,
            "your_actions": [a.value for a in upcoming.actions.get(viewer.role, [])],
        },
    }


def page_view(page: Page, viewer: Actor) -> dict[str, Any]:
    return {"claims": [claim_view(claim, viewer) for claim in page.claims], "next_cursor": page.cursor}
