"""Workflow step ``Review``: the automatic review by policy (approve, reject with a reason code, or
leave it to the merchant). Input ``{claim_id}``, output ``{claim_id, status}``."""

from __future__ import annotations

from typing import Any

from aftersales import clock, workflow_steps
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # results carry claim and order data
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return workflow_steps.review_claim(str(event["claim_id"]), clock.now())
