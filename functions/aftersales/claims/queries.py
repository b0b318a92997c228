"""What a caller may read: one claim with its trail, lists, and overdue claims (ops)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.claim import Actor, Claim, PenaltyDay, TimelineEntry
from aftersales.domain.deadlines import Deadline
from aftersales.domain.model import Order, Role, Status
from aftersales.domain.parcels import TrackEntry
from aftersales.service_errors import BadRequest
from aftersales.store import Repository, default_repository
from aftersales.store.mapping import (
    item_to_claim,
    item_to_deadline,
    item_to_entry,
    item_to_order,
    item_to_penalty_day,
    item_to_track_entry,
)

from .common import record_in_scope


@dataclass(frozen=True)
class ClaimDetail:
    """A claim with its timeline (oldest first), deadlines, penalty days and the order's facts."""

    claim: Claim
    timeline: tuple[TimelineEntry, ...]
    deadlines: tuple[Deadline, ...]
    penalties: tuple[PenaltyDay, ...]
    order: Order | None
    parcels: tuple[TrackEntry, ...] = ()  # carrier events on the claim's parcels, oldest first


@dataclass(frozen=True)
class ClaimPage:
    claims: tuple[Claim, ...]
    cursor: str | None


def read(claim_id: str, actor: Actor, *, repo: Repository | None = None) -> Claim:
    """The claim, if ``actor`` may see it (``NotFound`` otherwise)."""
    return record_in_scope(repo or default_repository(), claim_id, actor)[1]


def detail(claim_id: str, actor: Actor, *, repo: Repository | None = None) -> ClaimDetail:
    """The claim with everything its page shows, if ``actor`` may see it."""
    repo = repo or default_repository()
    record, claim = record_in_scope(repo, claim_id, actor)
    order = repo.get_order(claim.order_id)
    return ClaimDetail(
        claim=claim,
        timeline=tuple(item_to_entry(item) for item in record.timeline),
        deadlines=tuple(item_to_deadline(item) for item in record.deadlines),
        penalties=tuple(item_to_penalty_day(item) for item in record.penalties),
        order=item_to_order(order.order) if order else None,
        parcels=tuple(item_to_track_entry(item) for item in record.parcels),
    )


def list_for(
    actor: Actor,
    *,
    status: Status | None = None,
    cursor: str | None = None,
    limit: int = 20,
    merchant_id: str | None = None,
    repo: Repository | None = None,
) -> ClaimPage:
    """A buyer's own claims, a merchant's claims, or (ops) one merchant's claims."""
    repo = repo or default_repository()
    state = status.value if status else None
    if actor.role is Role.BUYER:
        page = repo.list_buyer_claims(actor.id, status=state, cursor=cursor, limit=limit)
    else:
        owner = actor.merchant_id if actor.role is Role.MERCHANT else merchant_id
        if not owner:
            raise BadRequest("give merchant_id, or overdue=true", code="filter_required")
        page = repo.list_merchant_claims(owner, status=state, cursor=cursor, limit=limit)
    return ClaimPage(tuple(item_to_claim(item) for item in page.claims), page.cursor)


def overdue(
    now: datetime,
    *,
    status: Status | None = None,
    merchant_id: str | None = None,
    limit: int = 50,
    repo: Repository | None = None,
) -> ClaimPage:
    """Claims with at least one deadline past due (ops), earliest due first, optionally only those of
    one status or one merchant; one page, no cursor."""
    repo = repo or default_repository()
    due = repo.overdue_deadlines(now, limit=limit)
    found = (item_to_claim(item) for item in repo.get_claims(item.claim_id for item in due))
    return ClaimPage(
        tuple(
            claim
            for claim in found
            if (status is None or claim.status is status)
            and (not merchant_id or claim.merchant_id == merchant_id)
        ),
        None,
    )
