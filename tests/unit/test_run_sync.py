"""The reconciler's rule: which repair brings a claim's run in step with the claim."""

from __future__ import annotations

import pytest
from aftersales.domain.changes import PARKED
from aftersales.domain.model import Status
from aftersales.domain.run_sync import ClaimSide, Repair, RunSide, repair_for

OPEN = ClaimSide(Status.AWAITING_RETURN_SHIPMENT, task_stage=None, has_token=False)
WAITING = ClaimSide(
    Status.AWAITING_RETURN_SHIPMENT, task_stage=Status.AWAITING_RETURN_SHIPMENT.value, has_token=True
)
CLOSED = ClaimSide(Status.CLOSED, task_stage=None, has_token=False)


@pytest.mark.parametrize(
    ("claim", "run", "repair"),
    [
        (OPEN, RunSide("MISSING"), Repair.START_RUN),
        (CLOSED, RunSide("MISSING"), Repair.IN_STEP),
        (WAITING, RunSide("RUNNING", Status.AWAITING_RETURN_SHIPMENT.value, True), Repair.IN_STEP),
        (
            ClaimSide(Status.PENDING_REVIEW, task_stage=PARKED, has_token=True),
            RunSide("RUNNING", PARKED, True),
            Repair.IN_STEP,
        ),
        (OPEN, RunSide("RUNNING", Status.PENDING_REVIEW.value, True), Repair.RESUME_RUN),
        (OPEN, RunSide("RUNNING", Status.AWAITING_RETURN_SHIPMENT.value, True), Repair.STORE_TOKEN),
        (OPEN, RunSide("RUNNING"), Repair.WAIT),
        (OPEN, RunSide("RUNNING", Status.PENDING_REVIEW.value, False), Repair.WAIT),
        # a token stored for a stage the claim has left (a change in flight): the run must be resumed
        (
            ClaimSide(Status.AWAITING_RETURN_SHIPMENT, Status.PENDING_REVIEW.value, has_token=True),
            RunSide("RUNNING", Status.PENDING_REVIEW.value, True),
            Repair.RESUME_RUN,
        ),
        (OPEN, RunSide("SUCCEEDED"), Repair.ALERT_RUN_ENDED),
        (OPEN, RunSide("FAILED"), Repair.ALERT_RUN_ENDED),
        (OPEN, RunSide("TIMED_OUT"), Repair.ALERT_RUN_ENDED),
        (CLOSED, RunSide("SUCCEEDED"), Repair.IN_STEP),
    ],
)
def test_repair_for(claim: ClaimSide, run: RunSide, repair: Repair) -> None:
    assert repair_for(claim, run) is repair
