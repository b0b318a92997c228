"""A buyer opens a claim on one of their orders."""

from __future__ import annotations

import uuid
from datetime import datetime

from aftersales import policy_layers, workflow
from aftersales.calendar_alerts import report_unofficial_calendars
from aftersales.domain import changes
from aftersales.domain.claim import Actor, Claim, evidence_prefix
from aftersales.domain.eligibility import check_eligibility
from aftersales.domain.errors import InvalidEvidence
from aftersales.domain.model import ClaimRequest, Role
from aftersales.observability import logger
from aftersales.service_errors import Conflict, NotFound, UnknownOrder
from aftersales.store import Repository, VersionConflict, default_repository
from aftersales.store.mapping import item_to_order, ref_to_existing

from .common import MAX_ATTEMPTS, count
from .risk import watch_returns


def submit(
    request: ClaimRequest,
    actor: Actor,
    now: datetime,
    *,
    repo: Repository | None = None,
    claim_id: str | None = None,
) -> Claim:
    """Open a claim for ``actor`` (a buyer) on one of their orders.

    Amounts, payers and the policy version come from the order and the policy, never from the request.
    Writes claim, first timeline entry, first deadlines, the order's claim reference and a bump of the
    order's version in one transaction; a concurrent submit on the same order makes this one re-check
    eligibility against the fresh order. Raises ``UnknownOrder`` (also for someone else's order),
    ``Ineligible`` (with the eligibility reason code) or ``Conflict``.
    """
    repo = repo or default_repository()
    if actor.role is not Role.BUYER:
        raise NotFound("only buyers open claims")
    _check_evidence_keys(request.evidence_keys, actor)
    claim_id = claim_id or new_claim_id()
    for _ in range(MAX_ATTEMPTS):
        record = repo.get_order(request.order_id)
        if record is None or record.order.buyer_id != actor.id:
            raise UnknownOrder("no such order", details={"order_id": request.order_id})
        order = item_to_order(record.order)
        line = order.line(request.line_id)
        resolved = policy_layers.current(order.merchant_id, line.category if line else None, repo=repo)
        policy = resolved.policy
        existing = [ref_to_existing(ref) for ref in record.claims]
        eligibility = check_eligibility(request, order, existing, policy, now)
        change = changes.open_claim(
            claim_id, request, order, eligibility, policy, actor, now, policy_layers=resolved.refs
        )
        try:
            repo.commit_change(change, order=record.order, now=now)
        except VersionConflict:
            continue
        count(change)
        watch_returns(change.claim, now, repo=repo)
        report_unofficial_calendars(claim_id, change.deadlines, now)
        logger.info("claim submitted", extra={"claim_id": claim_id, "status": change.claim.status.value})
        return change.claim
    raise Conflict("the order kept changing while the claim was being opened; try again")


def open_claim(request: ClaimRequest, actor: Actor, now: datetime) -> Claim:
    """``POST /claims``: submit, then start the claim's workflow run (named by the claim id)."""
    claim = submit(request, actor, now)
    try:
        workflow.start_claim_run(
            claim.claim_id, {"type": claim.claim_type.value, "status": claim.status.value}
        )
    except Exception:
        # The claim is committed; failing now would let a retry open a second one. Starting again
        # under the same name (the claim id) is harmless if the run exists.
        logger.exception("workflow run not started", extra={"claim_id": claim.claim_id})
    return claim


def new_claim_id() -> str:
    """Also the workflow execution name: ASCII, at most 80 characters."""
    return f"clm_{uuid.uuid4().hex}"


def _check_evidence_keys(keys: tuple[str, ...], actor: Actor) -> None:
    prefix = evidence_prefix(actor.id)
    if any(not key.startswith(prefix) for key in keys):
        raise InvalidEvidence("evidence keys must be uploads of this buyer", details={"prefix": prefix})
