"""The claim workflow under moto: the table, the real state machine executing the real ASL, and its
Lambda tasks running the real handlers in-process (``infra.local``). Polling helpers wait for what
the run does in its own thread; nothing sleeps longer than a poll tick.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from moto import mock_aws

from infra.local.lambda_dispatch import InProcessLambdas, inprocess_lambdas
from infra.local.workflow import create_claim_state_machine, handlers

MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing
POLL_TIMEOUT = 15.0
T = TypeVar("T")

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TABLE_NAME": "aftersales-test",
    "IDEMPOTENCY_TABLE_NAME": "aftersales-idempotency-test",
    "DUE_SHARDS": "4",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "AfterSalesTest",
}


def poll(probe: Callable[[], T | None], *, what: str, timeout: float = POLL_TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # a tick: the run advances in its own thread meanwhile


def clear_process_caches() -> None:
    """Settings and clients are built once per process (cold start); each test is a fresh process."""
    from aftersales import workflow
    from aftersales.config import get_settings
    from aftersales.store import repository

    get_settings.cache_clear()
    repository._repository.cache_clear()
    workflow._stepfunctions.cache_clear()


@dataclass
class ClaimWorkflow:
    """Handles on a running workflow stack; tests drive claims through ``aftersales.claims``."""

    sfn: Any
    state_machine_arn: str
    lambdas: InProcessLambdas

    def execution_arn(self, claim_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{claim_id}"

    def history(self, claim_id: str) -> list[dict[str, Any]]:
        return list(self.sfn.get_execution_history(executionArn=self.execution_arn(claim_id))["events"])

    def states_entered(self, claim_id: str) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(claim_id)
            if event["type"].endswith("StateEntered")
        ]

    def transitions(self, claim_id: str) -> int:
        """State transitions billed for the run so far: one per state entered."""
        return len(self.states_entered(claim_id))

    def waiting_at(self, claim_id: str, stage: str) -> str:
        """Wait until the run waits at ``stage`` with its token stored on the claim; returns the token."""
        from aftersales.store import default_repository

        def stored() -> str | None:
            claim = default_repository().get_claim(claim_id)
            return claim.task_token if claim is not None and claim.task_stage == stage else None

        return poll(stored, what=f"{claim_id} waiting at {stage}")

    def finished(self, claim_id: str) -> dict[str, Any]:
        def closed() -> dict[str, Any] | None:
            found = self.sfn.describe_execution(executionArn=self.execution_arn(claim_id))
            return dict(found) if found["status"] != "RUNNING" else None

        return poll(closed, what=f"{claim_id}'s run to finish")

    def status(self, claim_id: str) -> str:
        return str(self.sfn.describe_execution(executionArn=self.execution_arn(claim_id))["status"])


@pytest.fixture
def claim_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClaimWorkflow]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("STATE_MACHINE_ARN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "MOTO_PORT"):
        monkeypatch.delenv(name, raising=False)
    clock_file = tmp_path / "clock"
    clock_file.write_text(START.isoformat().replace("+00:00", "Z"))
    monkeypatch.setenv("AFTERSALES_CLOCK_FILE", str(clock_file))
    clear_process_caches()
    with mock_aws(config=MOTO_CONFIG):
        from aftersales.store import default_repository
        from aftersales.store.models import TableItem

        default_repository()  # binds the models to the test table
        TableItem.create_table(wait=True)
        boto3.client("dynamodb").create_table(
            TableName=ENV["IDEMPOTENCY_TABLE_NAME"],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sfn = boto3.client("stepfunctions")
        arn = create_claim_state_machine(sfn)
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        clear_process_caches()
        with inprocess_lambdas(handlers()) as lambdas:
            yield ClaimWorkflow(sfn, arn, lambdas)
    clear_process_caches()


def timeline(claim_id: str) -> list[tuple[str, str, str]]:
    """The claim's timeline as (actor id, action, status after)."""
    from aftersales.store import default_repository

    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    return [(entry.actor_id, entry.action, entry.to_status) for entry in record.timeline]


def output_of(execution: dict[str, Any]) -> Any:
    return json.loads(execution["output"]) if execution.get("output") else None
