"""The application service: submit a claim, act on it, read it. The API, the workflow Lambdas, carrier
events and sla_tick all change claims through here, so every change is checked by the domain's
transition table and written with its timeline entry and deadlines in one conditional transaction.

Callers pass ``now`` (from ``aftersales.clock.now()`` at the edge) and an ``Actor``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aftersales import business_metrics, policies, workflow
from aftersales.clock import iso
from aftersales.domain import deadlines as dl
from aftersales.domain.eligibility import check_eligibility
from aftersales.domain.errors import DomainError
from aftersales.domain.model import Action, ClaimRequest, ClaimType, EscalationLevel, Outcome, Role, Status
from aftersales.domain.money import parse_yuan
from aftersales.domain.policy import DeadlineKind, Policy
from aftersales.domain.refunds import rma_number
from aftersales.domain.transitions import Transition, initial_status, transition
from aftersales.observability import logger
from aftersales.service_errors import BadRequest, Conflict, NotFound, UnknownOrder
from aftersales.store import ClaimRecord, ClaimWrite, Page, Repository, VersionConflict, default_repository
from aftersales.store.mapping import deadline_to_item, item_to_deadline, item_to_order, ref_to_existing
from aftersales.store.models import (
    ClaimItem,
    ClaimRefItem,
    DeadlineItem,
    ShipmentMap,
    TimelineItem,
    WaybillItem,
    claim_pk,
)

MAX_ATTEMPTS = 4  # a lost race is re-read and re-decided this many times before answering 409
SUBMIT_ACTION = "submit"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a buyer, a merchant's staff (with ``merchant_id``), ops staff, or the system
    (workflow, carrier events, sla_tick: ``Actor.system("sla_tick")``)."""

    role: Role
    id: str
    merchant_id: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(Role.SYSTEM, name)


class ClaimChanged(Conflict):
    """The claim is no longer at the version the caller decided on (``act(expected_version=...)``)."""

    code = "claim_changed"


@dataclass(frozen=True)
class ActResult:
    """The claim after the change, the transition taken, and the workflow task token this change
    cleared. ``act`` has already completed that task (the only place that does): callers must not."""

    claim: ClaimItem
    transition: Transition
    cleared_task_token: str | None


def in_scope(claim: ClaimItem, actor: Actor) -> bool:
    """Buyers see their own claims, merchants their merchant's, ops and the system every claim."""
    if actor.role is Role.BUYER:
        return claim.buyer_id == actor.id
    if actor.role is Role.MERCHANT:
        return actor.merchant_id is not None and claim.merchant_id == actor.merchant_id
    return actor.role in (Role.OPS, Role.SYSTEM)


def policy_for(claim: ClaimItem) -> Policy:
    """The policy that governs a claim: the platform defaults with its category's and its merchant's
    overrides, as recorded in the claim's ``policy_version`` when it was opened."""
    return policies.policy_for(claim.merchant_id, claim.category)


# --------------------------------------------------------------------------- submit


def submit(
    request: ClaimRequest,
    actor: Actor,
    now: datetime,
    *,
    repo: Repository | None = None,
    claim_id: str | None = None,
) -> ClaimItem:
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
        category = line.category if line else None
        policy = policies.policy_for(order.merchant_id, category)
        eligibility = check_eligibility(
            request, order, [ref_to_existing(ref) for ref in record.claims], policy, now
        )
        status = initial_status(request.type)
        claim = ClaimItem(
            claim_pk(claim_id),
            "CLAIM",
            claim_id=claim_id,
            order_id=order.order_id,
            line_id=request.line_id,
            buyer_id=order.buyer_id,
            merchant_id=order.merchant_id,
            category=category,
            claim_type=request.type.value,
            reason=request.reason.value,
            quantity=eligibility.quantity,
            description=request.description,
            urgent=request.urgent,
            evidence_keys=list(request.evidence_keys),
            status=status.value,
            amount_fen=eligibility.amount_fen,
            shipping_payer=eligibility.shipping_payer.value,
            repair_payer=eligibility.repair_payer.value,
            policy_version=eligibility.policy_version,
            created_at=iso(now),
            updated_at=iso(now),
            gsi_buyer_pk=f"BUYER#{order.buyer_id}",
            gsi_merchant_pk=f"MERCHANT#{order.merchant_id}",
        )
        claim.gsi_merchant_sk = f"{status.value}#{claim.created_at}"
        opened = [
            dl.open_deadline(kind, policy, now, urgent=request.urgent)
            for kind in dl.deadlines_for(status, request.type)
        ]
        order_item = record.order
        order_item.imported_at = order_item.imported_at or iso(now)
        write = ClaimWrite(
            claim=claim,
            timeline=_timeline(
                claim, actor, SUBMIT_ACTION, None, status, now, version=1, note=None, details={}
            ),
            deadlines=[deadline_to_item(claim_id, d, shards=repo.settings.due_shards) for d in opened],
            claim_ref=_claim_ref(claim),
            order=order_item,
        )
        try:
            repo.commit(write)
        except VersionConflict:
            continue
        _count(repo, claim, now, claims_opened=1)
        logger.info("claim submitted", extra={"claim_id": claim_id, "status": status.value})
        return claim
    raise Conflict("the order kept changing while the claim was being opened; try again")


def new_claim_id() -> str:
    """Also the workflow execution name: ASCII, at most 80 characters."""
    return f"clm_{uuid.uuid4().hex}"


def _check_evidence_keys(keys: tuple[str, ...], actor: Actor) -> None:
    prefix = evidence_prefix(actor.id)
    foreign = [key for key in keys if not key.startswith(prefix)]
    if foreign:
        raise BadRequest(
            "evidence keys must be uploads of this buyer",
            code="invalid_evidence_key",
            details={"prefix": prefix},
        )


def evidence_prefix(buyer_id: str) -> str:
    return f"evidence/{buyer_id}/"


# --------------------------------------------------------------------------- act


def act(
    claim_id: str,
    actor: Actor,
    action: Action,
    payload: Mapping[str, Any] | None,
    now: datetime,
    *,
    repo: Repository | None = None,
    expected_version: int | None = None,
    deadline_writes: Sequence[DeadlineItem] = (),
    lapsed_deadline: DeadlineKind | None = None,
) -> ActResult:
    """Take ``action`` on a claim as ``actor``, through the domain transition table.

    One transaction writes: the claim (on condition its version is the one read; version + 1), a
    timeline entry, the deadlines of the stage being left (met: out of the due index), the deadlines
    of the stage entered, and, when the status changes, clears the stored workflow task token (returned
    in ``ActResult.cleared_task_token``). On a lost race it re-reads and re-decides (the action may
    then be illegal: ``IllegalTransition``); it never overwrites. Out-of-scope or missing claims raise
    ``NotFound``.

    ``payload`` keys by action: ship_return / ship_replacement / complete_repair: ``carrier``,
    ``waybill``; quote_repair: ``quote_fen``; inspect_pass / inspect_fail: ``findings``, ``liability``;
    ruling_refund: ``refund_fen``, ``payer``; extend: ``due_at`` (datetime), ``reason``, optional
    ``deadline`` (kind); rate: ``rating`` (mapping); approve: optional ``return_address``;
    ship_return: optional ``fee_fen`` / ``shipping_fee`` (yuan); refund_succeeded: ``refund`` (amounts
    and key, for the timeline); refund_failed: ``failure``; any action: ``note``.

    Resuming the workflow happens here and only here: when the change cleared a task token, the run
    waiting on it gets ``SendTaskSuccess({claim_id, status})``, or, when ``lapsed_deadline`` says the
    change is that deadline's automatic outcome (sla_tick), ``SendTaskFailure(Deadline.<kind>)``.

    ``expected_version``: act only on that version of the claim and never re-decide after a lost race
    (``ClaimChanged``), for a caller whose decision rests on more than the transition table: sla_tick
    escalating a lapsed deadline once. ``deadline_writes``: deadline items written in the same
    transaction (sla_tick: that deadline, marked escalated); a deadline the change itself writes wins.
    """
    repo = repo or default_repository()
    payload = payload or {}
    for _ in range(MAX_ATTEMPTS):
        record = repo.get_claim_record(claim_id)
        if record is None or not in_scope(record.claim, actor):
            raise NotFound("no such claim", details={"claim_id": claim_id})
        claim = record.claim
        if expected_version is not None and int(claim.version or 0) != expected_version:
            raise ClaimChanged("the claim changed since it was read", details={"claim_id": claim_id})
        moved = transition(
            Status(claim.status),
            action,
            actor.role,
            ClaimType(claim.claim_type),
            reopen_count=int(claim.reopen_count or 0),
        )
        write, cleared = _plan(record, moved, actor, payload, now, repo.settings.due_shards)
        planned = {item.sk for item in write.deadlines}
        write.deadlines += [item for item in deadline_writes if item.sk not in planned]
        try:
            repo.commit(write)
        except VersionConflict:
            logger.info("lost a race on the claim; re-reading", extra={"claim_id": claim_id})
            continue
        _count_transition(repo, write.claim, moved, now)
        logger.info(
            "claim changed",
            extra={"claim_id": claim_id, "action": action.value, "from": moved.source, "to": moved.target},
        )
        _resume_workflow(claim_id, write.claim.status, cleared, lapsed_deadline)
        return ActResult(write.claim, moved, cleared)
    raise Conflict("the claim kept changing; read it again and retry", details={"claim_id": claim_id})


def _resume_workflow(
    claim_id: str, status: str, cleared_token: str | None, lapsed_deadline: DeadlineKind | None
) -> None:
    """Only the change that cleared the token gets here with it, so each stage completes once. The
    claim change is committed either way: a failure to resume is logged for ops, never raised."""
    if not cleared_token:
        return
    try:
        if lapsed_deadline is not None:
            workflow.fail_task(
                cleared_token, error=f"Deadline.{lapsed_deadline.value}", cause=status, claim_id=claim_id
            )
        else:
            workflow.complete_task(cleared_token, {"claim_id": claim_id, "status": status})
    except Exception:
        logger.exception("workflow not resumed; the run waits for ops", extra={"claim_id": claim_id})


def _plan(
    record: ClaimRecord,
    moved: Transition,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    shards: int,
) -> tuple[ClaimWrite, str | None]:
    claim = record.claim
    claim_type = ClaimType(claim.claim_type)
    policy = policy_for(claim)
    details: dict[str, Any] = {}
    waybill = _apply_payload(claim, moved, payload, now, details)

    deadline_items = []
    open_deadlines = [d for d in map(item_to_deadline, record.deadlines) if d.is_open]
    if moved.action is Action.EXTEND:
        deadline_items = [
            deadline_to_item(claim.claim_id, d, shards=shards) for d in _extend(open_deadlines, payload, now)
        ]
        details["extended"] = [{"deadline": item.kind, "due_at": item.deadline_at} for item in deadline_items]
    cleared: str | None = None
    if moved.changes_status:
        deadline_items = [
            deadline_to_item(claim.claim_id, dl.meet(d, now), shards=shards) for d in open_deadlines
        ]
        opened_before = {item.kind: int(item.instance or 1) for item in record.deadlines}
        deadline_items += [
            deadline_to_item(
                claim.claim_id,
                replace(
                    dl.open_deadline(kind, policy, now, urgent=bool(claim.urgent)),
                    instance=opened_before.get(kind.value, 0) + 1,
                ),
                shards=shards,
            )
            for kind in dl.deadlines_for(moved.target, claim_type)
        ]
        cleared, claim.task_token, claim.task_stage = claim.task_token, None, None
        claim.parked_reason = None  # a run parked for ops moves on with this change
        claim.status = moved.target.value
        if moved.outcome is not None:
            claim.outcome = moved.outcome.value
        claim.gsi_merchant_sk = f"{claim.status}#{claim.created_at}"
    claim.updated_at = iso(now)
    new_version = int(claim.version or 0) + 1
    write = ClaimWrite(
        claim=claim,
        timeline=_timeline(
            claim,
            actor,
            moved.action.value,
            moved.source,
            moved.target,
            now,
            version=new_version,
            note=_note(payload),
            details=details,
        ),
        deadlines=deadline_items,
        claim_ref=_claim_ref(claim) if moved.changes_status else None,
        waybill=waybill,
    )
    return write, cleared


def _apply_payload(
    claim: ClaimItem, moved: Transition, payload: Mapping[str, Any], now: datetime, details: dict[str, Any]
) -> WaybillItem | None:
    """Record the facts an action brings on the claim; returns a waybill to register, if any."""
    action = moved.action
    waybill: WaybillItem | None = None
    if action in (Action.SHIP_RETURN, Action.SHIP_REPLACEMENT, Action.COMPLETE_REPAIR) and payload.get(
        "waybill"
    ):
        carrier, number = str(payload["carrier"]), str(payload["waybill"])
        shipment = ShipmentMap(carrier=carrier, waybill=number, at=iso(now))  # type: ignore[no-untyped-call]
        fee_fen = _declared_fee(payload)
        if fee_fen is not None and action is Action.SHIP_RETURN:
            shipment.fee_fen = fee_fen
            details["fee_fen"] = fee_fen
        direction = "return" if action is Action.SHIP_RETURN else "outbound"
        if direction == "return":
            claim.return_shipment = shipment
        else:
            claim.outbound_shipment = shipment
        waybill = WaybillItem(
            f"WAYBILL#{carrier}#{number}",
            "WAYBILL",
            carrier=carrier,
            waybill=number,
            claim_id=claim.claim_id,
            direction=direction,
            registered_at=iso(now),
        )
        details.update(carrier=carrier, waybill=number)
    if moved.target is Status.AWAITING_RETURN_SHIPMENT and moved.changes_status:
        # The return authorisation: RMA number, where to send the goods, who pays the shipping.
        reopens = int(claim.reopen_count or 0) + (1 if action is Action.REOPEN else 0)
        claim.rma_number = rma_number(claim.claim_id, reopens)
        claim.return_address = str(payload.get("return_address") or policy_for(claim).return_address)
        details.update(rma_number=claim.rma_number, shipping_payer=claim.shipping_payer)
    if action is Action.REFUND_SUCCEEDED and payload.get("refund"):
        details["refund"] = dict(payload["refund"])
    if action is Action.REFUND_FAILED and payload.get("failure"):
        details["failure"] = str(payload["failure"])
    if action is Action.QUOTE_REPAIR:
        claim.quote_fen = int(payload["quote_fen"])
        details["quote_fen"] = claim.quote_fen
    if action in (Action.INSPECT_PASS, Action.INSPECT_FAIL):
        if payload.get("liability"):
            claim.liability = str(payload["liability"])
            details["liability"] = claim.liability
        if payload.get("findings"):
            details["findings"] = str(payload["findings"])
    if action is Action.RULING_REFUND:
        refund_fen = int(payload.get("refund_fen", claim.amount_fen))
        if refund_fen > int(claim.amount_fen):
            raise DomainError(
                "a ruling cannot refund more than the claimed amount",
                code="refund_exceeds_claim",
                details={"amount_fen": int(claim.amount_fen)},
            )
        claim.refund_fen = refund_fen
        claim.refund_payer = str(payload.get("payer", "merchant"))
        details.update(refund_fen=claim.refund_fen, payer=claim.refund_payer)
    if moved.target is Status.AWAITING_REFUND and moved.changes_status:
        claim.refund_seq = int(claim.refund_seq or 0) + 1  # each refund attempt has its own idempotency key
    if action is Action.DISPUTE:
        claim.escalation_level = EscalationLevel.MEDIATION.value
    if action is Action.ESCALATE:
        claim.escalation_level = EscalationLevel(claim.escalation_level or "agent").next().value
        details["escalation_level"] = claim.escalation_level
    if action is Action.REOPEN:
        claim.reopen_count = int(claim.reopen_count or 0) + 1
    if action is Action.RATE:
        if claim.rating:
            raise Conflict("this claim has already been rated", code="already_rated")
        claim.rating = dict(payload["rating"])
        details["rating"] = dict(payload["rating"])
    if payload.get("reason") and action in (Action.REJECT, Action.APPROVE, Action.DISPUTE, Action.CANCEL):
        details["reason"] = str(payload["reason"])
    return waybill


def _declared_fee(payload: Mapping[str, Any]) -> int | None:
    """The return shipping fee the buyer declared: ``fee_fen`` (int) or ``shipping_fee`` (yuan)."""
    if payload.get("fee_fen") is not None:
        return int(payload["fee_fen"])
    if payload.get("shipping_fee"):
        return parse_yuan(str(payload["shipping_fee"]))
    return None


def _extend(
    open_deadlines: list[dl.Deadline], payload: Mapping[str, Any], now: datetime
) -> list[dl.Deadline]:
    """Extend the merchant's open deadline(s) of the current stage (or the one named)."""
    wanted = payload.get("deadline")
    targets = [
        d for d in open_deadlines if d.owner is Role.MERCHANT and (wanted is None or d.kind.value == wanted)
    ]
    if not targets:
        raise DomainError("no open merchant deadline to extend", code="no_deadline_to_extend")
    return [dl.extend(d, payload["due_at"], str(payload.get("reason", "")), at=now) for d in targets]


def _note(payload: Mapping[str, Any]) -> str | None:
    note = payload.get("note")
    return str(note) if note else None


def _timeline(
    claim: ClaimItem,
    actor: Actor,
    action: str,
    source: Status | None,
    target: Status,
    now: datetime,
    *,
    version: int,
    note: str | None,
    details: dict[str, Any],
) -> TimelineItem:
    # The version in the key makes every change's entry unique and keeps same-instant entries in order.
    return TimelineItem(
        claim_pk(claim.claim_id),
        f"EVT#{iso(now)}#{version:06d}",
        claim_id=claim.claim_id,
        at=iso(now),
        actor_role=actor.role.value,
        actor_id=actor.id,
        action=action,
        from_status=source.value if source else None,
        to_status=target.value,
        policy_version=claim.policy_version,
        claim_version=version,
        note=note,
        details=details or None,
    )


def _claim_ref(claim: ClaimItem) -> ClaimRefItem:
    return ClaimRefItem(
        f"ORDER#{claim.order_id}",
        f"CLAIM#{claim.claim_id}",
        claim_id=claim.claim_id,
        line_id=claim.line_id,
        quantity=claim.quantity,
        status=claim.status,
        outcome=claim.outcome,
    )


def _count_transition(repo: Repository, claim: ClaimItem, moved: Transition, now: datetime) -> None:
    counters: dict[str, int] = {}
    if moved.changes_status and moved.target is Status.CLOSED:
        counters["claims_closed"] = 1
        if moved.outcome is Outcome.REFUNDED:
            counters["refunds"] = 1
    if moved.action is Action.DISPUTE:
        counters["disputes"] = 1
    if moved.action is Action.ESCALATE:
        counters["escalations"] = 1
    if counters:
        _count(repo, claim, now, **counters)


def _count(repo: Repository, claim: ClaimItem, now: datetime, **counters: int) -> None:
    """Scorecard counters are updated after the claim is committed; a failure here must not undo the
    claim change, so it is logged rather than raised."""
    business_metrics.count(counters)
    try:
        repo.increment_merchant_stats(claim.merchant_id, now.date(), counters)
    except Exception:
        logger.exception("merchant stats not updated", extra={"claim_id": claim.claim_id})


# --------------------------------------------------------------------------- read


def read(claim_id: str, actor: Actor, *, repo: Repository | None = None) -> ClaimRecord:
    """The claim with its timeline, deadlines and penalty days, if ``actor`` may see it."""
    repo = repo or default_repository()
    record = repo.get_claim_record(claim_id)
    if record is None or not in_scope(record.claim, actor):
        raise NotFound("no such claim", details={"claim_id": claim_id})
    return record


def list_for(
    actor: Actor,
    *,
    status: Status | None = None,
    cursor: str | None = None,
    limit: int = 20,
    merchant_id: str | None = None,
    repo: Repository | None = None,
) -> Page:
    """A buyer's own claims, a merchant's claims, or (ops) one merchant's claims."""
    repo = repo or default_repository()
    state = status.value if status else None
    if actor.role is Role.BUYER:
        return repo.list_buyer_claims(actor.id, status=state, cursor=cursor, limit=limit)
    owner = actor.merchant_id if actor.role is Role.MERCHANT else merchant_id
    if not owner:
        raise BadRequest("give merchant_id, or overdue=true", code="filter_required")
    return repo.list_merchant_claims(owner, status=state, cursor=cursor, limit=limit)


def overdue(now: datetime, *, limit: int = 50, repo: Repository | None = None) -> list[ClaimItem]:
    """Claims with at least one deadline past due (ops), earliest due first."""
    repo = repo or default_repository()
    due = repo.overdue_deadlines(now, limit=limit)
    return repo.get_claims(item.claim_id for item in due)
