"""Act on a claim: the domain decides, one conditional transaction writes, the waiting run resumes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales import workflow
from aftersales.calendar_alerts import report_unofficial_calendars
from aftersales.domain import changes
from aftersales.domain.actions import ActionInput
from aftersales.domain.changes import Change
from aftersales.domain.claim import Actor, Claim
from aftersales.domain.model import Action, Status
from aftersales.domain.policy import DeadlineKind
from aftersales.domain.transitions import Transition
from aftersales.observability import logger
from aftersales.service_errors import Conflict
from aftersales.store import ClaimRecord, Repository, VersionConflict, default_repository
from aftersales.store.mapping import item_to_deadline, item_to_entry
from aftersales.store.models import DeadlineItem, TimelineItem

from .common import MAX_ATTEMPTS, count, policy_for, record_in_scope


class ClaimChanged(Conflict):
    """The claim is no longer as the caller decided on: the lapsed deadline it acts on was met, moved or
    paused since it was read (``act(lapsed_due_at=...)``)."""

    code = "claim_changed"


@dataclass(frozen=True)
class ActResult:
    """The claim after the change, the transition taken, and the workflow task token this change
    cleared. ``act`` has already resumed the run waiting on that token: callers must not."""

    claim: Claim
    transition: Transition
    cleared_task_token: str | None


def act(
    claim_id: str,
    actor: Actor,
    action: Action | Callable[[Status], Action],
    given: ActionInput | None,
    now: datetime,
    *,
    repo: Repository | None = None,
    deadline_writes: Sequence[DeadlineItem] | Callable[[ClaimRecord], Sequence[DeadlineItem]] = (),
    lapsed_deadline: DeadlineKind | None = None,
    lapsed_due_at: str | None = None,
) -> ActResult:
    """Take ``action`` on a claim as ``actor``, with the input that action takes (``domain.actions``).
    ``action`` may be a rule that picks it from the claim's status as read (``transitions.buyer_accepts``).

    The domain decides the change (``changes.decide``); one transaction writes the claim (on condition
    its version is the one read), its timeline entry and the deadlines it meets, opens or extends. On a
    lost race it re-reads and re-decides (the action may then be illegal: ``IllegalTransition``); it
    never overwrites. Out-of-scope or missing claims raise ``NotFound``.

    When the change took the waiting run's task token off the claim, the run gets
    ``SendTaskSuccess({claim_id, status})``, or, when ``lapsed_deadline`` says the change is that
    deadline's automatic outcome (sla_tick), ``SendTaskFailure(Deadline.<kind>)``.

    ``deadline_writes``: deadline items written in the same transaction (sla_tick: that deadline, marked
    escalated), or a function of the record read that builds them from the stored items; a deadline the
    change itself writes wins. ``lapsed_due_at``: act only while ``lapsed_deadline`` is still due at
    that instant in the record read, on every attempt (sla_tick read it from the eventually consistent
    due index; met, extended, paused or escalated since: ``ClaimChanged``, never a second escalation).
    """
    repo = repo or default_repository()
    for _ in range(MAX_ATTEMPTS):
        record, claim = record_in_scope(repo, claim_id, actor)
        if lapsed_due_at is not None and _due_at(record, lapsed_deadline) != lapsed_due_at:
            raise ClaimChanged(
                "the deadline was met or moved since it was read", details={"claim_id": claim_id}
            )
        writes = deadline_writes(record) if callable(deadline_writes) else deadline_writes
        deadlines = [item_to_deadline(item) for item in record.deadlines]
        taken = action if isinstance(action, Action) else action(claim.status)
        change = changes.decide(claim, deadlines, actor, taken, given, policy_for(claim, repo), now)
        try:
            repo.commit_change(change, extra_deadlines=writes)
        except VersionConflict:
            logger.info("lost a race on the claim; re-reading", extra={"claim_id": claim_id})
            continue
        moved = change.transition
        assert moved is not None  # decide always takes a transition
        count(change)
        report_unofficial_calendars(claim_id, change.deadlines, now)
        logger.info(
            "claim changed",
            extra={"claim_id": claim_id, "action": taken.value, "from": moved.source, "to": moved.target},
        )
        _resume_run(change, lapsed_deadline)
        return ActResult(change.claim, moved, change.cleared_task_token)
    raise Conflict("the claim kept changing; read it again and retry", details={"claim_id": claim_id})


def _due_at(record: ClaimRecord, kind: DeadlineKind | None) -> str | None:
    stored = next((item for item in record.deadlines if kind is not None and item.kind == kind.value), None)
    return stored.due_at if stored is not None else None


def annotate(
    claim_id: str,
    actor: Actor,
    what: str,
    now: datetime,
    *,
    note: str | None,
    details: Mapping[str, Any],
    once_key: str,
    repo: Repository | None = None,
) -> Claim | None:
    """A timeline entry that changes no status (``what``: e.g. ``parcel_exception``), written once per
    ``once_key`` (kept as ``details.event_key``): None when an entry with that key exists already."""
    repo = repo or default_repository()
    for _ in range(MAX_ATTEMPTS):
        record, claim = record_in_scope(repo, claim_id, actor)
        if any(_event_key(item) == once_key for item in record.timeline):
            return None
        change = changes.annotate(
            claim, actor, what, now, note=note, details={**details, "event_key": once_key}
        )
        try:
            repo.commit_change(change)
        except VersionConflict:
            continue
        return change.claim
    raise Conflict("the claim kept changing; read it again and retry", details={"claim_id": claim_id})


def _event_key(item: TimelineItem) -> str | None:
    details = item_to_entry(item).details
    value = details.get("event_key")
    return str(value) if value else None


def _resume_run(change: Change, lapsed_deadline: DeadlineKind | None = None) -> None:
    """Only the change that cleared the token gets here with it, so each stage completes once. The
    claim change is committed either way: a failure to resume is logged for ops, never raised."""
    token, claim = change.cleared_task_token, change.claim
    if not token:
        return
    try:
        if lapsed_deadline is not None:
            workflow.fail_task(
                token, error=f"Deadline.{lapsed_deadline.value}", cause=claim.status, claim_id=claim.claim_id
            )
        else:
            workflow.complete_task(token, {"claim_id": claim.claim_id, "status": claim.status.value})
    except Exception:
        logger.exception("workflow not resumed; the run waits for ops", extra={"claim_id": claim.claim_id})


def park(claim_id: str, token: str, failure: str, now: datetime, *, repo: Repository | None = None) -> Claim:
    """Record an unexpected failure on the claim (``parked_reason``, a timeline entry) and keep the run
    waiting for ops: the next change of the claim's status resumes it through ``NextStage``."""
    repo = repo or default_repository()
    for _ in range(MAX_ATTEMPTS):
        _, claim = record_in_scope(repo, claim_id, Actor.system("workflow"))
        change = changes.park(claim, token, failure, now)
        try:
            repo.commit_change(change)
        except VersionConflict:
            continue
        logger.warning("claim parked for ops", extra={"claim_id": claim_id, "failure": failure})
        return change.claim
    raise VersionConflict(f"claim {claim_id} kept changing while it was parked")


def resume_parked(claim_id: str, actor: Actor, now: datetime, *, repo: Repository | None = None) -> Claim:
    """Ops let a parked run go on once the cause of its failure is dealt with (a transient outage, a
    fixed bug). The claim keeps its status; the run re-enters ``NextStage`` from it. A claim that is
    not parked is a 409 (``not_parked``), so a double click resumes once."""
    repo = repo or default_repository()
    for _ in range(MAX_ATTEMPTS):
        _, claim = record_in_scope(repo, claim_id, actor)
        change = changes.resume(claim, actor, now)
        try:
            repo.commit_change(change)
        except VersionConflict:
            continue
        _resume_run(change)
        logger.info("parked run resumed by ops", extra={"claim_id": claim_id})
        return change.claim
    raise Conflict("the claim kept changing; read it again and retry", details={"claim_id": claim_id})
