"""The workflow's waiting stages (``Await*``, ``ParkForOps``) and missed-deadline steps.

- ``{claim_id, stage, token}``: store the callback token on the claim while it is in ``stage``; a stage
  already left is resumed at once (decision 0004).
- ``{claim_id, stage: "parked", failure, token}``: record the failure on the claim, wait for ops.
- ``{claim_id, deadline}`` (no token): answer ``{claim_id, status}`` as sla_tick's outcome left it.
- ``{claim_id, resync: true}``: a wait timed out; answer where the run goes now (``workflow_steps.resync``).
"""

from __future__ import annotations

from typing import Any

from aftersales import clock, workflow_steps
from aftersales.domain.changes import PARKED
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    claim_id, token, stage = str(event["claim_id"]), event.get("token"), event.get("stage")
    if event.get("resync"):
        return workflow_steps.resync(claim_id)
    if not token:
        return workflow_steps.current_status(claim_id)
    if stage == PARKED:
        workflow_steps.park(claim_id, token, event.get("failure"), clock.now())
    else:
        workflow_steps.wait_at_stage(claim_id, str(stage), token)
    return {"claim_id": claim_id, "stage": stage, "waiting": True}
