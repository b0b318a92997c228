"""What each role sees of a claim. Money as yuan strings, times as ISO 8601 with ``Z``.

Personal data: the buyer's phone and address are shown in full to the buyer; to the merchant only
while it must ship goods to the buyer (replacement, repaired goods); masked for everyone else, ops
included. Free text (descriptions, reasons, notes, comments) is shown as written to its author and through
``pii.mask_text`` to everyone else. The workflow task token is never shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aftersales.claims import ClaimDetail
from aftersales.claims.queries import ClaimPage
from aftersales.clock import iso
from aftersales.domain.calendar import CalendarLayer
from aftersales.domain.claim import Actor, Claim, Shipment, TimelineEntry
from aftersales.domain.deadlines import Deadline
from aftersales.domain.model import Order, Role, Status
from aftersales.domain.money import format_fen
from aftersales.domain.next_action import next_action
from aftersales.domain.parcels import TrackEntry
from aftersales.domain.policy import LayerKind, LayerRef, LayerVersion
from aftersales.pii import mask_address, mask_phone, mask_strings, mask_text
from aftersales.policies import legacy_layers
from aftersales.policy_layers import Resolved
from aftersales.store import PolicyPage

# Stages in which the merchant ships goods to the buyer and so needs the buyer's contact details.
MERCHANT_SHIPS_TO_BUYER = frozenset(
    {
        Status.AWAITING_REPLACEMENT_SHIPMENT,
        Status.AWAITING_RETURN_TO_BUYER,
        Status.REPAIRING,
        Status.OUTBOUND_IN_TRANSIT,
    }
)


def _money(fen: int | None) -> str | None:
    return None if fen is None else format_fen(fen)


def _opt_iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


def _text(text: Any, viewer: Actor, claim: Claim) -> Any:
    """Text the buyer wrote on the claim (a string, or a structure of them such as the rating)."""
    return _authored(text, viewer, Role.BUYER.value, claim.buyer_id)


def _authored(value: Any, viewer: Actor, author_role: str | None, author_id: str | None) -> Any:
    """Free text as written for its author, masked (``pii.mask_text``) for everyone else."""
    if value is None or (viewer.role.value == author_role and viewer.id == author_id):
        return value
    return mask_strings(value)


def _shipment(value: Shipment | None) -> dict[str, Any] | None:
    return (
        None if value is None else {"carrier": value.carrier, "waybill": value.waybill, "at": iso(value.at)}
    )


def claim_view(claim: Claim, viewer: Actor) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "order_id": claim.order_id,
        "line_id": claim.line_id,
        "buyer_id": claim.buyer_id,
        "merchant_id": claim.merchant_id,
        "type": claim.claim_type.value,
        "reason": claim.reason.value,
        "quantity": claim.quantity,
        "description": _text(claim.description, viewer, claim),
        "evidence_keys": list(claim.evidence_keys),
        "urgent": claim.urgent,
        "status": claim.status.value,
        "outcome": claim.outcome.value if claim.outcome else None,
        "amount": _money(claim.amount_fen),
        "refund_amount": _money(claim.refund_fen),
        "refund_payer": claim.refund_payer,
        "shipping_payer": claim.shipping_payer.value,
        "repair_payer": claim.repair_payer.value,
        "quote": _money(claim.quote_fen),
        "ship_back_payer": claim.ship_back_payer.value if claim.ship_back_payer else None,
        "liability": claim.liability,
        "escalation_level": claim.escalation_level.value,
        "reopen_count": claim.reopen_count,
        "penalty_total": _money(claim.penalty_total_fen),
        "return_authorisation": _return_authorisation(claim),
        "return_shipment": _shipment(claim.return_shipment),
        "outbound_shipment": _shipment(claim.outbound_shipment),
        "rating": _text(dict(claim.rating), viewer, claim) if claim.rating is not None else None,
        "policy_version": claim.policy_version,
        "policy_layers": layer_refs_view(
            claim.policy_layers or legacy_layers(claim.policy_version, claim.merchant_id, claim.category),
            viewer,
        ),
        "version": claim.version,
        "created_at": iso(claim.created_at),
        "updated_at": iso(claim.updated_at),
    }


def _return_authorisation(claim: Claim) -> dict[str, Any] | None:
    """What the buyer needs to send the goods back: the RMA number, where to, and who pays shipping.
    The merchant's warehouse address is business data the buyer and merchant both need, shown as is."""
    if not claim.rma_number:
        return None
    return {
        "rma_number": claim.rma_number,
        "address": claim.return_address,
        "shipping_payer": claim.shipping_payer.value,
    }


def _timeline_view(entry: TimelineEntry, viewer: Actor, claim: Claim) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "actor": {"role": entry.actor_role, "id": entry.actor_id},
        "action": entry.action,
        "from": entry.from_status.value if entry.from_status else None,
        "to": entry.to_status.value,
        "policy_version": entry.policy_version,
        "note": _authored(entry.note, viewer, entry.actor_role, entry.actor_id),
        "details": _authored(dict(entry.details), viewer, entry.actor_role, entry.actor_id),
    }


def _deadline_view(deadline: Deadline) -> dict[str, Any]:
    return {
        "kind": deadline.kind.value,
        "owner": deadline.owner.value,
        "started_at": iso(deadline.started_at),
        "due_at": iso(deadline.due_at),
        "on_expiry": deadline.on_expiry.value,
        "penalty": deadline.penalty,
        "rule": deadline.source,
        "policy_version": deadline.policy_version,
        "extension_reason": mask_text(deadline.extension_reason) if deadline.extension_reason else None,
        "met_at": _opt_iso(deadline.met_at),
        "open": deadline.met_at is None,
        "calendar": calendar_view(deadline.calendar_layer),
    }


def calendar_view(layer: CalendarLayer | None) -> dict[str, Any] | None:
    """Which calendar a working-day deadline was counted on; None for clock time (or not recorded)."""
    if layer is None:
        return None
    return {"layer": layer.value, "official": layer.official, "description": layer.description}


def contact_view(order: Order | None, claim: Claim, viewer: Actor) -> dict[str, str]:
    phone, address = (order.buyer_phone, order.shipping_address) if order else ("", "")
    full = (viewer.role is Role.BUYER and viewer.id == claim.buyer_id) or (
        viewer.role is Role.MERCHANT and claim.status in MERCHANT_SHIPS_TO_BUYER
    )
    if full:
        return {"phone": phone, "address": address}
    return {"phone": mask_phone(phone), "address": mask_address(address)}


def detail_view(detail: ClaimDetail, viewer: Actor, now: datetime) -> dict[str, Any]:
    claim = detail.claim
    upcoming = next_action(
        claim.status,
        claim.claim_type,
        [d for d in detail.deadlines if d.is_open],
        outcome=claim.outcome,
        now=now,
    )
    return {
        "claim": claim_view(claim, viewer),
        "contact": contact_view(detail.order, claim, viewer),
        "timeline": [_timeline_view(entry, viewer, claim) for entry in detail.timeline],
        "deadlines": [_deadline_view(deadline) for deadline in detail.deadlines],
        "penalties": {
            "total": _money(sum(day.amount_fen for day in detail.penalties)),
            "days": [
                {
                    "deadline": day.kind,
                    "day": day.day,
                    "amount": _money(day.amount_fen),
                    "at": iso(day.accrued_at),
                }
                for day in detail.penalties
            ],
        },
        "parcels": [parcel_view(entry) for entry in detail.parcels],
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


def parcel_view(entry: TrackEntry) -> dict[str, Any]:
    """One carrier event on the claim's parcel track. ``advanced`` False: it arrived after a later
    status and was recorded only."""
    return {
        "leg": entry.leg.value,
        "carrier": entry.carrier,
        "waybill": entry.waybill,
        "status": entry.status.value,
        "at": iso(entry.occurred_at),
        "received_at": iso(entry.received_at),
        "location": entry.location,
        "description": mask_text(entry.description),
        "advanced": entry.advanced,
        "actions": list(entry.actions),
    }


def page_view(page: ClaimPage, viewer: Actor) -> dict[str, Any]:
    return {"claims": [claim_view(claim, viewer) for claim in page.claims], "next_cursor": page.cursor}


# --------------------------------------------------------------------------- policy layers


def policy_href(ref: LayerRef, viewer: Actor) -> str | None:
    """Where ``viewer`` reads that layer version: ops every layer, a merchant its own layer."""
    layer, number = ref.layer, ref.version
    if viewer.role is Role.OPS:
        paths = {
            LayerKind.PLATFORM: "/ops/policy/platform",
            LayerKind.CATEGORY: f"/ops/policy/categories/{layer.owner}",
            LayerKind.MERCHANT: f"/ops/policy/merchants/{layer.owner}",
        }
        return f"{paths[layer.kind]}/versions/{number}"
    if (
        viewer.role is Role.MERCHANT
        and layer.kind is LayerKind.MERCHANT
        and layer.owner == viewer.merchant_id
    ):
        return f"/merchant/policy/versions/{number}"
    return None


def layer_ref_view(ref: LayerRef, viewer: Actor) -> dict[str, Any]:
    return {
        "layer": ref.layer.kind.value,
        "owner": ref.layer.owner or None,
        "version": ref.version,
        "href": policy_href(ref, viewer),
    }


def layer_refs_view(refs: Sequence[LayerRef], viewer: Actor) -> list[dict[str, Any]]:
    return [layer_ref_view(ref, viewer) for ref in refs]


def layer_version_view(saved: LayerVersion, viewer: Actor) -> dict[str, Any]:
    """One saved layer version: what it sets, who saved it, when and why (the note as its author
    wrote it, masked for everyone else)."""
    return {
        **layer_ref_view(saved.ref, viewer),
        "label": saved.ref.label,
        "sets": dict(saved.content),
        "saved_by": saved.saved_by,
        "saved_at": iso(saved.saved_at),
        "note": saved.note if viewer.id == saved.saved_by else mask_text(saved.note),
    }


def policy_page_view(page: PolicyPage, viewer: Actor) -> dict[str, Any]:
    return {"versions": [layer_version_view(v, viewer) for v in page.versions], "next_cursor": page.cursor}


def effective_policy_view(resolved: Resolved, viewer: Actor) -> dict[str, Any]:
    """The policy in force and, for each value, the layer version that set it."""
    return {
        "version": resolved.policy.version,
        "policy": resolved.policy.model_dump(mode="json", exclude={"version"}),
        "layers": [
            {**layer_ref_view(v.ref, viewer), "saved_by": v.saved_by, "saved_at": iso(v.saved_at)}
            for v in resolved.versions
        ],
        "set_by": {path: layer_ref_view(ref, viewer) for path, ref in resolved.set_by().items()},
    }
