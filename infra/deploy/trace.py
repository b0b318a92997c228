"""Which AWS calls each Lambda handler really makes: a trace of botocore calls, taken while tests run.

Every botocore call (boto3 clients, pynamodb, Powertools) ends in ``BaseClient._make_api_call``. The
tracer wraps it and, when a template handler (``functions/<dir>/app.py:lambda_handler``) is on the
calling thread's stack, records the IAM actions the call needs (a DynamoDB transaction needs the item
action of each of its parts) and the resource it names (table, index, bucket prefix, bus, machine),
attributed to the innermost handler. ``tests/conftest.py`` turns it on for every test run and fails
the run when a handler makes a call that ``infra.deploy.permissions.CALLS`` does not list for it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.client import BaseClient

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
HANDLER_NAME = "lambda_handler"
_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
# Environment variables that name the stack's resources, and the template's logical id for each.
RESOURCE_ENV = {
    "TABLE_NAME": "ClaimsTable",
    "IDEMPOTENCY_TABLE_NAME": "IdempotencyTable",
    "EVIDENCE_BUCKET": "EvidenceBucket",
    "EVENT_BUS_NAME": "ServiceEventBus",
    "CARRIER_EVENTS_QUEUE_URL": "CarrierEventsQueue",
    "SLA_WORK_QUEUE_URL": "SlaWorkQueue",
}
# The carriers' secrets: a path the operator fills (template.yaml: /${AWS::StackName}/carriers).
CARRIER_SECRETS = ("CARRIER_SECRETS_PATH", "parameter/${AWS::StackName}/carriers")

_SEEN: dict[str, str] = {}
Call = tuple[str, str]  # (IAM action, resource: logical id, "<table>/index" or "<bucket>/<prefix>")


def _handler_dir(frame: FrameType | None) -> str | None:
    """The ``functions/<dir>`` of the innermost template handler on this stack, if any."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == HANDLER_NAME:
            path = Path(code.co_filename)
            if path.name == "app.py" and path.parent.parent == FUNCTIONS_DIR:
                return path.parent.name
        frame = frame.f_back
    return None


def _resource(name: str | None) -> str:
    if not name:
        return "*"
    # Every name the environment gave a resource so far: a workflow run that outlived its test calls
    # on after the environment was restored, on the table it was started with.
    _SEEN.update({os.environ[var]: logical for var, logical in RESOURCE_ENV.items() if os.environ.get(var)})
    return _SEEN.get(name, name)


def calls_of(service: str, operation: str, params: Mapping[str, Any]) -> list[Call]:
    """The (IAM action, resource) pairs one botocore call needs."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        found = []
        for item in params.get("TransactItems") or []:
            ((kind, body),) = item.items()
            found.append((f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", _resource(body.get("TableName"))))
        return found
    if service == "dynamodb" and operation == "TransactGetItems":
        return [("dynamodb:GetItem", _resource(i["Get"].get("TableName"))) for i in params["TransactItems"]]
    if service == "dynamodb" and operation == "BatchGetItem":
        return [("dynamodb:BatchGetItem", _resource(t)) for t in params.get("RequestItems") or {}]
    if service == "dynamodb":
        resource = _resource(params.get("TableName"))
        return [(f"dynamodb:{operation}", f"{resource}/index" if params.get("IndexName") else resource)]
    if service == "s3":
        key = str(params.get("Key") or "")
        prefix = key.split("/", 1)[0] + "/" if "/" in key else key
        return [(f"s3:{operation}", f"{_resource(params.get('Bucket'))}/{prefix}")]
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
        return [("sqs:SendMessage", _resource(params.get("QueueUrl")))]  # one IAM action for both
    if service == "ssm" and operation == "GetParametersByPath":
        variable, granted = CARRIER_SECRETS
        path = str(params.get("Path") or "").rstrip("/")
        return [
            ("ssm:GetParametersByPath", granted if path == os.environ.get(variable, "").rstrip("/") else path)
        ]
    if service == "states":
        return [(f"states:{operation}", "ClaimStateMachine")]
    if service == "events":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries") or []}
        return [(f"events:{operation}", _resource(bus)) for bus in sorted(buses) or ["default"]]
    return [(f"{service}:{operation}", "*")]


class CallTrace:
    """Calls seen per handler directory (``claims_api``, ``sla_tick``, ...)."""

    def __init__(self) -> None:
        self.calls: dict[str, set[Call]] = defaultdict(set)
        self._lock = threading.Lock()

    def record(self, handler: str, calls: list[Call]) -> None:
        with self._lock:
            self.calls[handler].update(calls)


@contextmanager
def tracing() -> Iterator[CallTrace]:
    """Record, until exit, the AWS calls every template handler makes, in every thread."""
    trace = CallTrace()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def traced(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        handler = _handler_dir(sys._getframe(1))
        if handler is not None:
            service = client.meta.service_model.endpoint_prefix
            trace.record(handler, calls_of(service, operation_name, api_params))
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = traced  # type: ignore[attr-defined]
    try:
        yield trace
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]
