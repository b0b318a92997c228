"""Is a claim's workflow run in step with the claim, and if not, what repairs it (the reconciler).

A claim change the run must follow (a new claim, a new status, a cleared task token) marks the claim;
the run confirms it followed by storing its next task token (or by ending with the claim). When the
mark is still there after the grace period, ``repair_for`` compares what the claim says with what the
run is doing and names the one repair, so running the reconciler twice repairs nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aftersales.domain.changes import PARKED
from aftersales.domain.model import Status

RUN_MISSING = "MISSING"
RUN_RUNNING = "RUNNING"


class Repair(StrEnum):
    IN_STEP = "in_step"  # nothing to do: clear the mark
    START_RUN = "start_run"  # no run for an open claim: start it (named by the claim id)
    RESUME_RUN = "resume_run"  # the run waits at a stage the claim has left: complete that task
    STORE_TOKEN = "store_token"  # the run waits at the claim's stage, its token never stored: store it
    WAIT = "wait"  # the run is between steps: look again later
    ALERT_RUN_ENDED = "alert_run_ended"  # the run ended while the claim is open: only ops can help


@dataclass(frozen=True)
class ClaimSide:
    status: Status
    task_stage: str | None  # the stage whose token the claim holds (``parked``: waiting for ops)
    has_token: bool


@dataclass(frozen=True)
class RunSide:
    status: str  # DescribeExecution's status, or ``MISSING``
    waiting_stage: str | None = None  # the stage of the callback task the run waits on now
    has_waiting_token: bool = False


def repair_for(claim: ClaimSide, run: RunSide) -> Repair:
    """The repair that brings ``run`` in step with ``claim``."""
    if run.status == RUN_MISSING:
        return Repair.IN_STEP if claim.status.is_final else Repair.START_RUN
    if run.status != RUN_RUNNING:
        return Repair.IN_STEP if claim.status.is_final else Repair.ALERT_RUN_ENDED
    if claim.has_token and claim.task_stage in (claim.status.value, PARKED):
        return Repair.IN_STEP
    if run.waiting_stage is None or not run.has_waiting_token:
        return Repair.WAIT
    if run.waiting_stage == claim.status.value:
        return Repair.STORE_TOKEN
    return Repair.RESUME_RUN
