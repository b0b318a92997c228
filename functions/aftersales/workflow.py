"""Step Functions: one execution per claim, named after the claim so console, CLI and logs agree."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from aftersales.config import Settings, get_settings
from aftersales.observability import logger


@cache
def _stepfunctions(region: str) -> Any:
    return boto3.client("stepfunctions", region_name=region)


def start_claim_run(claim_id: str, claim_input: dict[str, Any], *, settings: Settings | None = None) -> bool:
    """Start the claim's workflow execution (name = claim id). Returns whether one runs for the claim.

    Without a configured state machine nothing is started (False). Starting twice is harmless: an
    execution that already exists for the claim counts as started.
    """
    settings = settings or get_settings()
    if not settings.state_machine_arn:
        return False
    try:
        _stepfunctions(settings.region).start_execution(
            stateMachineArn=settings.state_machine_arn,
            name=claim_id,
            input=json.dumps({"claim_id": claim_id, **claim_input}),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        logger.info("claim run already started", extra={"claim_id": claim_id})
    return True


def complete_task(token: str | None, output: dict[str, Any], *, settings: Settings | None = None) -> bool:
    """Resume the workflow waiting on ``token`` (the one ``claims.act`` cleared). A task that already
    finished or timed out is not an error: the claim change it reports is already committed."""
    if not token:
        return False
    settings = settings or get_settings()
    try:
        _stepfunctions(settings.region).send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "TaskDoesNotExist",
            "TaskTimedOut",
            "InvalidToken",
        ):
            raise
        logger.info("workflow task already finished", extra={"claim_id": output.get("claim_id")})
    return True
