"""Workflow steps ``Refund`` (input ``{claim_id}``: pay once and close) and ``RecordRefundFailure``
(input ``{claim_id, failure}``: the gateway kept failing, the claim waits in ``refund_failed``).
A ``RefundGatewayError`` is raised on purpose: the state machine retries it by name."""

from __future__ import annotations

from typing import Any

from aftersales import clock, workflow_steps
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    claim_id = str(event["claim_id"])
    if "failure" in event:
        return workflow_steps.record_refund_failure(claim_id, event["failure"], clock.now())
    return workflow_steps.refund_claim(claim_id, clock.now())
