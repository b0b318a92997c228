"""Step Functions: one execution per claim, named after the claim so console, CLI and logs agree.

Callback tasks are completed only by ``aftersales.claims.act`` (the change that cleared the stored
token) and by the ``await_stage`` Lambda (a stage already left before the run got there). A late or
duplicate completion finds the task closed: that is logged and ignored, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from aftersales.config import Settings, get_settings
from aftersales.observability import logger
from aftersales.process import per_process

# AWS answers a closed task with TaskTimedOut or TaskDoesNotExist; moto with InvalidToken (docs/moto.md).
TASK_ALREADY_CLOSED = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


@per_process
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
    """Resume the run waiting on ``token`` with ``output`` (``{claim_id, status}``). Returns whether
    this call resumed it; False for no token or a task already closed (logged no-op)."""
    if not token:
        return False
    settings = settings or get_settings()
    return _send(
        lambda client: client.send_task_success(taskToken=token, output=json.dumps(output)),
        output.get("claim_id"),
        settings=settings,
    )


def fail_task(
    token: str | None,
    *,
    error: str,
    cause: str,
    claim_id: str | None = None,
    settings: Settings | None = None,
) -> bool:
    """Fail the waiting task with ``error`` (e.g. ``Deadline.return_shipment``) so a Catch routes it.
    Returns whether this call failed it; False for no token or a task already closed."""
    if not token:
        return False
    settings = settings or get_settings()
    return _send(
        lambda client: client.send_task_failure(taskToken=token, error=error, cause=cause),
        claim_id,
        settings=settings,
    )


def _send(call: Any, claim_id: str | None, *, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    try:
        call(_stepfunctions(settings.region))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in TASK_ALREADY_CLOSED:
            raise
        logger.info(
            "workflow task already closed; late or duplicate completion ignored", extra={"claim_id": claim_id}
        )
        return False
    return True


# --------------------------------------------------------------------------- run state (reconciler)

_CALLBACK_RESOURCE = "invoke.waitForTaskToken"
_TASK_CLOSED_EVENTS = frozenset({"TaskSucceeded", "TaskFailed", "TaskTimedOut"})


@dataclass(frozen=True)
class RunState:
    """What a claim's run is doing: ``status`` is DescribeExecution's (``RUNNING``, ``SUCCEEDED``, …),
    or ``MISSING`` when no execution exists for the claim. ``waiting_stage``/``waiting_token``: the
    callback task the run waits on now, if any."""

    status: str
    waiting_stage: str | None = None
    waiting_token: str | None = None


MISSING = "MISSING"
RUNNING = "RUNNING"


def claim_run_state(claim_id: str, *, settings: Settings | None = None) -> RunState:
    """The claim's execution (DescribeExecution) and, while it runs, the callback task it waits on
    (the latest open ``waitForTaskToken`` task of its history, whose parameters carry stage and token)."""
    settings = settings or get_settings()
    client = _stepfunctions(settings.region)
    arn = execution_arn(settings.state_machine_arn, claim_id)
    try:
        status = client.describe_execution(executionArn=arn)["status"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
            raise
        return RunState(MISSING)
    if status != RUNNING:
        return RunState(status)
    stage, token = _open_callback(client, arn)
    return RunState(status, stage, token)


def execution_arn(state_machine_arn: str, claim_id: str) -> str:
    """The claim's execution ARN: the state machine's, as an execution, named by the claim id."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{claim_id}"


def _open_callback(client: Any, arn: str) -> tuple[str | None, str | None]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = client.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    for event in reversed(events):
        if event.get("type") in _TASK_CLOSED_EVENTS and _is_callback(event, event["type"]):
            return None, None  # the latest callback task is closed: the run is between waits
        if event.get("type") == "TaskScheduled" and _is_callback(event, "TaskScheduled"):
            details = event.get("taskScheduledEventDetails", {})
            payload = json.loads(details.get("parameters") or "{}").get("Payload", {})
            return payload.get("stage"), payload.get("token")
    return None, None


def _is_callback(event: dict[str, Any], event_type: str) -> bool:
    key = event_type[0].lower() + event_type[1:] + "EventDetails"
    return str(event.get(key, {}).get("resource", "")).endswith(_CALLBACK_RESOURCE)
