"""Workflow step ``Review``: the automatic review by policy (approve, reject with a reason code, or
leave it to the merchant and wait for them). Input ``{claim_id, stage: "pending_review", token}`` (a
callback task): the run is resumed with ``{claim_id, status}`` at once, or by the merchant's decision."""

from __future__ import annotations

from typing import Any

from aftersales import clock, workflow_steps
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    claim_id = str(event["claim_id"])
    waiting = workflow_steps.review_and_wait(claim_id, str(event["token"]), clock.now())
    return {"claim_id": claim_id, "stage": event.get("stage"), "waiting": waiting}
