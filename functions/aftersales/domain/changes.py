"""What a change does to a claim, decided without touching storage.

``open_claim`` (a buyer's request), ``decide`` (an action through the transition table), ``park`` and
``resume`` (a workflow run waiting for ops) each return a ``Change``: the claim after it, its timeline
entry, the deadlines to write, a waybill to register. The service writes a ``Change`` in one
transaction, conditioned on the version the claim was read at (``Change.read_version``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from . import deadlines as dl
from .actions import (
    ActionInput,
    Approval,
    BuyerDelayInput,
    ClockPauseInput,
    DeliveryInput,
    ExtensionInput,
    InspectionInput,
    OpinionInput,
    QuoteInput,
    RatingInput,
    Reasoned,
    RefundFailure,
    RefundPaid,
    RulingInput,
    ShipmentInput,
    checked_input,
)
from .claim import Actor, Claim, Shipment, TimelineEntry, WaybillRegistration, evidence_prefix
from .eligibility import Eligibility
from .errors import DomainError, InvalidEvidence, StateConflict
from .model import Action, ClaimRequest, EscalationLevel, Order, Role, Status, product_key
from .policy import LayerRef, Policy
from .refunds import check_shipping_receipt, idempotency_key, rma_number
from .transitions import Transition, initial_status, transition

SUBMIT_ACTION = "submit"
PARK_ACTION = "park_for_ops"
RESUME_ACTION = "resume_run"
PARKED = "parked"  # the task stage of a run waiting for ops after an unexpected failure


class AlreadyRated(StateConflict):
    code = "already_rated"


class NotParked(StateConflict):
    code = "not_parked"


@dataclass(frozen=True)
class Change:
    claim: Claim  # after the change, at its new version
    entry: TimelineEntry
    read_version: int | None  # the version the change was decided on; None: a new claim
    deadlines: tuple[dl.Deadline, ...] = ()
    waybill: WaybillRegistration | None = None
    transition: Transition | None = None  # None: not an action of the table (park, resume)
    cleared_task_token: str | None = None  # the waiting run's token this change took off the claim

    @property
    def changes_status(self) -> bool:
        return self.transition is not None and self.transition.changes_status


def _entry(
    claim: Claim, actor: Actor, action: str, source: Status | None, now: datetime, **extra: Any
) -> TimelineEntry:
    return TimelineEntry(
        claim_id=claim.claim_id,
        at=now,
        actor_role=actor.role.value,
        actor_id=actor.id,
        action=action,
        from_status=source,
        to_status=claim.status,
        policy_version=claim.policy_version,
        claim_version=claim.version,
        **extra,
    )


# --------------------------------------------------------------------------- open


def open_claim(
    claim_id: str,
    request: ClaimRequest,
    order: Order,
    eligibility: Eligibility,
    policy: Policy,
    actor: Actor,
    now: datetime,
    *,
    policy_layers: tuple[LayerRef, ...] = (),
) -> Change:
    """A new claim from an eligible request: amounts and payers from ``eligibility``, never the request.
    ``policy_layers``: the layer versions ``policy`` was resolved from, recorded on the claim."""
    line = order.line(request.line_id)
    status = initial_status(request.type)
    claim = Claim(
        claim_id=claim_id,
        order_id=order.order_id,
        line_id=request.line_id,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        category=line.category if line else None,
        claim_type=request.type,
        reason=request.reason,
        quantity=eligibility.quantity,
        description=request.description,
        urgent=request.urgent,
        evidence_keys=tuple(request.evidence_keys),
        status=status,
        amount_fen=eligibility.amount_fen,
        shipping_payer=eligibility.shipping_payer,
        repair_payer=eligibility.repair_payer,
        policy_version=eligibility.policy_version,
        product=product_key(line.sku, line.title) if line else None,
        created_at=now,
        updated_at=now,
        version=1,
        policy_layers=policy_layers,
    )
    opened = tuple(
        dl.open_deadline(kind, policy, now, urgent=request.urgent, claim_type=request.type)
        for kind in dl.deadlines_for(status, request.type)
    )
    return Change(claim, _entry(claim, actor, SUBMIT_ACTION, None, now), None, opened)


# --------------------------------------------------------------------------- act


def decide(
    claim: Claim,
    deadlines: Sequence[dl.Deadline],
    actor: Actor,
    action: Action,
    given: ActionInput | None,
    policy: Policy,
    now: datetime,
) -> Change:
    """``action`` by ``actor`` on ``claim`` (whose stored deadlines are ``deadlines``), through the
    transition table: ``IllegalTransition``, ``Forbidden`` or another ``DomainError`` when refused.

    Leaving a status meets its open deadlines and opens the next stage's (the n-th of a kind gets
    instance n); it also takes the waiting run's task token off the claim, so only this change resumes
    the run. Within a stage, the merchant's or an agent's first action meets the first response
    (``deadlines.deadlines_met_by``); ``extend`` moves the merchant's open deadlines of the stage, and
    ops' clock findings pause, resume or mark them.
    """
    data = checked_input(action, given)
    moved = transition(
        claim.status,
        action,
        actor.role,
        claim.claim_type,
        reopen_count=claim.reopen_count,
        unrepaired=claim.ship_back_payer is not None,
    )
    facts, details = _facts(claim, moved, data, policy, now)
    after = replace(claim, **facts, updated_at=now, version=claim.version + 1)
    open_now = [d for d in deadlines if d.is_open]
    met = dl.deadlines_met_by(open_now, action, actor.role, changes_status=moved.changes_status)
    if met and not moved.changes_status:
        details["met"] = [d.kind.value for d in met]
    still_open = [d for d in open_now if d not in met]
    written = _moved_deadlines(action, data, still_open, now, details) + [dl.meet(d, now) for d in met]
    cleared = None
    if moved.changes_status:
        started = _stage_start(data, now)
        if started != now:
            details["stage_started_at"] = started
        written += _opened(deadlines, moved.target, claim, policy, started)
        cleared = claim.task_token
        after = replace(
            after,
            status=moved.target,
            outcome=moved.outcome or claim.outcome,
            task_token=None,
            task_stage=None,
            parked_reason=None,  # a run parked for ops moves on with this change
        )
    entry = _entry(after, actor, action.value, moved.source, now, note=data.note or None, details=details)
    return Change(
        after,
        entry,
        claim.version,
        tuple(written),
        _waybill(after, action, data, now),
        moved,
        cleared,
    )


def _moved_deadlines(
    action: Action, data: ActionInput, open_now: list[dl.Deadline], now: datetime, details: dict[str, Any]
) -> list[dl.Deadline]:
    """The open deadlines an extension or a clock finding moves (and what the timeline says of it)."""
    if isinstance(data, ExtensionInput):
        extended = _extend(open_now, data, now)
        details["extended"] = [{"deadline": d.kind.value, "due_at": d.due_at} for d in extended]
        return extended
    if isinstance(data, ClockPauseInput):
        changed = dl.pause_clock(open_now, now, reason=data.reason, until=data.until)
    elif action is Action.RESUME_CLOCK:
        changed = dl.resume_clock(open_now, now)
    elif isinstance(data, BuyerDelayInput):
        changed = dl.find_buyer_delay(open_now, reason=data.reason, kind=data.deadline)
    else:
        return []
    details["deadlines"] = [
        {"deadline": d.kind.value, "due_at": d.due_at, "paused": d.paused_since is not None} for d in changed
    ]
    for name in ("reason", "until"):
        if getattr(data, name, None):
            details[name] = getattr(data, name)
    return changed


def _stage_start(data: ActionInput, now: datetime) -> datetime:
    """When the next stage's clock starts: now, or when a carrier delivered the goods (never later)."""
    if isinstance(data, DeliveryInput) and data.delivered_at is not None:
        return min(data.delivered_at, now)
    return now


def _opened(
    stored: Sequence[dl.Deadline], status: Status, claim: Claim, policy: Policy, now: datetime
) -> list[dl.Deadline]:
    before = {d.kind: d.instance for d in stored}
    return [
        replace(
            dl.open_deadline(kind, policy, now, urgent=claim.urgent, claim_type=claim.claim_type),
            instance=before.get(kind, 0) + 1,
        )
        for kind in dl.deadlines_for(status, claim.claim_type)
    ]


Effect = tuple[dict[str, Any], dict[str, Any]]  # (claim fields set, timeline details recorded)


def _facts(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    """The claim fields an action sets, and what its timeline entry records: every effect's, merged."""
    facts: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for effect in _EFFECTS:
        set_, recorded = effect(claim, moved, data, policy, now)
        facts.update(set_)
        details.update(recorded)
    return facts, details


def _shipment(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    if not (isinstance(data, ShipmentInput) and data.carrier and data.waybill):
        return {}, {}
    returning = moved.action is Action.SHIP_RETURN
    fee = data.fee_fen if returning else None  # only the buyer's return shipping is reimbursed
    shipment = Shipment(carrier=data.carrier, waybill=data.waybill, at=now, fee_fen=fee)
    details: dict[str, Any] = {} if fee is None else {"fee_fen": fee}
    if fee is not None:
        _check_receipt(claim, data.receipt_key)
        check_shipping_receipt(fee, data.receipt_key, policy)
        if data.receipt_key:
            details["receipt_key"] = data.receipt_key
    details.update(carrier=data.carrier, waybill=data.waybill)
    return {"return_shipment" if returning else "outbound_shipment": shipment}, details


def _check_receipt(claim: Claim, receipt_key: str | None) -> None:
    """The carrier's receipt for a declared fee is an upload of this claim's buyer, like any evidence."""
    if receipt_key and not receipt_key.startswith(evidence_prefix(claim.buyer_id)):
        raise InvalidEvidence(
            "the receipt must be an upload of this buyer",
            details={"prefix": evidence_prefix(claim.buyer_id)},
        )


def _return_authorisation(
    claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime
) -> Effect:
    """Entering a return leg issues the RMA number, where to send the goods, who pays the shipping."""
    if not (moved.target is Status.AWAITING_RETURN_SHIPMENT and moved.changes_status):
        return {}, {}
    reopens = claim.reopen_count + (1 if moved.action is Action.REOPEN else 0)
    given = data.return_address if isinstance(data, Approval) else None
    rma = rma_number(claim.claim_id, reopens)
    facts = {"rma_number": rma, "return_address": str(given or policy.return_address)}
    return facts, {"rma_number": rma, "shipping_payer": claim.shipping_payer.value}


def _recorded(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    """What an input brings for the timeline only, or for a claim field of the same name."""
    if isinstance(data, RefundPaid) and data.refund:
        return {}, {"refund": dict(data.refund)}
    if isinstance(data, RefundFailure) and data.failure:
        return {}, {"failure": data.failure}
    if isinstance(data, OpinionInput):
        return {}, {"opinion": data.opinion}
    if isinstance(data, QuoteInput):
        return {"quote_fen": data.quote_fen}, {"quote_fen": data.quote_fen}
    if isinstance(data, InspectionInput):
        liability = {"liability": data.liability} if data.liability else {}
        return liability, {**liability, **({"findings": data.findings} if data.findings else {})}
    if isinstance(data, Reasoned) and data.reason:
        return {}, {"reason": data.reason}
    return {}, {}


def _declined(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    """A declined quote sends the goods back unrepaired; the policy says who pays that shipping."""
    if moved.action is not Action.DECLINE_QUOTE:
        return {}, {}
    payer = policy.declined_quote_ship_back_payer
    return {"ship_back_payer": payer}, {"ship_back_payer": payer.value}


def _ruled(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    if not isinstance(data, RulingInput):
        return {}, {}
    ruled = _ruling(claim, data)
    return ruled, {"refund_fen": ruled["refund_fen"], "payer": ruled["refund_payer"]}


def _refund_attempt(
    claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime
) -> Effect:
    """The refund's gateway idempotency key (``<claim>#<refund_seq>``). A retry after a failure keeps
    the failed attempt's key, so a refund that was paid but never confirmed is not paid twice; only
    a refusal that moved no money (``declined``) lets the next attempt take a new one."""
    if isinstance(data, RefundFailure):
        return {"refund_declined": data.declined}, {"declined": data.declined}
    if not (moved.target is Status.AWAITING_REFUND and moved.changes_status):
        return {}, {}
    reuse = moved.source is Status.REFUND_FAILED and not claim.refund_declined
    seq = claim.refund_seq if reuse else claim.refund_seq + 1
    key = idempotency_key(claim.claim_id, seq)
    return {"refund_seq": seq, "refund_declined": False}, {"idempotency_key": key}


def _ladder(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    """A dispute goes to platform mediation; an escalation climbs one step (POLICY §6)."""
    if moved.action is Action.DISPUTE:
        return {"escalation_level": EscalationLevel.MEDIATION}, {}
    if moved.action is Action.ESCALATE:
        level = claim.escalation_level.next()
        return {"escalation_level": level}, {"escalation_level": level.value}
    return {}, {}


def _reopened(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    return ({"reopen_count": claim.reopen_count + 1}, {}) if moved.action is Action.REOPEN else ({}, {})


def _rated(claim: Claim, moved: Transition, data: ActionInput, policy: Policy, now: datetime) -> Effect:
    if not isinstance(data, RatingInput):
        return {}, {}
    if claim.rating:
        raise AlreadyRated("this claim has already been rated")
    return {"rating": dict(data.rating)}, {"rating": dict(data.rating)}


_EFFECTS = (
    _shipment,
    _return_authorisation,
    _recorded,
    _declined,
    _ruled,
    _refund_attempt,
    _ladder,
    _reopened,
    _rated,
)


def _ruling(claim: Claim, ruling: RulingInput) -> dict[str, Any]:
    """A ruling may refund less than the claimed amount, never more."""
    refund_fen = claim.amount_fen if ruling.refund_fen is None else ruling.refund_fen
    if refund_fen > claim.amount_fen:
        raise DomainError(
            "a ruling cannot refund more than the claimed amount",
            code="refund_exceeds_claim",
            details={"amount_fen": claim.amount_fen},
        )
    return {"refund_fen": refund_fen, "refund_payer": ruling.payer}


def _extend(open_now: list[dl.Deadline], data: ExtensionInput, now: datetime) -> list[dl.Deadline]:
    """Extend the merchant's open deadline(s) of the current stage (or the one named)."""
    targets = [
        d for d in open_now if d.owner is Role.MERCHANT and (data.deadline is None or d.kind is data.deadline)
    ]
    if not targets:
        raise DomainError("no open merchant deadline to extend", code="no_deadline_to_extend")
    return [dl.extend(d, data.due_at, data.reason, at=now) for d in targets]


def _waybill(claim: Claim, action: Action, data: ActionInput, now: datetime) -> WaybillRegistration | None:
    if not (isinstance(data, ShipmentInput) and data.carrier and data.waybill):
        return None
    direction = "return" if action is Action.SHIP_RETURN else "outbound"
    return WaybillRegistration(data.carrier, data.waybill, claim.claim_id, direction, now)


# --------------------------------------------------------------------------- runs parked for ops


def park(claim: Claim, token: str, failure: str, now: datetime) -> Change:
    """An unexpected failure: the run waits for ops with its token on the claim; the status stays."""
    after = replace(
        claim,
        task_token=token,
        task_stage=PARKED,
        parked_reason=failure,
        updated_at=now,
        version=claim.version + 1,
    )
    entry = _entry(
        after, Actor.system("workflow"), PARK_ACTION, claim.status, now, details={"failure": failure}
    )
    return Change(after, entry, claim.version)


def resume(claim: Claim, actor: Actor, now: datetime) -> Change:
    """Ops let a parked run go on from the claim's status; a claim not parked is refused."""
    if claim.task_stage != PARKED or not claim.task_token:
        raise NotParked("the claim's run is not parked", details={"claim_id": claim.claim_id})
    after = replace(
        claim, task_token=None, task_stage=None, parked_reason=None, updated_at=now, version=claim.version + 1
    )
    details = {"parked_for": claim.parked_reason or "unknown"}
    entry = _entry(after, actor, RESUME_ACTION, claim.status, now, details=details)
    return Change(after, entry, claim.version, cleared_task_token=claim.task_token)


# --------------------------------------------------------------------------- notes


def annotate(
    claim: Claim, actor: Actor, what: str, now: datetime, *, note: str | None, details: Mapping[str, Any]
) -> Change:
    """A timeline entry that changes no status (a parcel in trouble): the claim's version moves on so
    the entry is ordered with every other change."""
    after = replace(claim, updated_at=now, version=claim.version + 1)
    entry = _entry(after, actor, what, claim.status, now, note=note, details=dict(details))
    return Change(after, entry, claim.version)
