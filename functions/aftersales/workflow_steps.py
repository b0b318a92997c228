"""What the state machine's Lambda steps do (``review``, ``refund``, ``await_stage`` handlers).

Each step reads or changes the claim through the repository and ``claims.act`` and answers
``{"claim_id", "status"}``: the state machine's ``NextStage`` routes on that status (decision 0004).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aftersales import business_metrics, claims, workflow
from aftersales.claims import Actor
from aftersales.clock import iso
from aftersales.domain.model import Action, ClaimType, Payer, Reason, Status
from aftersales.domain.refunds import idempotency_key, refund_breakdown
from aftersales.domain.review import Decision, review
from aftersales.observability import logger
from aftersales.payments import RefundGateway, RefundRequest, default_gateway
from aftersales.service_errors import Conflict, NotFound
from aftersales.store import ClaimWrite, Repository, VersionConflict, default_repository
from aftersales.store.models import ClaimItem, TimelineItem, claim_pk

PARKED = "parked"  # the stage of a run waiting for ops after an unexpected failure
StepResult = dict[str, str]


def _result(claim: ClaimItem) -> StepResult:
    return {"claim_id": claim.claim_id, "status": claim.status}


def _claim(claim_id: str, repo: Repository) -> ClaimItem:
    claim = repo.get_claim(claim_id)
    if claim is None:
        raise NotFound("no such claim", details={"claim_id": claim_id})
    return claim


# --------------------------------------------------------------------------- review


def review_claim(claim_id: str, now: datetime, *, repo: Repository | None = None) -> StepResult:
    """Apply the automatic review (``domain.review``); a claim not pending review is left as it is
    (a complaint, or a retried step whose decision is already taken)."""
    repo = repo or default_repository()
    claim = _claim(claim_id, repo)
    if claim.status != Status.PENDING_REVIEW:
        return _result(claim)
    order = repo.get_order(claim.order_id)
    decided = review(
        ClaimType(claim.claim_type),
        Reason(claim.reason),
        int(claim.amount_fen),
        signed_for=bool(order and order.order.delivered_at),
        policy=claims.policy_for(claim),
    )
    logger.info(
        "review decided", extra={"claim_id": claim_id, "decision": decided.decision, "rule": decided.rule}
    )
    if decided.decision is Decision.MANUAL:
        return _result(claim)
    action = Action.AUTO_APPROVE if decided.decision is Decision.AUTO_APPROVE else Action.REJECT
    result = claims.act(
        claim_id,
        Actor.system("review"),
        action,
        {"reason": decided.rule, "note": decided.rule},
        now,
        repo=repo,
    )
    return _result(result.claim)


# --------------------------------------------------------------------------- refund


def refund_claim(
    claim_id: str, now: datetime, *, repo: Repository | None = None, gateway: RefundGateway | None = None
) -> StepResult:
    """Pay the claim's refund once per refund attempt (key ``<claim id>#<refund seq>``) and close it.

    ``RefundGatewayError`` propagates: the state machine retries the step, and a retry pays nothing
    twice because the gateway is idempotent on the key.
    """
    repo = repo or default_repository()
    gateway = gateway or default_gateway()
    claim = _claim(claim_id, repo)
    if claim.status != Status.AWAITING_REFUND:
        logger.info("refund step on a claim not awaiting refund", extra={"claim_id": claim_id})
        return _result(claim)
    breakdown = refund_breakdown(
        amount_fen=int(claim.amount_fen),
        ruling_refund_fen=None if claim.refund_fen is None else int(claim.refund_fen),
        shipping_payer=Payer(claim.shipping_payer),
        declared_shipping_fen=_declared_fee(claim),
        penalty_fen=int(claim.penalty_total_fen or 0),
        policy=claims.policy_for(claim),
    )
    key = idempotency_key(claim_id, int(claim.refund_seq or 0))
    receipt = gateway.refund(
        RefundRequest(key, claim_id, claim.order_id, claim.buyer_id, breakdown.total_fen)
    )
    refund = {
        "idempotency_key": key,
        "reference": receipt.reference,
        "total_fen": receipt.amount_fen,
        "goods_fen": breakdown.goods_fen,
        "shipping_fen": breakdown.shipping_fen,
        "penalty_fen": breakdown.penalty_fen,
    }
    result = claims.act(
        claim_id, Actor.system("refund"), Action.REFUND_SUCCEEDED, {"refund": refund}, now, repo=repo
    )
    business_metrics.refund_paid(receipt.amount_fen)
    return _result(result.claim)


def _declared_fee(claim: ClaimItem) -> int | None:
    shipment = claim.return_shipment
    fee = getattr(shipment, "fee_fen", None) if shipment is not None else None
    return None if fee is None else int(fee)


def record_refund_failure(
    claim_id: str, failure: Mapping[str, Any] | None, now: datetime, *, repo: Repository | None = None
) -> StepResult:
    """The gateway kept failing: the claim waits in ``refund_failed`` for ops (who retry the refund)."""
    repo = repo or default_repository()
    claim = _claim(claim_id, repo)
    if claim.status != Status.AWAITING_REFUND:
        return _result(claim)
    error = str((failure or {}).get("Error") or "RefundGatewayError")
    result = claims.act(
        claim_id, Actor.system("refund"), Action.REFUND_FAILED, {"failure": error}, now, repo=repo
    )
    return _result(result.claim)


# --------------------------------------------------------------------------- waiting stages


def wait_at_stage(claim_id: str, stage: str, token: str, *, repo: Repository | None = None) -> bool:
    """Store the run's callback token on the claim while it is in ``stage``. When the claim has already
    left the stage (completed before the run got here), resume the run at once with the status now.
    Returns whether the token was stored."""
    repo = repo or default_repository()
    if repo.save_task_token(claim_id, token, stage):
        return True
    claim = _claim(claim_id, repo)
    logger.info("stage already left; resuming at once", extra={"claim_id": claim_id, "stage": stage})
    workflow.complete_task(token, _result(claim))
    return False


def park(
    claim_id: str,
    token: str,
    failure: Mapping[str, Any] | None,
    now: datetime,
    *,
    repo: Repository | None = None,
) -> None:
    """Record an unexpected failure on the claim (``parked_reason``, a timeline entry) and keep the run
    waiting for ops: the next change of the claim's status resumes it through ``NextStage``."""
    repo = repo or default_repository()
    reason = str((failure or {}).get("Error") or "unknown")
    for _ in range(claims.MAX_ATTEMPTS):
        claim = _claim(claim_id, repo)
        version = int(claim.version or 0) + 1
        claim.task_token, claim.task_stage, claim.parked_reason = token, PARKED, reason
        claim.updated_at = iso(now)
        entry = TimelineItem(
            claim_pk(claim_id),
            f"EVT#{iso(now)}#{version:06d}",
            claim_id=claim_id,
            at=iso(now),
            actor_role="system",
            actor_id="workflow",
            action="park_for_ops",
            from_status=claim.status,
            to_status=claim.status,
            policy_version=claim.policy_version,
            claim_version=version,
            details={"failure": reason},
        )
        try:
            repo.commit(ClaimWrite(claim=claim, timeline=entry))
        except VersionConflict:
            continue
        logger.warning("claim parked for ops", extra={"claim_id": claim_id, "failure": reason})
        return
    raise VersionConflict(f"claim {claim_id} kept changing while it was parked")


def resume_parked(claim_id: str, actor: Actor, now: datetime, *, repo: Repository | None = None) -> ClaimItem:
    """Ops let a parked run go on once the cause of its failure is dealt with (a transient outage, a
    fixed bug). The claim keeps its status; the run re-enters ``NextStage`` from it. A claim that is
    not parked is a 409, so a double click resumes once."""
    repo = repo or default_repository()
    for _ in range(claims.MAX_ATTEMPTS):
        claim = _claim(claim_id, repo)
        if claim.task_stage != PARKED or not claim.task_token:
            raise Conflict("the claim's run is not parked", code="not_parked", details={"claim_id": claim_id})
        token, reason = claim.task_token, claim.parked_reason
        version = int(claim.version or 0) + 1
        claim.task_token, claim.task_stage, claim.parked_reason = None, None, None
        claim.updated_at = iso(now)
        entry = TimelineItem(
            claim_pk(claim_id),
            f"EVT#{iso(now)}#{version:06d}",
            claim_id=claim_id,
            at=iso(now),
            actor_role=actor.role.value,
            actor_id=actor.id,
            action="resume_run",
            from_status=claim.status,
            to_status=claim.status,
            policy_version=claim.policy_version,
            claim_version=version,
            details={"parked_for": reason or "unknown"},
        )
        try:
            repo.commit(ClaimWrite(claim=claim, timeline=entry))
        except VersionConflict:
            continue
        workflow.complete_task(token, _result(claim))
        logger.info("parked run resumed by ops", extra={"claim_id": claim_id})
        return claim
    raise Conflict("the claim kept changing; read it again and retry", details={"claim_id": claim_id})


def current_status(claim_id: str, *, repo: Repository | None = None) -> StepResult:
    """Where the claim is now (the missed-deadline steps: sla_tick already applied the outcome)."""
    return _result(_claim(claim_id, repo or default_repository()))


def resync(claim_id: str, *, repo: Repository | None = None) -> dict[str, Any]:
    """A wait timed out: where the run must go now. The claim's status, or ``parked`` (with the
    recorded failure) while it still waits for ops; ``NextStage`` routes on it like any status."""
    claim = _claim(claim_id, repo or default_repository())
    if claim.task_stage == PARKED:
        return {
            "claim_id": claim_id,
            "status": PARKED,
            "failure": {"Error": claim.parked_reason or "unknown"},
        }
    return {**_result(claim), "failure": None}
