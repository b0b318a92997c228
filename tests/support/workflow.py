"""The claim workflow under moto: the table, the real state machine executing the real ASL, and its
Lambda tasks running the real handlers in-process (``infra.local``). ``ClaimWorkflow`` and its polling
helpers live in ``infra.local.workflow`` (the benchmarks use them too); they wait for what the run does
in its own thread; nothing sleeps longer than a poll tick.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from aftersales.process import reset_process_state
from moto import mock_aws

from infra.local.lambda_dispatch import inprocess_lambdas
from infra.local.moto_env import MOTO_CONFIG, create_idempotency_table
from infra.local.workflow import (
    ClaimWorkflow,
    create_claim_state_machine,
    handlers,
)

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing

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


@pytest.fixture
def claim_workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClaimWorkflow]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("STATE_MACHINE_ARN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "MOTO_PORT"):
        monkeypatch.delenv(name, raising=False)
    clock_file = tmp_path / "clock"
    clock_file.write_text(START.isoformat().replace("+00:00", "Z"))
    monkeypatch.setenv("AFTERSALES_CLOCK_FILE", str(clock_file))
    reset_process_state()
    with mock_aws(config=MOTO_CONFIG):
        from aftersales.store import default_repository

        default_repository().create_table()
        create_idempotency_table(boto3.client("dynamodb"), ENV["IDEMPOTENCY_TABLE_NAME"])
        sfn = boto3.client("stepfunctions")
        arn = create_claim_state_machine(sfn)
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        reset_process_state()
        with inprocess_lambdas(handlers()) as lambdas:
            yield ClaimWorkflow(sfn, arn, lambdas)
    reset_process_state()


def timeline(claim_id: str) -> list[tuple[str, str, str]]:
    """The claim's timeline as (actor id, action, status after)."""
    from aftersales.store import default_repository

    record = default_repository().get_claim_record(claim_id)
    assert record is not None
    return [(entry.actor_id, entry.action, entry.to_status) for entry in record.timeline]


def output_of(execution: dict[str, Any]) -> Any:
    return json.loads(execution["output"]) if execution.get("output") else None
