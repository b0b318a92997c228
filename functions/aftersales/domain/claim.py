"""A claim as the rules see it: who may see it, what it holds, and its audit trail.

Plain frozen data. A change is never made in place: ``domain.changes`` returns a new ``Claim`` with the
timeline entry and deadlines that go with it, and the storage layer writes them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import ClaimType, EscalationLevel, Outcome, Payer, Reason, Role, Status
from .policy import LayerRef


@dataclass(frozen=True)
class Actor:
    """Who is acting: a buyer, a merchant's staff (with ``merchant_id``), ops staff, or the system
    (workflow steps, carrier events, sla_tick: ``Actor.system("sla_tick")``)."""

    role: Role
    id: str
    merchant_id: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(Role.SYSTEM, name)


@dataclass(frozen=True)
class Shipment:
    """A parcel of the claim: the buyer's return, or the merchant's replacement or repaired goods."""

    carrier: str
    waybill: str
    at: datetime
    fee_fen: int | None = None  # return shipping the buyer declared (refunded when the merchant is liable)


@dataclass(frozen=True)
class Claim:
    claim_id: str
    order_id: str
    line_id: str
    buyer_id: str
    merchant_id: str
    category: str | None  # of the claimed line: picks the category policy override
    claim_type: ClaimType
    reason: Reason
    quantity: int
    status: Status
    amount_fen: int  # what the claimed units cost the buyer (from the order)
    shipping_payer: Payer
    repair_payer: Payer
    policy_version: str
    created_at: datetime
    updated_at: datetime
    version: int = 1  # the stored version this value was read at (or will be written as)
    description: str = ""
    urgent: bool = False
    evidence_keys: tuple[str, ...] = ()
    outcome: Outcome | None = None
    refund_fen: int | None = None  # set by a ruling that refunds a different amount
    refund_payer: str | None = None
    quote_fen: int | None = None
    # Set when a declined quote sends the goods back unrepaired: who pays that shipping (policy value).
    ship_back_payer: Payer | None = None
    liability: str | None = None
    escalation_level: EscalationLevel = EscalationLevel.AGENT
    reopen_count: int = 0
    penalty_total_fen: int = 0
    refund_seq: int = 0  # the refund attempt whose idempotency key is in use
    refund_declined: bool = False  # that attempt was refused with nothing paid: the next needs a new key
    task_token: str | None = None
    task_stage: str | None = None
    parked_reason: str | None = None
    rma_number: str | None = None  # return authorisation, issued on approval of a return leg
    return_address: str | None = None
    return_shipment: Shipment | None = None
    outbound_shipment: Shipment | None = None
    rating: Mapping[str, Any] | None = None
    # The exact policy layer versions the claim opened under; every decision loads these. Empty on
    # claims stored before layers were recorded: ``policy_version`` names their files (the seeds).
    policy_layers: tuple[LayerRef, ...] = ()
    product: str | None = None  # the claimed line's SKU (or title): the product its scorecard counts


def in_scope(claim: Claim, actor: Actor) -> bool:
    """Buyers see their own claims, merchants their merchant's, ops and the system every claim."""
    if actor.role is Role.BUYER:
        return claim.buyer_id == actor.id
    if actor.role is Role.MERCHANT:
        return actor.merchant_id is not None and claim.merchant_id == actor.merchant_id
    return actor.role in (Role.OPS, Role.SYSTEM)


def evidence_prefix(buyer_id: str) -> str:
    """Where a buyer's uploads (photos, videos, receipts) live in the evidence bucket."""
    return f"evidence/{buyer_id}/"


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the append-only audit trail: who did what, when, under which policy version."""

    claim_id: str
    at: datetime
    actor_role: str
    actor_id: str
    action: str
    from_status: Status | None
    to_status: Status
    policy_version: str
    claim_version: int  # the version the change wrote: unique per claim, keeps same-instant entries in order
    note: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WaybillRegistration:
    """A parcel registered to a claim, so a carrier's events about it find the claim."""

    carrier: str
    waybill: str
    claim_id: str
    direction: str  # "return" (buyer → merchant) or "outbound" (merchant → buyer)
    registered_at: datetime


@dataclass(frozen=True)
class PenaltyDay:
    """One accrued overdue day, as recorded in the ledger."""

    ledger_key: str
    kind: str
    day: int
    amount_fen: int
    accrued_at: datetime
