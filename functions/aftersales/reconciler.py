"""Bring each claim and its workflow run back in step (run by sla_tick every minute).

Every claim change the run must follow writes a mark in the same transaction (``store``: a new
claim, a new status, a cleared task token); the run's next ``await_stage`` clears it by storing its
token. A mark still there after the grace period (``Settings.run_sync_grace_seconds``) means the flow
broke between "claim committed" and "run advanced": the start failed, SendTaskSuccess was lost, the
wait step never stored its token, or the run ended while the claim is open. The reconciler reads only
the due marks (the sparse sync-index, never a Scan), asks the run (DescribeExecution and its history),
takes the one repair ``domain.run_sync.repair_for`` names, records it on the claim's timeline as the
system and counts it. Each repair is idempotent (a start by name, a completion of a closed task is a
no-op, a token is stored only while the claim is at its stage), so two passes never repair twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aftersales import claims, workflow
from aftersales.domain.claim import Actor
from aftersales.domain.model import Status
from aftersales.domain.run_sync import ClaimSide, Repair, RunSide, repair_for
from aftersales.events import Publisher, event
from aftersales.observability import logger
from aftersales.store import Repository
from aftersales.store.models import ClaimItem, RunSyncItem

RECONCILER = Actor.system("reconciler")
RUN_ENDED = "claim.run_ended"  # the service-bus event for ops: a run ended while its claim is open
REPAIRS = (Repair.START_RUN, Repair.RESUME_RUN, Repair.STORE_TOKEN)


@dataclass
class ReconcileReport:
    checked: int = 0
    repaired: dict[str, int] = field(default_factory=dict)  # repair → claims repaired so
    in_step: int = 0
    waiting: int = 0  # runs between steps: checked again later
    ended_while_open: int = 0
    errors: int = 0
    complete: bool = True

    @property
    def repairs(self) -> int:
        return sum(self.repaired.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "repaired": dict(self.repaired),
            "in_step": self.in_step,
            "waiting": self.waiting,
            "ended_while_open": self.ended_while_open,
            "errors": self.errors,
            "complete": self.complete,
        }


def reconcile_runs(
    now: datetime,
    *,
    repo: Repository,
    publisher: Publisher,
    budget: Callable[[], float] | None = None,
) -> ReconcileReport:
    """Check every claim marked for a check due at ``now`` while ``budget()`` (seconds left) stays
    positive; a pass cut short leaves the rest for the next one (``complete`` False)."""
    report = ReconcileReport()
    if not repo.settings.state_machine_arn:
        return report  # no workflow configured: there is no run to keep in step
    for shard in range(repo.settings.due_shards):
        for mark in repo.runs_to_check(shard, now):
            if budget is not None and budget() <= 0:
                report.complete = False
                return report
            report.checked += 1
            try:
                _reconcile(mark, now, repo, publisher, report)
            except Exception:
                report.errors += 1
                logger.exception("claim run not reconciled", extra={"claim_id": mark.claim_id})
    return report


def _reconcile(
    mark: RunSyncItem, now: datetime, repo: Repository, publisher: Publisher, report: ReconcileReport
) -> None:
    claim = repo.get_claim(mark.claim_id)
    if claim is None:
        repo.clear_run_sync(mark.claim_id, up_to_version=int(mark.claim_version))
        return
    run = workflow.claim_run_state(claim.claim_id)
    status = Status(claim.status)
    repair = repair_for(
        ClaimSide(status, claim.task_stage, bool(claim.task_token)),
        RunSide(run.status, run.waiting_stage, bool(run.waiting_token)),
    )
    logger.info(
        "claim run checked",
        extra={"claim_id": claim.claim_id, "status": claim.status, "run": run.status, "repair": repair},
    )
    if repair is Repair.IN_STEP:
        report.in_step += 1
        repo.clear_run_sync(claim.claim_id, up_to_version=int(claim.version or 0))
        return
    if repair is Repair.WAIT:
        report.waiting += 1
        _check_again(repo, mark, now)
        return
    if repair is Repair.ALERT_RUN_ENDED:
        _alert_run_ended(claim, run.status, now, repo, publisher, report)
        return
    if _apply(repair, claim, run, repo):
        report.repaired[repair.value] = report.repaired.get(repair.value, 0) + 1
        _record(claim, repair, run.status, now, repo, mark)
    # A repaired run confirms itself (its next await_stage clears the mark): look again after the grace.
    _check_again(repo, mark, now)


def _apply(repair: Repair, claim: ClaimItem, run: workflow.RunState, repo: Repository) -> bool:
    """Take ``repair``; whether it changed anything (False: someone else got there first)."""
    if repair is Repair.START_RUN:
        return workflow.start_claim_run(claim.claim_id, {"type": claim.claim_type, "status": claim.status})
    assert run.waiting_token is not None and run.waiting_stage is not None  # repair_for checked them
    if repair is Repair.STORE_TOKEN:
        return repo.save_task_token(claim.claim_id, run.waiting_token, run.waiting_stage)
    # as wait_at_stage does: the stage the run waits at was left; resume it with the status now
    return workflow.complete_task(run.waiting_token, {"claim_id": claim.claim_id, "status": claim.status})


def _record(
    claim: ClaimItem, repair: Repair, run_status: str, now: datetime, repo: Repository, mark: RunSyncItem
) -> None:
    claims.annotate(
        claim.claim_id,
        RECONCILER,
        "run_reconciled",
        now,
        note=f"workflow run repaired: {repair.value}",
        details={"repair": repair.value, "run_status": run_status, "claim_status": claim.status},
        once_key=f"run_sync#{mark.claim_version}#{repair.value}#{int(mark.checks or 0)}",
        repo=repo,
    )


def _alert_run_ended(
    claim: ClaimItem,
    run_status: str,
    now: datetime,
    repo: Repository,
    publisher: Publisher,
    report: ReconcileReport,
) -> None:
    """Nothing automatic can restart a run that ended (its history is the audit): tell ops, once."""
    report.ended_while_open += 1
    details = {"claim_id": claim.claim_id, "status": claim.status, "run_status": run_status}
    recorded = claims.annotate(
        claim.claim_id,
        RECONCILER,
        "run_ended_while_open",
        now,
        note=f"the workflow run ended ({run_status}) while the claim is {claim.status}: ops must act",
        details=details,
        once_key=f"run_ended#{run_status}",
        repo=repo,
    )
    if recorded is not None:
        publisher.publish([event(RUN_ENDED, now, **details)])
        logger.error("claim run ended while the claim is open", extra=details)
    seen = recorded.version if recorded is not None else int(claim.version or 0)
    repo.clear_run_sync(claim.claim_id, up_to_version=seen)


def _check_again(repo: Repository, mark: RunSyncItem, now: datetime) -> None:
    # backs off linearly with the checks so far, so a run stuck for good is not asked every minute
    delay = repo.settings.run_sync_grace_seconds * (1 + int(mark.checks or 0))
    repo.reschedule_run_sync(mark, now + timedelta(seconds=min(delay, 3600)))
