"""What the state machine's Lambda steps do (``review``, ``refund``, ``await_stage`` handlers).

Each step reads the claim and changes it through ``aftersales.claims`` and answers
``{"claim_id", "status"}``: the state machine's ``NextStage`` routes on that status (decision 0004).
Callback tasks are completed by the change that cleared the stored token (``claims.act``), and here
by ``wait_at_stage`` when the claim has already left the stage the run arrives at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aftersales import business_metrics, claims, workflow
from aftersales.domain.actions import ActionInput, Reasoned, RefundFailure, RefundPaid
from aftersales.domain.changes import PARKED
from aftersales.domain.claim import Actor, Claim
from aftersales.domain.model import Action, Status
from aftersales.domain.refunds import idempotency_key, refund_breakdown
from aftersales.domain.review import Decision, review
from aftersales.observability import logger
from aftersales.payments import (
    RefundDeclined,
    RefundGateway,
    RefundGatewayError,
    RefundRequest,
    default_gateway,
)
from aftersales.store import Repository, default_repository

StepResult = dict[str, str]
WORKFLOW = Actor.system("workflow")


def _result(claim: Claim) -> StepResult:
    return {"claim_id": claim.claim_id, "status": claim.status.value}


# --------------------------------------------------------------------------- review


def review_claim(claim_id: str, now: datetime, *, repo: Repository | None = None) -> StepResult:
    """Apply the automatic review (``domain.review``); a claim not pending review is left as it is
    (a complaint, or a retried step whose decision is already taken)."""
    repo = repo or default_repository()
    claim = claims.read(claim_id, WORKFLOW, repo=repo)
    if claim.status is not Status.PENDING_REVIEW:
        return _result(claim)
    order = repo.get_order(claim.order_id)
    decided = review(
        claim.claim_type,
        claim.reason,
        claim.amount_fen,
        signed_for=bool(order and order.order.delivered_at),
        policy=claims.policy_for(claim, repo),
    )
    logger.info(
        "review decided", extra={"claim_id": claim_id, "decision": decided.decision, "rule": decided.rule}
    )
    if decided.decision is Decision.MANUAL:
        return _result(claim)
    if decided.decision is Decision.AUTO_APPROVE:
        action, given = Action.AUTO_APPROVE, ActionInput(note=decided.rule)
    else:
        action, given = Action.REJECT, Reasoned(reason=decided.rule, note=decided.rule)
    result = claims.act(claim_id, Actor.system("review"), action, given, now, repo=repo)
    return _result(result.claim)


def review_and_wait(claim_id: str, token: str, now: datetime, *, repo: Repository | None = None) -> bool:
    """The ``Review`` step: the automatic review, then, when it leaves the claim to the merchant, wait
    at ``pending_review`` with the run's token (as ``AwaitMerchantDecision`` does); any other outcome
    resumes the run at once with the status it left. Saves the two transitions a separate wait would
    cost. A retried step reviews nothing twice and finds the stage left. Returns whether it waits."""
    repo = repo or default_repository()
    reviewed = review_claim(claim_id, now, repo=repo)
    if reviewed["status"] == Status.PENDING_REVIEW.value:
        return wait_at_stage(claim_id, Status.PENDING_REVIEW.value, token, repo=repo)
    workflow.complete_task(token, reviewed)
    return False


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
    claim = claims.read(claim_id, WORKFLOW, repo=repo)
    if claim.status is not Status.AWAITING_REFUND:
        logger.info("refund step on a claim not awaiting refund", extra={"claim_id": claim_id})
        return _result(claim)
    shipment = claim.return_shipment
    breakdown = refund_breakdown(
        amount_fen=claim.amount_fen,
        ruling_refund_fen=claim.refund_fen,
        shipping_payer=claim.shipping_payer,
        declared_shipping_fen=shipment.fee_fen if shipment is not None else None,
        penalty_fen=claim.penalty_total_fen,
        policy=claims.policy_for(claim, repo),
    )
    key = idempotency_key(claim_id, claim.refund_seq)
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
        claim_id, Actor.system("refund"), Action.REFUND_SUCCEEDED, RefundPaid(refund=refund), now, repo=repo
    )
    business_metrics.refund_paid(receipt.amount_fen)
    return _result(result.claim)


def record_refund_failure(
    claim_id: str, failure: Mapping[str, Any] | None, now: datetime, *, repo: Repository | None = None
) -> StepResult:
    """The gateway kept failing: the claim waits in ``refund_failed`` for ops (who retry the refund)."""
    repo = repo or default_repository()
    claim = claims.read(claim_id, WORKFLOW, repo=repo)
    if claim.status is not Status.AWAITING_REFUND:
        return _result(claim)
    error = str((failure or {}).get("Error") or RefundGatewayError.__name__)
    outcome = RefundFailure(failure=error, declined=error == RefundDeclined.__name__)
    result = claims.act(claim_id, Actor.system("refund"), Action.REFUND_FAILED, outcome, now, repo=repo)
    return _result(result.claim)


# --------------------------------------------------------------------------- waiting stages


def wait_at_stage(claim_id: str, stage: str, token: str, *, repo: Repository | None = None) -> bool:
    """Store the run's callback token on the claim while it is in ``stage``. When the claim has already
    left the stage (completed before the run got here), resume the run at once with the status now.
    Returns whether the token was stored."""
    repo = repo or default_repository()
    if repo.save_task_token(claim_id, token, stage):
        return True
    claim = claims.read(claim_id, WORKFLOW, repo=repo)
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
    """An unexpected failure: the run waits for ops (``claims.park``)."""
    claims.park(claim_id, token, str((failure or {}).get("Error") or "unknown"), now, repo=repo)


def current_status(claim_id: str, *, repo: Repository | None = None) -> StepResult:
    """Where the claim is now (the missed-deadline steps: sla_tick already applied the outcome)."""
    return _result(claims.read(claim_id, WORKFLOW, repo=repo))


def resync(claim_id: str, *, repo: Repository | None = None) -> dict[str, Any]:
    """A wait timed out: where the run must go now. The claim's status, or ``parked`` (with the
    recorded failure) while it still waits for ops; ``NextStage`` routes on it like any status."""
    claim = claims.read(claim_id, WORKFLOW, repo=repo)
    if claim.task_stage == PARKED:
        return {
            "claim_id": claim_id,
            "status": PARKED,
            "failure": {"Error": claim.parked_reason or "unknown"},
        }
    return {**_result(claim), "failure": None}
